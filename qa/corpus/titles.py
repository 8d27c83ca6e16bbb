"""The title of a document, as its text states it.

An inspection report's cover comes first (:func:`qa.corpus.header.inspection_cover`),
then a letter's subject line, a title field, the format's own title, a top-level
heading, a report's stated purpose, a short opening line, the file name; in that order
of trust (:func:`qa.corpus.metadata.extract_metadata` applies the order).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from qa.corpus.header import FIELD, HEADER_CHARS, SALUTATION, header_fields

_TITLE_LABELS = ("report title", "title", "subject")

# "BRIEF FOR THE COMMITTEE: To review and consider <subject>." (the label wrapped over
# two lines in the 2019 scrutiny report), "Purpose of report: To update members on <subject>."
_PURPOSE = re.compile(
    r"^[ \t]*(?:brief\s+for\s+the\s+(?:committee|cabinet|board|panel)|purpose(?:\s+of\s+(?:the\s+|this\s+)?report)?)"
    r"[ \t]*:?\s*(?P<value>To\s.+?)(?:[.;:](?:\s|$)|\n[ \t]*\n)",
    re.IGNORECASE | re.MULTILINE | re.DOTALL,
)
_PURPOSE_VERBS = re.compile(
    r"^To\s+(?:\w+\s+(?:and|or)\s+)?\w+\s+(?:(?:the\s+)?(?:members|committee|cabinet|council|board)\s+(?:on|of|about|with)\s+)?",
    re.IGNORECASE,
)
_BULLET_OR_NUMBER = re.compile(r"^\s*(?:[^\w\s\"“‘'(]|\d+(?:\.\d+)*\.?\s)")


def _clean(line: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", line)).strip(" #\t")


def _title_from_purpose(text: str) -> str | None:
    """The subject of a report that states its purpose but not its title."""
    match = _PURPOSE.search(text[:HEADER_CHARS])
    if not match:
        return None
    subject = _clean(_PURPOSE_VERBS.sub("", " ".join(match["value"].split())))
    return subject[:1].upper() + subject[1:] if len(subject.split()) >= 3 else None


def letter_subject(text: str) -> str | None:
    """The subject line under a letter's salutation ("Monitoring visit to ...")."""
    salutation = SALUTATION.search(text[:HEADER_CHARS])
    if not salutation:
        return None
    after = text[salutation.end() : salutation.end() + 400].strip().splitlines()
    line = after[0].strip() if after else ""
    return _clean(line) if 2 <= len(line.split()) <= 20 and not line.endswith(".") else None


def _opening_line(text: str) -> str | None:
    """A short line standing alone among the first lines, not a field, bullet or number."""
    lines = text[:HEADER_CHARS].splitlines()
    for i, line in enumerate(lines[:40]):
        stands_alone = i + 1 >= len(lines) or not lines[i + 1].strip()
        if (
            4 <= len(line.split()) <= 20
            and stands_alone
            and not re.search(r"[:.,;]\s*$", line)
            and not FIELD.match(line)
            and not _BULLET_OR_NUMBER.match(line)
        ):
            return _clean(line)
    return None


def title_from_text(text: str, stated_title: str | None) -> str | None:
    """A title field, the format's title, a top-level heading, a stated purpose, or a
    short opening line: the first that the document has.

    A printed title field beats the format's title: PDF metadata titles are left over
    from templates ("Wakefield standard inspection report" on a Bradford report).
    """
    for label, value in header_fields(text):
        if label in _TITLE_LABELS and len(value.split()) >= 2:
            return _clean(value)
    if stated_title and stated_title.strip():
        return stated_title.strip()
    for line in text[:HEADER_CHARS].splitlines():
        if re.match(r"^#{1,2}\s+\S", line):
            return _clean(line)
    return _title_from_purpose(text) or _opening_line(text)


def title_from_name(source: str) -> str:
    """The file name as words ("my_report-file.txt" → "My report file"): the last resort."""
    stem = PurePosixPath(source).stem
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else source
