"""Judgements across documents and dates: one row per organisation and aspect, oldest first.

The same aspect is worded differently across frameworks and documents ("Children in need
of help and protection" in 2020, "The experiences and progress of children who need help
and protection" in 2024) and the same grade is stated by several documents (the report
and the cabinet paper that quotes it). Aspects are matched the way recommendations are:
wordings of two inspections of one organisation are the same aspect when each is the
other's most similar and their cosine similarity is at least :data:`LINK_THRESHOLD`; a
grade repeated by several documents for one inspection is one entry citing each.

Example::

    rows = judgement_rows(records, catalog, embedder)
    for row in rows:
        print(row.organisation, row.aspect, [(e.year, e.grade) for e in row.entries])
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from qa.features.judgements.extract import Form, Grade, Judgement
from qa.features.matching import mutual_best
from qa.index.embedders import Embedder
from qa.text import WORD
from qa.types import CatalogEntry, year_of

# Cosine similarity (bundled all-MiniLM-L6-v2, INT8 export, lower-cased wordings) of aspect
# wordings that are the same aspect across Ofsted frameworks, measured on the shipped corpus
# and the 17 ilacs reports: "impact of leaders on sw practice" ~ "the impact of leaders on
# social work practice with children and families" 0.55 (the lowest right pair: an
# abbreviation), "children looked after and care leavers" ~ "... care leavers" 0.65, help and
# protection 0.91. Pairs are also mutual best matches between two inspections, which keeps
# aspects one to one; the best wrong mutual pair measured was 0.33 ("overall effectiveness"
# ~ the leaders aspect).
LINK_THRESHOLD = 0.45
# Two wordings giving one inspection the same grade are one aspect from this similarity on:
# the cabinet paper's "children looked after and care leavers" and the news article's "the
# experiences and progress of children in care and care leavers" (both 2020) scored 0.79,
# "children in need of help and protection" and "services for children in need of help and
# protection" 0.86; the closest different aspects graded alike in one inspection scored 0.70
# ("... children in care" ~ "... children care leavers", printed so in two 2025-26 tables).
SAME_INSPECTION_THRESHOLD = 0.75
# Words that name a service as a whole: a grade for "children's services" or "the
# Council's services for children" (prose in news and council papers) is the overall one.
_WHOLE_SERVICE = frozenset(
    [
        "the",
        "a",
        "of",
        "for",
        "and",
        "s",
        "council",
        "councils",
        "borough",
        "local",
        "authority",
        "authoritys",
        "department",
        "children",
        "childrens",
        "young",
        "people",
        "peoples",
        "service",
        "services",
        "social",
        "care",
    ]
)


@dataclass(frozen=True)
class Entry:
    """One inspection's grade for one aspect, with every document stating it."""

    grade: Grade
    inspection: str | None
    judgements: tuple[Judgement, ...]
    documents: tuple[CatalogEntry, ...]

    @property
    def year(self) -> int | None:
        return year_of(self.inspection)

    @property
    def best(self) -> tuple[Judgement, CatalogEntry]:
        """The statement to quote: the first form in :class:`Form`'s order, any document."""
        pairs = list(zip(self.judgements, self.documents, strict=True))
        return min(pairs, key=lambda pair: list(Form).index(pair[0].places[0].form))


@dataclass(frozen=True)
class Row:
    """One organisation's grades for one aspect, oldest inspection first."""

    organisation: str | None
    aspect: str
    wordings: tuple[str, ...]
    entries: tuple[Entry, ...]

    @property
    def overall(self) -> bool:
        return any("overall" in w.lower() for w in self.wordings)


def direction(entries: Sequence[Entry]) -> str | None:
    """ "improved", "declined" or "unchanged" from the first to the last of ``entries`` on the
    graded scale; None for a single inspection."""
    if len(entries) < 2:
        return None
    first, last = entries[0].grade.rank, entries[-1].grade.rank
    return "improved" if last > first else "declined" if last < first else "unchanged"


