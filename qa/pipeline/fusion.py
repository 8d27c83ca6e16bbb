"""Combine several rankings of the same rows into one (pure functions).

A ranking is ``(rows, scores)``: row numbers best first and their scores.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Ranking = tuple[np.ndarray, np.ndarray]


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


def _sorted(fused: dict[int, float]) -> Ranking:
    if not fused:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    items = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
    rows = np.fromiter((row for row, _ in items), dtype=np.int64, count=len(items))
    scores = np.fromiter((score for _, score in items), dtype=np.float64, count=len(items))
    return rows, scores
