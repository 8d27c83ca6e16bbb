"""Dates stated in a document's text or written in its file name, as partial ISO dates.

A dated header field ("DATE OF DECISION 4th December 2024", "REPORT TO: CABINET 23rd
MARCH 2020", "Published: 21 March 2023") → for a letter, its date line → a date in the
file name ("...-2020-03-...") → none. File times are never used: a copy or a download
changes them. An inspection report gets the last day of its "Inspection dates" range:
none of the 17 ILACS reports prints its publication date (only "© Crown copyright"),
which follows 31–118 days later (median 42, reports.csv), and Ofsted names an inspection
by when it took place ("since the last inspection in 2021" in Sutton's 2025 report means
the December 2021 inspection published in February 2022).

:func:`find_dates` also serves the judgement extraction (every date a passage states), as
do :func:`inspection_end_dates` (when a quoted inspection ended) and
:func:`inspection_ended_in_prose` (when a paper says it ended); :func:`partial_iso` the
sidecar files' dates.
"""

from __future__ import annotations

import calendar
import re
from pathlib import PurePosixPath

from qa.corpus.header import FIELD, HEADER_CHARS, header_fields

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
# Month names and abbreviations, longest first, in lower case (match with IGNORECASE).
MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_MONTH = MONTH_NAMES
_FULL_DATE = re.compile(
    rf"\b(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH})\.?,?\s+(?P<year>(?:19|20)\d\d)\b",
    re.IGNORECASE,
)
_MONTH_YEAR = re.compile(rf"\b(?P<month>{_MONTH})\.?,?\s+(?P<year>(?:19|20)\d\d)\b", re.IGNORECASE)
_ISO_DATE = re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)(?:-(?P<day>[0-3]\d))?\b")
_NAME_DATE = re.compile(
    r"(?<!\d)(?P<year>(?:19|20)\d\d)(?:[-_.](?P<month>[01]\d))?(?:[-_.](?P<day>[0-3]\d))?(?!\d)"
)
_DATE_LABELS = ("date", "report to", "meeting", "published")


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


def field_date(label: str, value: str) -> str | None:
    """The date a ``label: value`` field states, if any.

    A field of dates is a range ("Inspection dates: 3 June 2024 to 14 June 2024"):
    its last date, the day the work ended, is the one that dates it.
    """
    dates = find_dates(value)
    if not dates:
        return None
    return (dates[-1] if "dates" in label.lower() else dates[0])[1]


def date_from_text(text: str) -> str | None:
    """The date in a dated header field, preferring labels that say "date"."""
    candidates = []
    for label, value in header_fields(text):
        if any(word in label for word in _DATE_LABELS) and (stated := field_date(label, value)):
            candidates.append((0 if "date" in label else 1, stated))
    return min(candidates)[1] if candidates else None


_INSPECTION_DATES_LINE = re.compile(r"^.*\binspection dates?\b.*$", re.IGNORECASE | re.MULTILINE)


def inspection_end_dates(text: str) -> set[str]:
    """The last day of every "Inspection dates" field anywhere in ``text``, not only in its
    header: a paper reporting an inspection copies the report's field beside its grades."""
    fields = [FIELD.match(line.group()) for line in _INSPECTION_DATES_LINE.finditer(text)]
    return {
        stated
        for field in fields
        if field and field["label"].strip().lower() in ("inspection date", "inspection dates")
        if (stated := field_date(field["label"], field["value"]))
    }


# "The full re-inspection ... concluded on 14th February 2020", "An inspection took place
# between the 14th and 25th October 2024": an inspection's last day, stated in prose. The
# words between "inspection" and the verb may not name a visit ("since the last inspection,
# the seventh monitoring visit concluded on ..." dates a visit, not an inspection).
_INSPECTION_ENDED = re.compile(
    r"\binspection\b(?P<between>[^.;:]{0,150}?)\b(?:concluded|ended|finished|took\s+place)"
    r"(?:\s+on)?\s+(?:(?:between|from)\s+(?:the\s+)?[^.;:]{0,40}?\s+(?:and|to|until)\s+)?"
    rf"(?:the\s+)?(?P<date>{_FULL_DATE.pattern})",
    re.IGNORECASE,
)


def inspection_ended_in_prose(text: str) -> set[str]:
    """Every day ``text``'s sentences say an inspection concluded (or took place until): a
    paper reporting an inspection says when it ended even where it copies no "Inspection
    dates" field."""
    return {
        find_dates(match["date"])[0][1]
        for match in _INSPECTION_ENDED.finditer(text)
        if "visit" not in match["between"].lower()
    }


# A letter is dated on a line of its own above the addressee ("14 December 2019").
_DATE_LINE = re.compile(rf"^\s*(?:\w+day,?\s+)?{_FULL_DATE.pattern}\s*$", re.IGNORECASE)


def letter_date(text: str) -> str | None:
    """The date on a line of its own in a letter's header."""
    for line in text[:HEADER_CHARS].splitlines():
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
