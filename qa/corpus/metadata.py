"""Title and date of a document, read from what the document itself states (pure).

Order of trust for the date: a dated header field ("DATE OF DECISION 4th
December 2024", "REPORT TO: CABINET 23rd MARCH 2020") → a date in the file
name ("...-2020-03-...") → none. File times are never used: a copy or a
download changes them. A sidecar file can override both (see corpus.py).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

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
_TITLE_LABELS = ("report title", "title", "subject")
_DATE_LABELS = ("date", "report to", "meeting", "published")
_HEADER_CHARS = 4000


@dataclass(frozen=True)
class Metadata:
    title: str
    date: str | None


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
    """``LABEL: value`` / ``LABEL<TAB>value`` lines of the document's header."""
    pairs = []
    for line in text[:_HEADER_CHARS].splitlines():
        match = _FIELD.match(line)
        if match:
            pairs.append((match["label"].strip().lower(), match["value"].strip()))
    return pairs


def date_from_text(text: str) -> str | None:
    """The date in a dated header field, preferring labels that say "date"."""
    candidates = []
    for label, value in _fields(text):
        if any(word in label for word in _DATE_LABELS):
            dates = find_dates(value)
            if dates:
                candidates.append((0 if "date" in label else 1, dates[0][1]))
    return min(candidates)[1] if candidates else None


def date_from_name(source: str) -> str | None:
    """A year, year-month or full date written in the file name."""
    match = _NAME_DATE.search(PurePosixPath(source).name)
    if not match:
        return None
    month = int(match["month"]) if match["month"] else None
    day = int(match["day"]) if match["day"] and month else None
    return partial_iso(int(match["year"]), month, day) or partial_iso(int(match["year"]))


def _clean(line: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", line)).strip(" #\t")


def title_from_text(text: str) -> str | None:
    """A title field, a top-level heading, or a short opening line standing alone."""
    for label, value in _fields(text):
        if label in _TITLE_LABELS and len(value.split()) >= 2:
            return _clean(value)
    lines = text[:_HEADER_CHARS].splitlines()
    for line in lines:
        if re.match(r"^#{1,2}\s+\S", line):
            return _clean(line)
    for i, line in enumerate(lines[:40]):
        words = line.split()
        stands_alone = i + 1 >= len(lines) or not lines[i + 1].strip()
        if (
            4 <= len(words) <= 20
            and stands_alone
            and not re.search(r"[:.,;]\s*$", line)
            and not _FIELD.match(line)
            and not re.match(r"^\s*(?:[-•▪◼§]|\d+(?:\.\d+)*\.?\s)", line)
        ):
            return _clean(line)
    return None


def title_from_name(source: str) -> str:
    stem = PurePosixPath(source).stem
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else source


def extract_metadata(source: str, text: str, stated_title: str | None = None) -> Metadata:
    """Title and date for a document; ``stated_title`` comes from the file format (PDF, DOCX, HTML)."""
    title = stated_title.strip() if stated_title and stated_title.strip() else None
    title = title or title_from_text(text) or title_from_name(source)
    return Metadata(title=title, date=date_from_text(text) or date_from_name(source))
