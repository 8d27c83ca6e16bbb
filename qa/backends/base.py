"""The search backend interface: lexical and dense ranking of one version's rows.

The retrieval stage asks a backend for the ``k`` best rows by BM25 and by the embedding,
within a scope, and fuses the two itself (:func:`qa.pipeline.fusion.fuse`), so answers
are made the same way whatever engine ranked the rows. A scope is a :class:`Filters`
(a compared period is its years), not a row mask: a mask of every row cannot be sent to
a remote engine, and each backend turns the filters into what it evaluates (a mask over
the embedded files, a boolean expression in Milvus).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from qa.types import Backend, Filters

Ranking = tuple[np.ndarray, np.ndarray]
"""``(rows, scores)``: row numbers best first and their scores."""


def empty_ranking() -> Ranking:
    return np.zeros(0, np.int64), np.zeros(0, np.float32)


class SearchBackend(Protocol):
    """Ranks the rows of one index version; row *i* is chunk *i* of that version.

    ``lexical`` scores by BM25 over the rows' search texts (only rows sharing a term with
    the query, so a ranking may hold fewer than ``k`` rows); ``dense`` by the cosine
    similarity of the rows' vectors to ``vector``. ``scope`` None means every row.
    """

    kind: Backend

    def lexical(self, terms: Sequence[str], k: int, scope: Filters | None) -> Ranking: ...

    def dense(self, vector: np.ndarray, k: int, scope: Filters | None) -> Ranking: ...
