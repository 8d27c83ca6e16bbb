"""Title, organisation, kind and date of a document, read from what it states (pure).

Users bring PDFs named by a publisher's file id ("50263391.pdf"), so the file name
says nothing; the text does. Every rule here reads a convention of a KIND of
document (the Ofsted cover page, a council report's header fields, a letter's
salutation, a web article's furniture), never a council or a file.

Example::

    meta = extract_metadata("50263391.pdf", text)
    meta.title         # "Inspection of Croydon local authority children's services"
    meta.organisation  # "Croydon"
    meta.kind          # DocumentKind.INSPECTION_REPORT
    meta.date          # "2024-10-25": the last day of the inspection

Decisions, and the evidence behind them:

- **Date.** A dated header field ("DATE OF DECISION 4th December 2024", "REPORT
  TO: CABINET 23rd MARCH 2020", "Published: 21 March 2023") → for a letter, its
  date line → a date in the file name ("...-2020-03-...") → none. File times are
  never used: a copy or a download changes them. An inspection report gets the last
  day of its "Inspection dates" range: none of the 17 ILACS reports prints its
  publication date (only "© Crown copyright"), which follows 31–118 days later
  (median 42, reports.csv), and Ofsted names an inspection by when it took place
  ("since the last inspection in 2021" in Sutton's 2025 report means the December
  2021 inspection published in February 2022).
- **Organisation** is a display name without the authority's type: "London Borough
  of Croydon", "Croydon Council" and "CROYDON" are all "Croydon"; "City of Bradford
  Metropolitan District Council" and "Bradford Children and Families Trust" (the
  trust runs the council's children's services) are "Bradford". Ofsted's own
  reports name the same council in several such forms (see tests/test_metadata.py),
  so only the place name matches them all. :func:`organisation_key` is the form to
  compare (lower case, no punctuation, "&" as "and").
- **Title**: an inspection report's cover (before 2021 its masthead joined to the
  generic heading: "London Borough of Croydon: Inspection of children's social care
  services"), a letter's subject line, a title field, the format's own title, a
  top-level heading, a report's stated purpose, a short opening line, the file name;
  in that order of trust.
- A sidecar file (:class:`Overrides`, read by ``qa.corpus.files.read_sidecar``)
  overrides any of the four.

For the rest of the product: :func:`extract_metadata` gives the :class:`Metadata` of a
document; :mod:`qa.corpus.organisations` the display and matching forms of a name
and the organisations of a corpus that a question names.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from qa.corpus.organisations import organisation_from_mentions, organisation_name
from qa.types import DocumentKind

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_FULL_DATE = re.compile(
    rf"\b(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH})\.?,?\s+(?P<year>(?:19|20)\d\d)\b",
    re.IGNORECASE,
)
_MONTH_YEAR = re.compile(rf"\b(?P<month>{_MONTH})\.?,?\s+(?P<year>(?:19|20)\d\d)\b", re.IGNORECASE)
_ISO_DATE = re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)(?:-(?P<day>[0-3]\d))?\b")
_NAME_DATE = re.compile(
    r"(?<!\d)(?P<year>(?:19|20)\d\d)(?:[-_.](?P<month>[01]\d))?(?:[-_.](?P<day>[0-3]\d))?(?!\d)"
)
_FIELD = re.compile(
    r"^\s*(?P<label>[A-Z][A-Za-z ?/&'’-]{1,40}?)\s*(?::\s*|\t+\s*|\s{2,})(?P<value>\S.*)$"
)
# A label alone on its line, its value on the next: PDF tables of council report
# headers come out this way ("ORIGIN OF ITEM:" / "This item is contained in ...").
_LABEL_LINE = re.compile(r"^\s*(?P<label>[A-Z][A-Za-z ?/&'’-]{1,40}?)\s*:\s*$")
_TITLE_LABELS = ("report title", "title", "subject")
_DATE_LABELS = ("date", "report to", "meeting", "published")
_HEADER_CHARS = 4000


@dataclass(frozen=True)
class Overrides:
    """What a sidecar file states about a document; ``None`` keeps what the text says."""

    title: str | None = None
    date: str | None = None
    organisation: str | None = None
    kind: DocumentKind | None = None


@dataclass(frozen=True)
class Metadata:
    """The facts a citation and a filter need, as the document states them.

    ``organisation`` is the council or body the document is about, as a display name
    ("Croydon", "West Sussex"), or ``None`` when the text does not say. ``date`` is
    a partial ISO date ("2024-12-04", "2020-03", "2017") as precise as stated.
    """

    title: str
    date: str | None
    organisation: str | None
    kind: DocumentKind


# --- dates ---------------------------------------------------------------------------------------


def partial_iso(year: int, month: int | None = None, day: int | None = None) -> str | None:
    """``2024-12-04``, ``2024-12`` or ``2024``; None for an impossible date."""
    if month is None:
        return f"{year:04d}"
    if not 1 <= month <= 12:
        return None
    if day is None:
        return f"{year:04d}-{month:02d}"
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def find_dates(text: str) -> list[tuple[int, str]]:
    """Every stated date in ``text`` as (offset, partial ISO date), in order of appearance."""
    found: dict[int, str] = {}
    covered: list[range] = []
    for match in _FULL_DATE.finditer(text):
        value = partial_iso(int(match["year"]), _MONTHS[match["month"].lower()], int(match["day"]))
        if value:
            found[match.start()] = value
            covered.append(range(match.start(), match.end()))
    for match in _MONTH_YEAR.finditer(text):
        if any(match.start() in span for span in covered):
            continue
        value = partial_iso(int(match["year"]), _MONTHS[match["month"].lower()])
        if value:
            found[match.start()] = value
    for match in _ISO_DATE.finditer(text):
        day = int(match["day"]) if match["day"] else None
        value = partial_iso(int(match["year"]), int(match["month"]), day)
        if value:
            found[match.start()] = value
    return sorted(found.items())


def _fields(text: str) -> list[tuple[str, str]]:
    """``LABEL: value`` / ``LABEL<TAB>value`` lines of the document's header, and a
    ``LABEL:`` line followed by its value on the next line that has text."""
    pairs = []
    lines = text[:_HEADER_CHARS].splitlines()
    for i, line in enumerate(lines):
        match = _FIELD.match(line)
        if match:
            pairs.append((match["label"].strip().lower(), match["value"].strip()))
            continue
        alone = _LABEL_LINE.match(line)
        if alone:
            following = next((later for later in lines[i + 1 : i + 3] if later.strip()), "")
            if following and not _FIELD.match(following):
                pairs.append((alone["label"].strip().lower(), following.strip()))
    return pairs


def date_from_text(text: str) -> str | None:
    """The date in a dated header field, preferring labels that say "date".

    A field of dates is a range ("Inspection dates: 3 June 2024 to 14 June 2024"):
    its last date, the day the work ended, is the one that dates the document.
    """
    candidates = []
    for label, value in _fields(text):
        if any(word in label for word in _DATE_LABELS):
            dates = find_dates(value)
            if dates:
                stated = dates[-1] if "dates" in label else dates[0]
                candidates.append((0 if "date" in label else 1, stated[1]))
    return min(candidates)[1] if candidates else None


# A letter is dated on a line of its own above the addressee ("14 December 2019").
_DATE_LINE = re.compile(rf"^\s*(?:\w+day,?\s+)?{_FULL_DATE.pattern}\s*$", re.IGNORECASE)


def _letter_date(text: str) -> str | None:
    for line in text[:_HEADER_CHARS].splitlines():
        if _DATE_LINE.match(line):
            return find_dates(line)[0][1]
    return None


def date_from_name(source: str) -> str | None:
    """A year, year-month or full date written in the file name."""
    match = _NAME_DATE.search(PurePosixPath(source).name)
    if not match:
        return None
    month = int(match["month"]) if match["month"] else None
    day = int(match["day"]) if match["day"] and month else None
    return partial_iso(int(match["year"]), month, day) or partial_iso(int(match["year"]))


# Ofsted's cover, before the judgement table, in every template 2018–2026:
#   [page number] [masthead: "Oxfordshire County Council"] "Inspection of ..." "Inspection dates: ..."
# Matched on the text with its line breaks collapsed, so a reader that wraps the title
# differently ("Inspection of London Borough of / Sutton local authority children's / services")
# reads the same.
_COVER = re.compile(
    r"^[\W\d]*(?P<masthead>(?:\S+\s+){0,8}?)(?P<heading>Inspection\s+of\s.+?)\s+Inspection\s+dates?\s*:",
    re.IGNORECASE,
)
_COVER_CHARS = 600  # the covers measured put "Inspection dates" within 250 characters
_INSPECTION_SUBJECT = re.compile(
    r"^Inspection\s+of\s+(?P<subject>.*?)\s*(?:local\s+authority\s*)?"
    r"(?:children['’]s\s+(?:social\s+care\s+)?services)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Cover:
    title: str
    organisation: str | None


def _inspection_cover(text: str) -> _Cover | None:
    """Title and organisation on an inspection report's cover.

    Until 2019 the council stands above a generic heading ("London Borough of Croydon" /
    "Inspection of children's social care services"): the title joins the two, or five
    councils' reports would share one title. From 2021 the heading names the council.
    """
    head = " ".join(text[: _COVER_CHARS * 2].split())[:_COVER_CHARS]
    match = _COVER.match(head)
    if not match:
        return None
    heading = match["heading"]
    subject = _inspection_subject(heading)
    masthead = match["masthead"].strip()
    if subject:
        return _Cover(heading, organisation_name(subject))
    if masthead:
        return _Cover(f"{masthead}: {heading}", organisation_name(masthead))
    return _Cover(heading, None)


def _inspection_subject(title: str) -> str | None:
    """The council in an inspection's title: "Inspection of Sutton local authority
    children's services" → "Sutton"; None for a generic heading."""
    match = _INSPECTION_SUBJECT.match(title)
    return match["subject"] if match and match["subject"] else None


