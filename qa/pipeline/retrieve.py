"""Stage 2, retrieve: rank the passages by BM25, by the embedding, and both fused.

Arrays in, arrays out: a ranking is ``(rows, scores)`` best first, where row *i* is the
same chunk in the chunk table and in the search backend (:mod:`qa.backends`) that ranks
the rows; the filters a search obeys are a :class:`Filters` scope, which each backend
evaluates its own way. Nothing here knows about features.

Example::

    scope = search_scope(Filters(year_from=2020))
    rankings = retrieve(snapshot, query, depth=100, scope=scope, settings=settings)
    rows, scores = rankings.fused
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from qa.backends.base import Ranking, empty_ranking
from qa.index.snapshot import Snapshot
from qa.pipeline.fusion import fuse
from qa.pipeline.select import Candidate
from qa.pipeline.timeframe import Side
from qa.pipeline.understand import Query
from qa.settings import Settings
from qa.types import Filters, Mode


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


def search_scope(filters: Filters | None, side: Side | None = None) -> Filters | None:
    """The documents a search may return: ``filters`` narrowed to the years of a compared
    period (an empty range when they do not meet), or None when every row may be returned."""
    filters = filters or Filters()
    if side is not None:
        first = max(side.first, filters.year_from or side.first)
        last = min(side.last, filters.year_to if filters.year_to is not None else side.last)
        filters = dataclasses.replace(filters, year_from=first, year_to=last)
    return None if filters == Filters() else filters


def _timed(timings: dict[str, float], name: str, started: float) -> float:
    now = time.perf_counter()
    timings[name] = timings.get(name, 0.0) + now - started
    return now


def retrieve(
    snapshot: Snapshot,
    query: Query,
    depth: int,
    scope: Filters | None,
    settings: Settings,
    timings: dict[str, float],
) -> Rankings:
    """The ``depth`` best rows within ``scope``, by each retriever and fused."""
    started = time.perf_counter()
    search = snapshot.search
    lexical = (
        search.lexical(query.terms, depth, scope) if query.mode != Mode.DENSE else empty_ranking()
    )
    started = _timed(timings, "lexical", started)
    dense = (
        search.dense(query.vector, depth, scope) if query.vector is not None else empty_ranking()
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
        scope = search_scope(filters, side)
        ranking = retrieve(snapshot, query, quota * 4, scope, settings, timings).fused
        top = float(ranking[1].max()) if len(ranking[1]) else 1.0
        for candidate in candidates_of(snapshot, ranking):
            if candidate.row not in known:
                known.add(candidate.row)
                scaled = floor * 0.5 * candidate.score / (top or 1.0)
                extra.append(Candidate(candidate.row, scaled, candidate.source, candidate.year))
    return extra
