"""Stage 4, assemble: the chosen rows become cited hits, grouped by document, with notes.

A hit carries everything a citation needs (its chunk, the document's title and date)
and how it was ranked, so showing it never goes back to the index. For a comparison the
hits are grouped by document, oldest first, and a period without relevant evidence is
named in a note rather than silently left out.

Example::

    hits = assemble_hits(snapshot, chosen, rankings)
    groups = document_groups(hits)
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.index.snapshot import Snapshot
from qa.pipeline.retrieve import Rankings
from qa.pipeline.select import Selected
from qa.pipeline.understand import Query
from qa.types import DocumentGroup, Hit

# A compared period's passages are relevant when the closest is within this margin of the
# best passage's similarity to the question. Measured on the reference set's comparisons:
# periods holding gold evidence were at most 0.18 below the best.
PERIOD_MARGIN = 0.2


def assemble_hits(
    snapshot: Snapshot, chosen: Sequence[Selected], rankings: Rankings
) -> tuple[Hit, ...]:
    """One hit per chosen row, ranked from 1, each citing the places folded into it."""
    lexical_rank, dense_rank = rankings.rank_of()

    def hit(rank: int, row: int, score: float, duplicates: tuple[Hit, ...] = ()) -> Hit:
        chunk = snapshot.chunks[row]
        document = snapshot.catalog[chunk.source]
        return Hit(
            rank=rank,
            row=row,
            chunk=chunk,
            title=document.title,
            date=document.date,
            score=float(score),
            lexical_rank=lexical_rank.get(row),
            dense_rank=dense_rank.get(row),
            duplicates=duplicates,
            organisation=document.organisation,
            kind=document.kind,
        )

    return tuple(
        hit(rank, s.row, s.score, tuple(hit(rank, d, s.score) for d in s.duplicates))
        for rank, s in enumerate(chosen, start=1)
    )


def document_groups(hits: Sequence[Hit]) -> tuple[DocumentGroup, ...]:
    """The hits grouped by document, oldest document first (undated last), for side by side."""
    groups: dict[str, list[Hit]] = {}
    for hit in hits:
        groups.setdefault(hit.chunk.source, []).append(hit)
    ordered = sorted(
        groups.values(),
        key=lambda group: (group[0].date is None, group[0].date or "", group[0].rank),
    )
    return tuple(
        DocumentGroup(
            source=group[0].chunk.source,
            title=group[0].title,
            date=group[0].date,
            ranks=tuple(h.rank for h in group),
        )
        for group in ordered
    )


def missing_periods(
    snapshot: Snapshot,
    query: Query,
    hits: Sequence[Hit],
    best: float | None,
    said: frozenset[str] = frozenset(),
) -> tuple[str, ...]:
    """One sentence per compared period that has no relevant passage among the hits; the
    periods in ``said`` were already named as missing."""
    if not query.comparison:
        return ()
    notes = []
    for side in query.sides:
        if side.label in said:
            continue
        if not any(side.holds(year) for year in snapshot.years):
            notes.append(f"No document in the corpus is dated {side.label}.")
            continue
        similarities = [
            float(snapshot.embeddings[h.row] @ query.vector) if query.vector is not None else 1.0
            for h in hits
            if side.holds(h.year)
        ]
        if not similarities or (best is not None and max(similarities) < best - PERIOD_MARGIN):
            notes.append(f"No passage from the {side.label} documents answers this question.")
    return tuple(notes)
