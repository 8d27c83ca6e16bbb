"""The FAISS vector index: exact inner-product search, or an HNSW graph for large corpora.

It takes vectors, never text, so the model stays outside it.

Example::

    index = VectorIndex.build(vectors)
    rows, scores = index.search(query_vector, k=10)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import faiss


@dataclass(frozen=True)
class AnnParams:
    """When the dense search turns approximate, and how hard the HNSW graph looks.

    Below ``threshold`` rows exact search is fast enough and always right. ``m`` (links
    per node) and ``ef_construction`` shape the graph when it is built; ``ef_search``
    (candidates kept while searching, raised to ``k`` if smaller) trades speed for
    recall. Defaults are chosen by measurement: see README, "Speed and scale".
    """

    threshold: int = 50_000
    m: int = 32
    ef_construction: int = 40
    ef_search: int = 1024


EXACT_FILTER_FRACTION = 0.1
"""Filters that leave fewer than this share of rows are searched exactly: an HNSW walk
through mostly excluded nodes loses recall, while scoring only the allowed rows is cheap."""


@contextlib.contextmanager
def _one_thread(faiss: Any) -> Iterator[None]:
    """One OpenMP thread for one query: on two cores faiss's exact search of a single vector
    runs four times faster so (27 against 103 ms at 100k rows). The setting is per thread."""
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


@dataclass
class VectorIndex:
    """Inner-product search over normalised vectors (cosine similarity): exact below
    ``AnnParams.threshold`` rows, an HNSW graph from there on."""

    index: faiss.Index

    @classmethod
    def build(cls, vectors: np.ndarray, ann: AnnParams | None = None) -> VectorIndex:
        import faiss

        ann = ann or AnnParams()
        dimension = vectors.shape[1]
        index: Any
        if len(vectors) >= ann.threshold:
            index = faiss.IndexHNSWFlat(dimension, ann.m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = ann.ef_construction
            index.hnsw.efSearch = ann.ef_search
        else:
            index = faiss.IndexFlatIP(dimension)
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def kind(self) -> str:
        """ "hnsw" or "flat" (exact), for the manifest and the benchmark."""
        return "hnsw" if hasattr(self.index, "hnsw") else "flat"

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine similarities of the ``k`` nearest rows, best first."""
        import faiss

        k = min(k, self.size)
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        index: Any = self.index
        selector = None
        if allowed is not None:
            ids = np.flatnonzero(allowed).astype(np.int64)
            if len(ids) == 0:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            selector = faiss.IDSelectorBatch(ids)
            if self.kind == "hnsw" and len(ids) < EXACT_FILTER_FRACTION * self.size:
                index = faiss.downcast_index(index.storage)
        if hasattr(index, "hnsw"):
            ef_search = max(index.hnsw.efSearch, k)
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=ef_search)  # type: ignore[attr-defined]
        else:
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        with _one_thread(faiss):
            scores, rows = index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        keep = rows[0] >= 0
        return rows[0][keep].astype(np.int64), scores[0][keep]

    def exact(self) -> VectorIndex:
        """The exact index over the same vectors: the reference approximate search is held to."""
        import faiss

        if self.kind == "flat":
            return self
        hnsw: Any = self.index
        return VectorIndex(faiss.downcast_index(hnsw.storage))

    def stored_vectors(self) -> np.ndarray:
        """The vectors the index holds, read-only and not copied: a view of the index's own
        memory, valid while this VectorIndex lives.

        FAISS copies the vectors it is built from; a build that then writes this view
        instead of its own array has them in memory once (1.5 GB at a million passages).
        """
        import faiss

        flat: Any = faiss.downcast_index(self.exact().index)
        if self.size == 0:
            return np.zeros((0, flat.d), dtype=np.float32)
        view: np.ndarray = faiss.rev_swig_ptr(flat.get_xb(), self.size * flat.d)
        view = view.reshape(self.size, flat.d)
        view.flags.writeable = False
        return view

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        """The saved index with its vectors memory-mapped: only the HNSW graph is read in,
        and only the vectors a query visits are paged in."""
        import faiss

        return cls(faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC))
