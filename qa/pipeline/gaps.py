"""What a question names that the corpus does not hold: a year no document is dated, a name
no document mentions.

"What was the outcome of the 2022 inspection?" asked of reports dated 2020 and 2024, or
"How many children are in care in Lambeth?" asked of Croydon's, would otherwise be answered
confidently from whatever is closest. Each gap becomes a sentence the answer states first
("No document in the corpus is dated 2022; the closest are from March 2020 and December
2024."), and a question whose every named period or name is missing is flagged.

Example::

    for gap in find_gaps(query, snapshot):
        print(gap.note)
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from qa.index.lexical import tokenize
from qa.index.snapshot import Snapshot
from qa.pipeline.understand import Query
from qa.types import CatalogEntry, DocumentKind, display_date

# An inspection report is dated by its inspection and published weeks later (31-118 days,
# median 42, in the ilacs reports): a year is held by a document dated in it, or by an
# inspection report dated in the last PUBLICATION_LAG days before it. Other documents (a
# cabinet paper, an article) are dated when they were published.
PUBLICATION_LAG = datetime.timedelta(days=120)
# Capitalised words inside a question, with their possessive: candidates for names.
_NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][\w’'&-]*(?:\s+[A-Z][\w’'&-]*)*")
# An ordinal and what it counts ("its eighth monitoring visit"): a visit, report or round the
# corpus never mentions by that number is one it does not hold.
_ORDINAL = re.compile(
    r"\b(?P<ordinal>second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth"
    r"|\d{1,2}(?:st|nd|rd|th))\s+(?P<what>(?:[a-z]+\s+){0,2}[a-z]+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Gap:
    """One thing the question names that the corpus lacks, and the sentence saying so.

    ``period`` marks a year without documents (a comparison with another year still
    answers); a ``blocking`` gap leaves nothing of what was asked (a name no document
    mentions, the records of every period asked for missing)."""

    label: str
    note: str
    period: bool
    blocking: bool = False


def _start(date: str) -> datetime.date:
    parts = [int(p) for p in date.split("-")] + [1, 1]
    return datetime.date(parts[0], parts[1], parts[2])


def published_in(inspected: str) -> int:
    """The year a report on an inspection dated ``inspected`` is published by, at the latest."""
    return (_start(inspected) + PUBLICATION_LAG).year


def _holds(entry: CatalogEntry, year: int) -> bool:
    if not entry.date:
        return False
    if entry.year == year:
        return True
    lagging = entry.kind == DocumentKind.INSPECTION_REPORT
    return lagging and entry.year == year - 1 and published_in(entry.date) == year


def period_gaps(query: Query, snapshot: Snapshot) -> list[Gap]:
    """Each year the question names that no document is dated in, with the closest dates.
    A year named as half of one period ("2018/19") is covered by a document of either half.
    A question naming organisations asks about their documents: "Bradford in 2020" is a gap
    however many other councils' documents are dated 2020."""
    named_organisations = set(query.organisations)
    entries = [
        entry
        for entry in snapshot.catalog.values()
        if not named_organisations or entry.organisation in named_organisations
    ]
    about = f" about {' or '.join(query.organisations)}" if query.organisations else ""
    dates = sorted({e.date for e in entries if e.date})
    gaps = []
    timeframe = query.timeframe
    named = [*timeframe.years, *(y for y in (timeframe.year_from, timeframe.year_to) if y)]
    held = {year for year in named if any(_holds(entry, year) for entry in entries)}
    for first, second in timeframe.spans:
        if held & {first, second}:
            held |= {first, second}
    for year in dict.fromkeys(named):
        if year in held:
            continue
        before = [d for d in dates if int(d[:4]) < year]
        after = [d for d in dates if int(d[:4]) > year]
        closest = [display_date(d) for d in (before[-1:] + after[:1])]
        note = f"No document in the corpus{about} is dated {year}"
        if closest:
            note += (
                f"; the closest {'are' if len(closest) > 1 else 'is'} from {' and '.join(closest)}"
            )
        gaps.append(Gap(str(year), note + ".", period=True))
    return gaps


def name_gaps(query: Query, snapshot: Snapshot) -> list[Gap]:
    """Each capitalised name in the question (a council, a service, a person) that no
    document mentions: none of its words is in the lexical index's vocabulary."""
    vocabulary = snapshot.bm25.vocabulary
    gaps = []
    for match in _NAME.finditer(query.text):
        name = re.sub(r"['’]s$", "", match.group())
        terms = tokenize(name)
        if name != "I" and any(term not in vocabulary for term in terms):
            note = f"No document in the corpus mentions {name}."
            gaps.append(Gap(name, note, period=False, blocking=True))
    for match in _ORDINAL.finditer(query.text):
        if not all(term in vocabulary for term in tokenize(match["ordinal"])):
            label = f"{match['ordinal'].lower()} {match['what']}"
            note = f"No document in the corpus mentions a {label}."
            gaps.append(Gap(label, note, period=False, blocking=True))
    return gaps


def find_gaps(query: Query, snapshot: Snapshot) -> tuple[Gap, ...]:
    """The periods and names the question asks about that the corpus does not hold."""
    return (*period_gaps(query, snapshot), *name_gaps(query, snapshot))


def unanswerable(query: Query, gaps: tuple[Gap, ...]) -> bool:
    """Whether the gaps leave nothing the question asks about: a name no document mentions,
    or every year it names missing (a comparison with one period present still answers for
    that period, and says the other is missing)."""
    if any(gap.blocking for gap in gaps):
        return True
    timeframe = query.timeframe
    named = {*timeframe.years, *(y for y in (timeframe.year_from, timeframe.year_to) if y)}
    missing = {gap.label for gap in gaps if gap.period}
    return bool(missing) and missing >= {str(year) for year in named}
