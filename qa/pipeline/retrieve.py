"""Stage 2, retrieve: rank the passages by BM25, by the embedding, and both fused.

Arrays in, arrays out: a ranking is ``(rows, scores)`` best first, where row *i* is the
same chunk in the BM25 matrix, the vector index and the chunk table; a filter is a
boolean mask over rows, not a callback. Nothing here knows about features.

Example::

    allowed = allowed_rows(snapshot, Filters(year_from=2020))
    rankings = retrieve(snapshot, query, depth=100, allowed=allowed, settings=settings)
    rows, scores = rankings.fused
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from qa.index.store import Snapshot
from qa.pipeline.fusion import Ranking, fuse
from qa.pipeline.select import Candidate
from qa.pipeline.timeframe import Side
from qa.pipeline.understand import Query
from qa.settings import Settings
from qa.types import Filters, Mode

_EMPTY: Ranking = (np.zeros(0, np.int64), np.zeros(0, np.float32))


@dataclass(frozen=True)
class Rankings:
    """The fused ranking and the two it was made from (each best first)."""

    fused: Ranking
    lexical: Ranking
    dense: Ranking

    def rank_of(self) -> tuple[dict[int, int], dict[int, int]]:
        """Row → 1-based rank in the lexical and in the dense ranking."""
        return (
            {int(row): i + 1 for i, row in enumerate(self.lexical[0])},
            {int(row): i + 1 for i, row in enumerate(self.dense[0])},
        )

    @property
    def best_similarity(self) -> float | None:
        """Cosine similarity of the closest passage: how well the corpus can answer at all."""
        return float(self.dense[1][0]) if len(self.dense[1]) else None


def allowed_rows(
    snapshot: Snapshot, filters: Filters | None, side: Side | None = None
) -> np.ndarray | None:
    """The rows a search may return as a mask, or None when every row may be returned."""
    if (filters is None or filters == Filters()) and side is None:
        return None
    allowed = np.zeros(len(snapshot.chunks), dtype=bool)
    for source, rows in snapshot.rows_of.items():
        document = snapshot.catalog[source]
        allowed_here = filters is None or filters.allows(
            source, document.date, document.organisation
        )
        if allowed_here and (side is None or side.holds(document.year)):
            allowed[rows.start : rows.stop] = True
    return allowed


def _timed(timings: dict[str, float], name: str, started: float) -> float:
    now = time.perf_counter()
    timings[name] = timings.get(name, 0.0) + now - started
    return now


def retrieve(
    snapshot: Snapshot,
    query: Query,
    depth: int,
    allowed: np.ndarray | None,
    settings: Settings,
    timings: dict[str, float],
) -> Rankings:
    """The ``depth`` best rows that ``allowed`` lets through, by each retriever and fused."""
    started = time.perf_counter()
    lexical = (
        snapshot.bm25.top(list(query.terms), depth, allowed) if query.mode != Mode.DENSE else _EMPTY
    )
    started = _timed(timings, "lexical", started)
    dense = (
        snapshot.vectors.search(query.vector, depth, allowed)
        if query.vector is not None
        else _EMPTY
    )
    started = _timed(timings, "dense", started)
    if query.mode == Mode.LEXICAL:
        fused = lexical
    elif query.mode == Mode.DENSE:
        fused = dense
    else:
        fused = fuse(settings.fusion, lexical, dense, settings.lexical_weight, settings.rrf_k)
    started = _timed(timings, "fusion", started)
    if settings.rerank_depth and query.mode == Mode.HYBRID and not query.blank:
        from qa.pipeline.rerank import load_cross_encoder, rerank

        def text_of(row: int) -> str:
            return snapshot.chunks[row].text

        fused = rerank(
            fused,
            query.text,
            text_of,
            load_cross_encoder(),
            settings.rerank_depth,
            settings.rerank_weight,
        )
        _timed(timings, "rerank", started)
    return Rankings(fused, lexical, dense)


def candidates_of(snapshot: Snapshot, ranking: Ranking) -> list[Candidate]:
    """A ranking as candidates for selection, each knowing its document and year."""
    rows, scores = ranking
    out = []
    for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
        source = snapshot.chunks.source_of(row)
        out.append(Candidate(row, float(score), source, snapshot.catalog[source].year))
    return out


def period_candidates(
    snapshot: Snapshot,
    query: Query,
    candidates: list[Candidate],
    filters: Filters | None,
    settings: Settings,
    timings: dict[str, float],
) -> list[Candidate]:
    """The best passages of each compared period the overall ranking missed, ranked below it.

    In a large corpus the overall top candidates can all come from one year; each
    period is then searched on its own, and its passages enter below the others so
    that they fill that period's quota without outranking better evidence.
    """
    floor = min((c.score for c in candidates), default=1.0)
    known = {c.row for c in candidates}
    extra: list[Candidate] = []
    quota = max(settings.side_quota, 1)
    for side in query.sides:
        if sum(side.holds(c.year) for c in candidates) >= quota:
            continue
        allowed = allowed_rows(snapshot, filters, side)
        ranking = retrieve(snapshot, query, quota * 4, allowed, settings, timings).fused
        top = float(ranking[1].max()) if len(ranking[1]) else 1.0
        for candidate in candidates_of(snapshot, ranking):
            if candidate.row not in known:
                known.add(candidate.row)
                scaled = floor * 0.5 * candidate.score / (top or 1.0)
                extra.append(Candidate(candidate.row, scaled, candidate.source, candidate.year))
    return extra
