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
from qa.index.store import Snapshot
from qa.pipeline.understand import Query
from qa.types import CatalogEntry, DocumentKind, display_date

# An inspection report is dated by its inspection and published weeks later (31-118 days,
# median 42, in the ilacs reports): a year is held by a document dated in it, or by an
# inspection report dated in the last PUBLICATION_LAG days before it. Other documents (a
# cabinet paper, an article) are dated when they were published.
PUBLICATION_LAG = datetime.timedelta(days=120)
# Capitalised words inside a question, with their possessive: candidates for names.
_NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][\w’'&-]*(?:\s+[A-Z][\w’'&-]*)*")


@dataclass(frozen=True)
class Gap:
    """One thing the question names that the corpus lacks, and the sentence saying so."""

    label: str
    note: str
    period: bool


def _start(date: str) -> datetime.date:
    parts = [int(p) for p in date.split("-")] + [1, 1]
    return datetime.date(parts[0], parts[1], parts[2])


def _holds(entry: CatalogEntry, year: int) -> bool:
    if not entry.date:
        return False
    if entry.year == year:
        return True
    published_by = _start(entry.date) + PUBLICATION_LAG
    lagging = entry.kind == DocumentKind.INSPECTION_REPORT
    return lagging and entry.year == year - 1 and published_by.year == year


def period_gaps(query: Query, snapshot: Snapshot) -> list[Gap]:
    """Each year the question names that no document is dated in, with the closest dates."""
    entries = list(snapshot.catalog.values())
    dates = sorted({e.date for e in entries if e.date})
    gaps = []
    timeframe = query.timeframe
    named = [*timeframe.years, *(y for y in (timeframe.year_from, timeframe.year_to) if y)]
    for year in dict.fromkeys(named):
        if any(_holds(entry, year) for entry in entries):
            continue
        before = [d for d in dates if int(d[:4]) < year]
        after = [d for d in dates if int(d[:4]) > year]
        closest = [display_date(d) for d in (before[-1:] + after[:1])]
        note = f"No document in the corpus is dated {year}"
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
            gaps.append(Gap(name, f"No document in the corpus mentions {name}.", period=False))
    return gaps


def find_gaps(query: Query, snapshot: Snapshot) -> tuple[Gap, ...]:
    """The periods and names the question asks about that the corpus does not hold."""
    return (*period_gaps(query, snapshot), *name_gaps(query, snapshot))


def unanswerable(query: Query, gaps: tuple[Gap, ...]) -> bool:
    """Whether the gaps leave nothing the question asks about: a name no document mentions,
    or every year it names missing (a comparison with one period present still answers for
    that period, and says the other is missing)."""
    if any(not gap.period for gap in gaps):
        return True
    timeframe = query.timeframe
    named = {*timeframe.years, *(y for y in (timeframe.year_from, timeframe.year_to) if y)}
    missing = {gap.label for gap in gaps if gap.period}
    return bool(missing) and missing >= {str(year) for year in named}
