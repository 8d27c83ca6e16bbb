"""One loaded index version (:class:`Snapshot`) and reading it from its folder: the files
mapped and checked against the manifest and each other, so a disagreement is IndexCorrupt,
never a wrong row. :mod:`qa.index.store` finds and verifies versions, :mod:`qa.index.writer`
writes them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from qa.backends.base import SearchBackend
from qa.backends.embedded import EmbeddedBackend
from qa.index.lexical import BM25Index
from qa.index.manifest import (
    BM25_ARRAYS,
    Manifest,
)
from qa.index.problems import (
    IndexCorrupt,
)
from qa.index.tables import ChunkTable, TableError, load_array, read_tables
from qa.index.vectors import VectorIndex
from qa.types import CatalogEntry, Document

log = logging.getLogger(__name__)


@dataclass
class Snapshot:
    """One loaded index version; row *i* of chunks, embeddings, vectors and bm25 is the same chunk.

    ``catalog`` answers titles and dates without reading texts; ``documents`` and
    ``chunks`` read their texts from the mapped files on access. ``search`` ranks the rows
    for a question: the embedded backend over ``bm25`` and ``vectors`` as loaded here, or
    the version's Milvus collection (:func:`qa.backends.loading.load_version`).
    """

    path: Path
    manifest: Manifest
    catalog: dict[str, CatalogEntry]
    documents: Mapping[str, Document]
    chunks: ChunkTable
    embeddings: np.ndarray
    vectors: VectorIndex
    bm25: BM25Index
    search: SearchBackend
    rows_of: dict[str, range] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return self.path.name

    @cached_property
    def organisations(self) -> frozenset[str]:
        """The organisations the corpus has documents about."""
        return frozenset(e.organisation for e in self.catalog.values() if e.organisation)

    @cached_property
    def years(self) -> frozenset[int]:
        """The years the corpus has documents of."""
        return frozenset(e.year for e in self.catalog.values() if e.year is not None)

    @cached_property
    def organisation_years(self) -> dict[str, frozenset[int]]:
        """The years each organisation has documents of: "now" for Sutton is Sutton's
        latest document, not another council's."""
        years: dict[str, set[int]] = {name: set() for name in self.organisations}
        for entry in self.catalog.values():
            if entry.organisation and entry.year is not None:
                years[entry.organisation].add(entry.year)
        return {name: frozenset(found) for name, found in years.items()}


def read_snapshot(path: Path, manifest: Manifest) -> Snapshot:
    """The version's files, mapped, and checked against each other and the manifest: any
    disagreement is IndexCorrupt, never a wrong row."""
    try:
        catalog, documents, chunks = read_tables(path)
        embeddings = load_array(path / "embeddings.npy")
        data, indices, indptr = (load_array(path / f"bm25_{array}.npy") for array in BM25_ARRAYS)
        vocabulary = json.loads((path / "bm25_vocabulary.json").read_text(encoding="utf-8"))
        _check_agreement(manifest, catalog, chunks, embeddings, (data, indices, indptr), vocabulary)
        rows_of = chunks.document_rows()
        weights = sp.csr_matrix(
            (data, indices, indptr), shape=(len(vocabulary), len(chunks)), copy=False
        )
    except (TableError, OSError, ValueError, TypeError, KeyError, IndexError) as error:
        raise IndexCorrupt(f"index {path} is unreadable ({error})") from error
    vectors = _read_vectors(path / "vectors.faiss", manifest)
    bm25 = BM25Index(vocabulary, weights)
    return Snapshot(
        path=path,
        manifest=manifest,
        catalog=catalog,
        documents=documents,
        chunks=chunks,
        embeddings=embeddings,
        vectors=vectors,
        bm25=bm25,
        search=EmbeddedBackend(bm25, vectors, catalog, rows_of),
        rows_of=rows_of,
    )


def _check_agreement(
    manifest: Manifest,
    catalog: Mapping[str, CatalogEntry],
    chunks: ChunkTable,
    embeddings: np.ndarray,
    bm25: tuple[np.ndarray, np.ndarray, np.ndarray],
    vocabulary: object,
) -> None:
    """TableError unless the files agree with the manifest and with each other in counts,
    shapes, types and document hashes (the cheap checks: nothing scans the BM25 postings)."""
    rows = len(chunks)
    if manifest.chunks != rows or len(embeddings) != rows:
        raise TableError(
            f"the manifest counts {manifest.chunks} chunks, the tables {rows}"
            f" and the embeddings {len(embeddings)}"
        )
    if {s: e.content_hash for s, e in catalog.items()} != dict(manifest.hashes):
        raise TableError("the documents of the tables are not those of the manifest")
    if embeddings.dtype != np.float32 or embeddings.shape[1:] != (manifest.spec.dimension,):
        raise TableError(f"embeddings.npy holds {embeddings.dtype} rows of {embeddings.shape[1:]}")
    data, indices, indptr = bm25
    if not isinstance(vocabulary, dict):
        raise TableError("bm25_vocabulary.json is not a map of terms to rows")
    terms = np.fromiter(vocabulary.values(), dtype=np.int64, count=len(vocabulary))
    if (
        len(indptr) != len(terms) + 1
        or len(data) != len(indices)
        or int(indptr[0]) != 0
        or int(indptr[-1]) != len(data)
        or bool((np.diff(indptr) < 0).any())
        or (
            len(terms)
            and (terms.min() < 0 or terms.max() >= len(terms) or np.bincount(terms).max() > 1)
        )
    ):
        raise TableError("the BM25 arrays and vocabulary do not fit together")


def _read_vectors(path: Path, manifest: Manifest) -> VectorIndex:
    """The vector index, which must be of the kind, size and dimension the manifest names."""
    try:
        vectors = VectorIndex.load(path)
    except RuntimeError as error:  # faiss raises RuntimeError for any unreadable file
        raise IndexCorrupt(f"index file {path} is unreadable") from error
    found = (vectors.kind, vectors.size, int(vectors.index.d))
    expected = (manifest.vector_kind, manifest.chunks, manifest.spec.dimension)
    if found != expected:
        raise IndexCorrupt(
            f"index file {path} holds a {found[0]} index of {found[1]} rows of dimension"
            f" {found[2]} but the manifest names a {expected[0]} index of {expected[1]} rows of"
            f" dimension {expected[2]}"
        )
    return vectors
