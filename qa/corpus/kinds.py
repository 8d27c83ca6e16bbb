"""Which kind of document a text is (inspection report, letter, minutes, council report,
news article), by the conventions of each kind, never by a council or a file.
"""

from __future__ import annotations

import re

from qa.corpus.header import HEADER_CHARS, inspection_cover, is_letter
from qa.types import DocumentKind

# Minutes report what a committee did, in the past tense: 18 such sentences in the 2017
# scrutiny minutes, none in the 24 reports, letters and articles measured.
_MINUTE_SENTENCES = re.compile(
    r"\b(?:The\s+(?:Sub-)?Committee|The\s+Panel|The\s+Board|Members|Councillors|Cllr\s+[A-Z]\w+)\s+"
    r"(?:learned|learnt|heard|noted|agreed|resolved|was\s+informed|were\s+informed|asked|requested"
    r"|felt|proposed|acknowledged|concluded|discussed|queried|welcomed|expressed|considered|received)\b"
)
_MINUTES_HEADING = re.compile(r"^\W*minutes\s+of\b", re.IGNORECASE | re.MULTILINE)
# Header fields and sections of reports to a cabinet, council or committee (Croydon's
# cabinet and scrutiny templates, the Northmoor report and update).
_REPORT_FIELDS = re.compile(
    r"^\W*(?P<label>report\s+to|report\s+title|report\s+of|report\s+author|subject|lead\s+officer"
    r"|cabinet\s+member|lead\s+member|portfolio\s+holder|wards(?:\s+affected)?|date\s+of\s+decision"
    r"|key\s+decision|meeting\s+date|date\s+of\s+meeting|prepared\s+for|origin\s+of\s+item"
    r"|brief\s+for\s+the\s+committee|corporate\s+director|contains\s+exempt\s+information"
    r"|corporate\s+priority|financial\s+(?:impact|implications)|legal\s+implications)\b",
    re.IGNORECASE | re.MULTILINE,
)
# The furniture of a web article (the InsideCroydon page: "This entry was posted in",
# "Bookmark the permalink", "Leave a Reply", "1 Response to ...", "More on this story").
_NEWS_SIGNALS = tuple(
    re.compile(pattern, re.IGNORECASE | re.MULTILINE)
    for pattern in (
        r"\bposted\s+(?:in|on|by)\b",
        r"\bpermalink\b",
        r"\bleave\s+a\s+(?:reply|comment)\b",
        r"^\s*\d+\s+(?:responses?|comments?)\s+(?:to|on)\b",
        r"\bmore\s+on\s+this\s+story\b",
        r"\bshare\s+this(?:\s+article|\s+story)?\s*:",
        r"\bwas\s+quoted\b",
        r"^\s*by\s+(?-i:[A-Z][a-z]+\s+[A-Z][a-z]+)\s*$",  # a byline
    )
)


def kind_from_text(text: str, title: str) -> DocumentKind:
    """Which kind of document this is, by the conventions of each kind.

    An inspection report's cover is decisive; a title "Inspection of ..." without one
    (an HTML page of a report) is checked after the other kinds' headers, so that a
    council report titled after the inspection stays a council report.
    """
    if inspection_cover(text):
        return DocumentKind.INSPECTION_REPORT
    head = text[:HEADER_CHARS]
    if is_letter(text):
        return DocumentKind.LETTER
    if len(_MINUTE_SENTENCES.findall(text)) >= 3 or _MINUTES_HEADING.search(head):
        return DocumentKind.MINUTES
    labels = {" ".join(m["label"].lower().split()) for m in _REPORT_FIELDS.finditer(head)}
    if len(labels) >= 2:
        return DocumentKind.COUNCIL_REPORT
    if re.match(r"(?i)inspection\s+of\b", title):
        return DocumentKind.INSPECTION_REPORT
    if sum(1 for signal in _NEWS_SIGNALS if signal.search(text)) >= 2:
        return DocumentKind.NEWS
    return DocumentKind.OTHER
