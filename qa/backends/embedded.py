"""The embedded backend: the version's own BM25 matrix and FAISS index, in this process.

Filters become a boolean mask over rows, made from the document catalogue (each document's
rows are contiguous), and are passed to :meth:`BM25Index.top` and :meth:`VectorIndex.search`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from qa.backends.base import Ranking
from qa.index.lexical import BM25Index
from qa.index.vectors import VectorIndex
from qa.types import Backend, CatalogEntry, Filters

_KEPT_MASKS = 16
"""Masks kept per version: a question's retrievers and its periods reuse a few scopes."""


class EmbeddedBackend:
    """BM25 and vector search over the memory-mapped files of one version."""

    kind = Backend.EMBEDDED

    def __init__(
        self,
        bm25: BM25Index,
        vectors: VectorIndex,
        catalog: Mapping[str, CatalogEntry],
        rows_of: Mapping[str, range],
    ) -> None:
        self.bm25 = bm25
        self.vectors = vectors
        self._catalog = catalog
        self._rows_of = rows_of
        self._masks: dict[Filters, np.ndarray] = {}

    def allowed(self, scope: Filters | None) -> np.ndarray | None:
        """The rows ``scope`` lets through, as a mask; None when it lets every row through."""
        if scope is None:
            return None
        mask = self._masks.get(scope)
        if mask is None:
            mask = np.zeros(self.bm25.size, dtype=bool)
            for source, rows in self._rows_of.items():
                entry = self._catalog[source]
                if scope.allows(source, entry.date, entry.organisation):
                    mask[rows.start : rows.stop] = True
            if len(self._masks) >= _KEPT_MASKS:
                self._masks.clear()
            self._masks[scope] = mask
        return mask

    def lexical(self, terms: Sequence[str], k: int, scope: Filters | None) -> Ranking:
        return self.bm25.top(list(terms), k, self.allowed(scope))

    def dense(self, vector: np.ndarray, k: int, scope: Filters | None) -> Ranking:
        return self.vectors.search(vector, k, self.allowed(scope))
