"""Save and load an index folder: the only module that writes it.

Layout::

    index/
      CURRENT                 name of the live version folder
      v-<time>-<id>/          one complete, immutable index version
        manifest.json         what built it and what every other file must be
        documents.jsonl       metadata of every document, and where its text is in texts.txt
        texts.txt             the text of every document, UTF-8, one after the other
        chunks.npy            one fixed-width row per chunk: document, offsets, section, paragraph
        labels.json           the section and paragraph strings chunks.npy points to
        embeddings.npy        float32 row vectors (kept for incremental builds)
        vectors.faiss         the FAISS index of those vectors: exact, or an HNSW graph
                              from Settings.ann_threshold rows on (manifest: vector_index)
        bm25_data.npy, bm25_indices.npy, bm25_indptr.npy
                              the BM25 weight matrix, term by row (CSR arrays, no pickle)
        bm25_vocabulary.json  term → matrix row
      .embeddings/            vectors of an unfinished build, to resume from (qa.index.checkpoint)

A version is written in a temporary folder, synced, renamed into place, and
only then named in ``CURRENT`` (an atomic rename), so a crash at any moment
leaves the previous version live. Writers (saving, cleaning) take the lock file
``.lock`` in turn, so two builds in two processes cannot delete each other's
work; readers take no lock.

Loading checks every field of the manifest and every file's size, then its hash: in
full for files up to FULL_HASH_BYTES, from evenly spread samples above that, so that
a million-passage index loads in seconds (``load(full_check=True)``, or
``qa index --verify``, reads every byte). Everything but the BM25 vocabulary and the
HNSW graph is memory-mapped, so memory holds only what queries touch.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from qa.index.lexical import BM25Index
from qa.index.tables import FILES as TABLE_FILES
from qa.index.tables import ChunkTable, TableError, read_tables, write_tables
from qa.index.vectors import VectorIndex
from qa.types import CatalogEntry, Chunk, Document

try:
    import fcntl
except ImportError:  # Windows: there, one writer at a time is the user's care
    fcntl = None  # type: ignore[assignment]

# 2: columnar, memory-mapped tables; 3: documents carry their format, kind and organisation,
# chunks their pages
FORMAT_VERSION = 3
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
LOCK = ".lock"
_BM25_ARRAYS = ("data", "indices", "indptr")
_FILES = (
    *TABLE_FILES,
    "embeddings.npy",
    "vectors.faiss",
    *(f"bm25_{name}.npy" for name in _BM25_ARRAYS),
    "bm25_vocabulary.json",
)
# Hashing every byte of a million-passage index at each load takes longer than the load.
FULL_HASH_BYTES = 64 << 20
SAMPLE_BLOCKS = 64
SAMPLE_BLOCK_BYTES = 1 << 16


class IndexProblem(RuntimeError):
    """Base for index problems; the message says what to run."""


class IndexMissing(IndexProblem):
    pass


class IndexIncompatible(IndexProblem):
    """The index was built with other settings or by another format version."""


class IndexCorrupt(IndexProblem):
    """A file of the index is missing, truncated or altered."""


@dataclass(frozen=True)
class BuildSpec:
    """What an index must have been built with to be used as is."""

    model: str
    dimension: int
    max_tokens: int
    chunk_size: int
    chunk_overlap: int
    chunker_version: int
    tokenizer_version: int

    def as_manifest(self) -> dict[str, Any]:
        return {
            "model": {
                "name": self.model,
                "dimension": self.dimension,
                "max_tokens": self.max_tokens,
            },
            "chunking": {
                "size": self.chunk_size,
                "overlap": self.chunk_overlap,
                "chunker_version": self.chunker_version,
                "tokenizer_version": self.tokenizer_version,
            },
        }


@dataclass
class Snapshot:
    """One loaded index version; row *i* of chunks, embeddings, vectors and bm25 is the same chunk.

    ``catalog`` answers titles and dates without reading texts; ``documents`` and
    ``chunks`` read their texts from the mapped files on access.
    """

    path: Path
    manifest: dict[str, Any]
    catalog: dict[str, CatalogEntry]
    documents: Mapping[str, Document]
    chunks: ChunkTable
    embeddings: np.ndarray
    vectors: VectorIndex
    bm25: BM25Index
    rows_of: dict[str, range] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return self.path.name

    @cached_property
    def years(self) -> frozenset[int]:
        """The years the corpus has documents of."""
        return frozenset(e.year for e in self.catalog.values() if e.year is not None)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _sampled_sha256(path: Path) -> str:
    """The hash of SAMPLE_BLOCKS blocks spread evenly over the file, first and last included:
    it catches a file replaced or rewritten, not a single byte flipped in the middle."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    last = max(size - SAMPLE_BLOCK_BYTES, 0)
    with path.open("rb") as handle:
        for number in range(SAMPLE_BLOCKS):
            handle.seek(last * number // (SAMPLE_BLOCKS - 1))
            digest.update(handle.read(SAMPLE_BLOCK_BYTES))
    return digest.hexdigest()


def _file_record(path: Path) -> dict[str, Any]:
    size = path.stat().st_size
    record: dict[str, Any] = {"bytes": size, "sha256": _sha256(path)}
    if size > FULL_HASH_BYTES:
        record["sampled_sha256"] = _sampled_sha256(path)
    return record


def _check_file(path: Path, expected: dict[str, Any], full_check: bool) -> None:
    if not path.is_file() or path.stat().st_size != expected["bytes"]:
        raise IndexCorrupt(f"index file {path} is missing or truncated; run `qa index --rebuild`")
    if full_check or "sampled_sha256" not in expected:
        intact = _sha256(path) == expected["sha256"]
    else:
        intact = _sampled_sha256(path) == expected["sampled_sha256"]
    if not intact:
        raise IndexCorrupt(f"index file {path} was altered; run `qa index --rebuild`")


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qa")
    except PackageNotFoundError:
        return "0+unknown"


def _fsync_folder(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def _writer_lock(root: Path) -> Iterator[None]:
    """Hold the index folder's writer lock. The kernel releases it when its holder dies, so a
    killed build never leaves the folder locked."""
    with (root / LOCK).open("a") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield


class IndexStore:
    """An index folder holding versions and a pointer to the live one."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def current(self) -> Path | None:
        pointer = self.root / CURRENT
        try:
            name = pointer.read_text(encoding="utf-8").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        path = self.root / name
        return path if name and path.is_dir() else None

    def read_manifest(self) -> dict[str, Any] | None:
        """The live manifest, or None when there is no readable index."""
        path = self.current()
        if path is None:
            return None
        try:
            manifest: dict[str, Any] = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        return manifest

    def clean(self) -> list[str]:
        """Remove what interrupted builds left and versions older than the previous one."""
        if not self.root.is_dir():
            return []
        with _writer_lock(self.root):
            return self._clean()

    def _clean(self) -> list[str]:
        live = self.current()
        versions = sorted(p for p in self.root.glob("v-*") if p.is_dir() and p != live)
        removed = [p for p in self.root.glob(".tmp-*")] + versions[:-1]
        for path in removed:
            shutil.rmtree(path, ignore_errors=True)
        (self.root / f"{CURRENT}.tmp").unlink(missing_ok=True)
        return [p.name for p in removed]

    def save(
        self,
        spec: BuildSpec,
        documents: list[Document],
        chunks: list[Chunk],
        embeddings: np.ndarray,
        vectors: VectorIndex,
        bm25: BM25Index,
        skipped: dict[str, dict[str, str | None]] | None = None,
    ) -> Path:
        """Write a complete new version and make it live; return its folder."""
        self.root.mkdir(parents=True, exist_ok=True)
        with _writer_lock(self.root):
            return self._save(spec, documents, chunks, embeddings, vectors, bm25, skipped)

    def _save(
        self,
        spec: BuildSpec,
        documents: list[Document],
        chunks: list[Chunk],
        embeddings: np.ndarray,
        vectors: VectorIndex,
        bm25: BM25Index,
        skipped: dict[str, dict[str, str | None]] | None,
    ) -> Path:
        self._clean()
        # Microseconds, so that names sort in build order even for builds within one second:
        # clean() keeps the newest non-live version, the one a reader may still be loading.
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"v-{stamp}-{uuid.uuid4().hex[:8]}"
        temporary = self.root / f".tmp-{name}"
        temporary.mkdir()

        write_tables(temporary, documents, chunks)
        np.save(temporary / "embeddings.npy", np.ascontiguousarray(embeddings, dtype=np.float32))
        vectors.save(temporary / "vectors.faiss")
        for array in _BM25_ARRAYS:
            np.save(temporary / f"bm25_{array}.npy", getattr(bm25.weights, array))
        (temporary / "bm25_vocabulary.json").write_text(
            json.dumps(bm25.vocabulary), encoding="utf-8"
        )

        rows: dict[str, dict[str, Any]] = {}
        for row, chunk in enumerate(chunks):
            entry = rows.setdefault(chunk.source, {"first_row": row, "rows": 0})
            entry["rows"] += 1
        manifest = {
            "format_version": FORMAT_VERSION,
            "package_version": _package_version(),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **spec.as_manifest(),
            "counts": {"documents": len(documents), "chunks": len(chunks)},
            "vector_index": {"kind": vectors.kind, "rows": vectors.size},
            "documents": {
                d.source: {
                    "hash": d.content_hash,
                    **rows.get(d.source, {"first_row": 0, "rows": 0}),
                }
                for d in documents
            },
            "skipped": skipped or {},
            "files": {file: _file_record(temporary / file) for file in _FILES},
        }
        (temporary / MANIFEST).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        for file in (*_FILES, MANIFEST):
            with (temporary / file).open("rb") as handle:
                os.fsync(handle.fileno())
        _fsync_folder(temporary)

        final = self.root / name
        temporary.rename(final)
        pointer = self.root / f"{CURRENT}.tmp"
        pointer.write_text(name + "\n", encoding="utf-8")
        with pointer.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(pointer, self.root / CURRENT)
        _fsync_folder(self.root)
        self._clean()
        return final

    def load(self, spec: BuildSpec | None = None, full_check: bool = False) -> Snapshot:
        """The live version, checked against ``spec`` field by field and file by file
        (every byte of every file with ``full_check``)."""
        path = self.current()
        if path is None:
            raise IndexMissing(f"no index in {self.root}: run `qa index` to build it")
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise IndexCorrupt(
                f"index manifest {path / MANIFEST} is unreadable ({error}); "
                "run `qa index --rebuild`"
            ) from error
        check_manifest(manifest, spec)
        for file, expected in manifest["files"].items():
            _check_file(path / file, expected, full_check)
        return _read_snapshot(path, manifest)


def check_manifest(manifest: dict[str, Any], spec: BuildSpec | None) -> None:
    """Raise IndexIncompatible naming the first field that differs from ``spec``."""
    found = manifest.get("format_version")
    if found != FORMAT_VERSION:
        raise IndexIncompatible(
            f"unsupported index format {found!r} (this version reads {FORMAT_VERSION}); "
            "run `qa index --rebuild`"
        )
    if spec is None:
        return
    expected = spec.as_manifest()
    for group in ("model", "chunking"):
        for key, value in expected[group].items():
            actual = manifest.get(group, {}).get(key)
            if actual != value:
                raise IndexIncompatible(
                    f"index was built with {group}.{key} = {actual!r} but the settings ask for {value!r}; "
                    "run `qa index --rebuild`"
                )


def _read_snapshot(path: Path, manifest: dict[str, Any]) -> Snapshot:
    try:
        catalog, documents, chunks = read_tables(path)
    except (TableError, KeyError, ValueError) as error:
        raise IndexCorrupt(
            f"index {path} is unreadable ({error}); run `qa index --rebuild`"
        ) from error
    embeddings = np.load(path / "embeddings.npy", mmap_mode="r")
    data, indices, indptr = (
        np.load(path / f"bm25_{array}.npy", mmap_mode="r") for array in _BM25_ARRAYS
    )
    vocabulary = json.loads((path / "bm25_vocabulary.json").read_text(encoding="utf-8"))
    if len(chunks) != len(embeddings) or len(indptr) != len(vocabulary) + 1:
        raise IndexCorrupt(f"index {path} has inconsistent row counts; run `qa index --rebuild`")
    weights = sp.csr_matrix(
        (data, indices, indptr), shape=(len(vocabulary), len(chunks)), copy=False
    )
    rows_of = {
        source: range(entry["first_row"], entry["first_row"] + entry["rows"])
        for source, entry in manifest["documents"].items()
    }
    vectors = _read_vectors(path / "vectors.faiss", manifest, len(chunks))
    return Snapshot(
        path=path,
        manifest=manifest,
        catalog=catalog,
        documents=documents,
        chunks=chunks,
        embeddings=embeddings,
        vectors=vectors,
        bm25=BM25Index(vocabulary, weights),
        rows_of=rows_of,
    )


def _read_vectors(path: Path, manifest: dict[str, Any], rows: int) -> VectorIndex:
    """The vector index, which must be of the kind and size the manifest names."""
    try:
        vectors = VectorIndex.load(path)
    except RuntimeError as error:  # faiss raises RuntimeError for any unreadable file
        raise IndexCorrupt(f"index file {path} is unreadable; run `qa index --rebuild`") from error
    expected = manifest.get("vector_index", {"kind": "flat", "rows": rows})
    if (vectors.kind, vectors.size) != (expected.get("kind"), expected.get("rows", rows)):
        raise IndexCorrupt(
            f"index file {path} holds a {vectors.kind} index of {vectors.size} rows but the"
            f" manifest names a {expected.get('kind')} index of {expected.get('rows')} rows;"
            " run `qa index --rebuild`"
        )
    return vectors
