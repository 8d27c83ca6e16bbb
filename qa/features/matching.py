"""Matching items across documents by embedding similarity, shared by the features that
link records of different reports (recommendations, judgement aspects)."""

from __future__ import annotations

import numpy as np


def mutual_best(similarity: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """(row, column) pairs that are each other's best match and at least ``threshold``."""
    if similarity.size == 0:
        return []
    best_column = similarity.argmax(axis=1)
    best_row = similarity.argmax(axis=0)
    return [
        (row, int(column))
        for row, column in enumerate(best_column)
        if best_row[column] == row and similarity[row, column] >= threshold
    ]