# --- titles --------------------------------------------------------------------------------------

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
_SALUTATION = re.compile(r"^\s*Dear\s+\S.*$", re.MULTILINE)


def _clean(line: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", line)).strip(" #\t")


def _title_from_purpose(text: str) -> str | None:
    """The subject of a report that states its purpose but not its title."""
    match = _PURPOSE.search(text[:_HEADER_CHARS])
    if not match:
        return None
    subject = _clean(_PURPOSE_VERBS.sub("", " ".join(match["value"].split())))
    return subject[:1].upper() + subject[1:] if len(subject.split()) >= 3 else None


def _letter_subject(text: str) -> str | None:
    """The subject line under a letter's salutation ("Monitoring visit to ...")."""
    salutation = _SALUTATION.search(text[:_HEADER_CHARS])
    if not salutation:
        return None
    after = text[salutation.end() : salutation.end() + 400].strip().splitlines()
    line = after[0].strip() if after else ""
    return _clean(line) if 2 <= len(line.split()) <= 20 and not line.endswith(".") else None


def _opening_line(text: str) -> str | None:
    """A short line standing alone among the first lines, not a field, bullet or number."""
    lines = text[:_HEADER_CHARS].splitlines()
    for i, line in enumerate(lines[:40]):
        stands_alone = i + 1 >= len(lines) or not lines[i + 1].strip()
        if (
            4 <= len(line.split()) <= 20
            and stands_alone
            and not re.search(r"[:.,;]\s*$", line)
            and not _FIELD.match(line)
            and not _BULLET_OR_NUMBER.match(line)
        ):
            return _clean(line)
    return None


def _title_from_text(text: str, stated_title: str | None) -> str | None:
    """A title field, the format's title, a top-level heading, a stated purpose, or a
    short opening line: the first that the document has.

    A printed title field beats the format's title: PDF metadata titles are left over
    from templates ("Wakefield standard inspection report" on a Bradford report).
    """
    for label, value in _fields(text):
        if label in _TITLE_LABELS and len(value.split()) >= 2:
            return _clean(value)
    if stated_title and stated_title.strip():
        return stated_title.strip()
    for line in text[:_HEADER_CHARS].splitlines():
        if re.match(r"^#{1,2}\s+\S", line):
            return _clean(line)
    return _title_from_purpose(text) or _opening_line(text)


def title_from_name(source: str) -> str:
    """The file name as words ("my_report-file.txt" → "My report file"): the last resort."""
    stem = PurePosixPath(source).stem
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else source


# --- kinds ---------------------------------------------------------------------------------------

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


def _is_letter(text: str) -> bool:
    return bool(
        _SALUTATION.search(text[:_HEADER_CHARS])
        and re.search(r"\bYours\s+(?:sincerely|faithfully)\b", text)
    )


def kind_from_text(text: str, title: str) -> DocumentKind:
    """Which kind of document this is, by the conventions of each kind.

    An inspection report's cover is decisive; a title "Inspection of ..." without one
    (an HTML page of a report) is checked after the other kinds' headers, so that a
    council report titled after the inspection stays a council report.
    """
    if _inspection_cover(text):
        return DocumentKind.INSPECTION_REPORT
    head = text[:_HEADER_CHARS]
    if _is_letter(text):
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


# --- the record ----------------------------------------------------------------------------------


def extract_metadata(
    source: str, text: str, stated_title: str | None = None, overrides: Overrides | None = None
) -> Metadata:
    """Title, organisation, kind and date of one document.

    ``stated_title`` is the title its file format carries (PDF, DOCX, HTML);
    ``overrides`` what its sidecar file states, which wins over the text.
    """
    overrides = overrides or Overrides()
    cover = _inspection_cover(text)
    if cover:
        title = cover.title
    else:
        title = (
            (_letter_subject(text) if _is_letter(text) else None)
            or _title_from_text(text, stated_title)
            or title_from_name(source)
        )
    kind = kind_from_text(text, title)
    subject = _inspection_subject(title) if kind is DocumentKind.INSPECTION_REPORT else None
    organisation = (
        (cover.organisation if cover else None)
        or (organisation_name(subject) if subject else None)
        or organisation_from_mentions(text)
    )
    date = date_from_text(text)
    if date is None and kind is DocumentKind.LETTER:
        date = _letter_date(text)
    return Metadata(
        title=overrides.title or title,
        date=overrides.date or date or date_from_name(source),
        organisation=overrides.organisation or organisation,
        kind=overrides.kind or kind,
    )
