"""Combine several rankings of the same rows into one (pure functions).

A ranking is ``(rows, scores)``: row numbers best first and their scores.
:func:`fuse` applies the method a :class:`qa.types.Fusion` setting names to the lexical
and dense rankings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa.backends.base import Ranking
from qa.types import Fusion

DBSF_SPREAD = 3.0
"""Distribution-based score fusion maps mean ± this many standard deviations to 0..1."""


def fuse(
    method: Fusion, lexical: Ranking, dense: Ranking, lexical_weight: float, rrf_k: int
) -> Ranking:
    """The hybrid ranking of ``lexical`` and ``dense`` by ``method``; ``lexical_weight``
    is used by weighted fusion (dense gets the rest), ``rrf_k`` by RRF."""
    if method == Fusion.WEIGHTED:
        return weighted_score_fusion([lexical, dense], [lexical_weight, 1 - lexical_weight])
    if method == Fusion.DBSF:
        return distribution_based_score_fusion([lexical, dense])
    return reciprocal_rank_fusion([lexical, dense], k=rrf_k)


def reciprocal_rank_fusion(
    rankings: Sequence[Ranking], k: int = 60, weights: Sequence[float] | None = None
) -> Ranking:
    """Sum of ``weight / (k + rank)`` over the rankings a row appears in (ranks from 1).

    ``k`` flattens the advantage of the very first ranks, so that a row ranked
    well by both retrievers beats one ranked first by only one. Ties are broken
    by row number, so the result is deterministic.
    """
    weights = weights or [1.0] * len(rankings)
    fused: dict[int, float] = {}
    for (rows, _), weight in zip(rankings, weights, strict=True):
        for rank, row in enumerate(rows.tolist(), start=1):
            fused[row] = fused.get(row, 0.0) + weight / (k + rank)
    return _sorted(fused)


def weighted_score_fusion(rankings: Sequence[Ranking], weights: Sequence[float]) -> Ranking:
    """Weighted sum of min-max normalised scores; a row missing from a ranking gets 0 there.

    Unlike RRF it keeps how far apart the scores are, so it rewards a retriever
    that is very sure; it needs weights tuned per collection.
    """
    fused: dict[int, float] = {}
    for (rows, scores), weight in zip(rankings, weights, strict=True):
        if len(rows) == 0:
            continue
        low, high = float(scores.min()), float(scores.max())
        span = high - low
        for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
            normalised = (score - low) / span if span > 0 else 1.0
            fused[row] = fused.get(row, 0.0) + weight * normalised
    return _sorted(fused)


def distribution_based_score_fusion(rankings: Sequence[Ranking]) -> Ranking:
    """Sum of scores normalised per ranking by its own distribution: mean − 3σ → 0,
    mean + 3σ → 1; a row missing from a ranking gets 0 there.

    Min-max normalisation (:func:`weighted_score_fusion`) lets one outlier squeeze every
    other score of its ranking towards 0, and BM25 and cosine scores spread differently
    from one question to the next; the mean and spread of the whole candidate list are
    steadier anchors. This is Qdrant's DBSF; Haystack's ``DISTRIBUTION_BASED_RANK_FUSION``
    normalises the same way but keeps the larger of a row's scores instead of the sum.
    A ranking whose scores are all equal says nothing about the question and adds 0.
    """
    fused: dict[int, float] = {}
    for rows, scores in rankings:
        if len(rows) == 0:
            continue
        values = scores.astype(np.float64)
        mean, spread = float(values.mean()), float(values.std())
        low = mean - DBSF_SPREAD * spread
        span = 2 * DBSF_SPREAD * spread
        for row, score in zip(rows.tolist(), values.tolist(), strict=True):
            normalised = (score - low) / span if span > 0 else 0.0
            fused[row] = fused.get(row, 0.0) + normalised
    return _sorted(fused)


def _sorted(fused: dict[int, float]) -> Ranking:
    if not fused:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    items = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
    rows = np.fromiter((row for row, _ in items), dtype=np.int64, count=len(items))
    scores = np.fromiter((score for _, score in items), dtype=np.float64, count=len(items))
    return rows, scores