def whole_service(aspect: str, organisation: str | None) -> bool:
    """Whether ``aspect`` names the service as a whole ("Croydon children's services")."""
    words = {w.lower() for w in WORD.findall(aspect)}
    if organisation:
        words -= {w.lower() for w in WORD.findall(organisation)}
    return bool(words) and words <= _WHOLE_SERVICE


class _Groups:
    """Union-find over aspect wordings (lower-cased)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def join(self, first: str, second: str) -> None:
        self.parent[self.find(first)] = self.find(second)


def judgement_rows(
    judgements: Sequence[Judgement],
    catalog: Mapping[str, CatalogEntry],
    embedder: Embedder,
    threshold: float = LINK_THRESHOLD,
) -> list[Row]:
    """The judgements as rows of (organisation, aspect), each inspection once, by date."""
    groups = _Groups()
    organisation_of = {j: catalog[j.source].organisation for j in judgements}
    for judgement in judgements:
        if whole_service(judgement.aspect, organisation_of[judgement]) or "overall" in (
            judgement.aspect.lower()
        ):
            groups.join(judgement.aspect.lower(), "overall effectiveness")
    wordings = sorted({j.aspect.lower() for j in judgements})
    vectors = dict(zip(wordings, embedder.encode(wordings), strict=True)) if wordings else {}
    by_inspection: dict[tuple[str | None, int | None], list[str]] = {}
    for judgement in judgements:
        key = (organisation_of[judgement], judgement.year)
        if judgement.aspect.lower() not in by_inspection.setdefault(key, []):
            by_inspection[key].append(judgement.aspect.lower())
    for key, aspects in by_inspection.items():
        graded = {
            (j.aspect.lower(), j.grade) for j in judgements if (organisation_of[j], j.year) == key
        }
        for first, second in itertools.combinations(aspects, 2):
            same_grade = {g for a, g in graded if a == first} & {
                g for a, g in graded if a == second
            }
            if same_grade and vectors[first] @ vectors[second] >= SAME_INSPECTION_THRESHOLD:
                groups.join(first, second)
    inspections = sorted(by_inspection, key=lambda k: (k[0] or "", k[1] or 0))
    for earlier, later in itertools.pairwise(inspections):
        if earlier[0] != later[0]:
            continue
        left, right = by_inspection[earlier], by_inspection[later]
        similarity = np.array([[vectors[a] @ vectors[b] for b in right] for a in left])
        for row, column in mutual_best(similarity, threshold):
            groups.join(left[row], right[column])
    return _rows(judgements, catalog, organisation_of, groups)


def _rows(
    judgements: Sequence[Judgement],
    catalog: Mapping[str, CatalogEntry],
    organisation_of: Mapping[Judgement, str | None],
    groups: _Groups,
) -> list[Row]:
    cells: dict[tuple[str | None, str], dict[tuple[int | None, Grade], list[Judgement]]] = {}
    for judgement in judgements:
        key = (organisation_of[judgement], groups.find(judgement.aspect.lower()))
        cells.setdefault(key, {}).setdefault((judgement.year, judgement.grade), []).append(
            judgement
        )
    rows = []
    for (organisation, _), entries in cells.items():
        members = [j for found in entries.values() for j in found]
        label = _label(members)
        rows.append(
            Row(
                organisation,
                label,
                tuple(sorted({j.aspect for j in members})),
                tuple(
                    Entry(
                        grade,
                        max((j.inspection for j in found if j.inspection), key=len, default=None),
                        tuple(found),
                        tuple(catalog[j.source] for j in found),
                    )
                    for (_, grade), found in sorted(
                        entries.items(), key=lambda item: (item[0][0] or 0, item[0][1].rank)
                    )
                ),
            )
        )
    return sorted(rows, key=lambda r: (r.organisation or "", not r.overall, r.aspect))


def _label(members: Sequence[Judgement]) -> str:
    """The wording to show: the latest inspection's, as stated in the first form quoted."""
    return min(
        members,
        key=lambda j: (-(j.year or 0), list(Form).index(j.places[0].form), len(j.aspect)),
    ).aspect
