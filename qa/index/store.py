"""Save and load an index folder: the only module that writes it.

Layout::

    index/
      CURRENT                 the live version's name, and the size and SHA-256 of its manifest
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
      encoders/<key>.onnx     the query encoder exported from the model, shared by versions
                              (qa.index.embedders); a manifest records the one it was built with
      .embeddings/            vectors of an unfinished build, to resume from (qa.index.checkpoint)
      milvus.db               with backend = "milvus" and no milvus_uri: the Milvus Lite file
                              holding a collection per version (qa.backends.milvus)

A version is written in a temporary folder, synced, renamed into place, and
only then named in ``CURRENT`` (an atomic rename), so a crash at any moment
leaves the previous version live. Writers (saving, cleaning) take the lock file
``.lock`` in turn, so two builds in two processes cannot delete each other's
work; readers take no lock. When the folder is read-only or the disk fills up,
saving ends in :class:`IndexUnwritable`, removes what it wrote and leaves the
previous version live.

A build for Milvus gives :meth:`IndexStore.save` a :class:`Publisher`, which writes the
version's rows into a new collection while the lock is held, before the manifest (which
names the collection) is written; so the pointer switch publishes the files and the
collection together, and a kill before it leaves the previous version and its collection
live. Cleaning drops the collections of versions it removes, or of builds that never
finished.

Nothing read back is trusted. ``CURRENT`` and the manifest are read only if they are
regular files of bounded size (a pipe or a link to ``/dev/zero`` in their place is
refused, not waited on or read forever). The manifest must have the size and SHA-256
that ``CURRENT`` states, so one flipped byte anywhere in it is caught before any of its
fields is used; every field is then checked by type and range (:class:`Manifest`), every
file by size and hash (:mod:`qa.index.integrity`: in full up to FULL_HASH_BYTES, by
samples above, in full with ``load(full_check=True)`` or ``qa index --verify``), the
query encoder always in full, and the files against each other. Which rows belong to
which document is read from ``chunks.npy`` itself. Everything but the BM25 vocabulary and
the HNSW graph is memory-mapped, so memory holds only what queries touch.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.filesystem import read_bounded
from qa.index.integrity import FileRecord, file_problem, file_record
from qa.index.lexical import BM25Index
from qa.index.manifest import (
    BM25_ARRAYS,
    FILES,
    BackendRecord,
    BuildSpec,
    EncoderRecord,
    Manifest,
    ManifestError,
    Pointer,
    SkippedFile,
    pointer_text,
    shown,
)
from qa.index.problems import (
    IndexCorrupt,
    IndexIncompatible,
    IndexMissing,
    IndexOutdated,
    IndexProblem,
    IndexUnwritable,
)
from qa.index.snapshot import Snapshot, read_snapshot
from qa.index.tables import write_tables
from qa.index.vectors import VectorIndex
from qa.types import Chunk, Document

try:
    import fcntl
except ImportError:  # Windows: there, one writer at a time is the user's care
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

# 2: columnar, memory-mapped tables; 3: documents carry their format, kind and organisation,
# chunks their pages; 4: CURRENT holds the manifest's size and hash, the manifest records the
# query encoder, and row ranges are read from chunks.npy; 5: the manifest records the search
# backend (qa.backends) the version was built for
FORMAT_VERSION = 5
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
LOCK = ".lock"
POINTER_MAX_BYTES = 256
"""``CURRENT`` holds one line of about 110 bytes."""
MANIFEST_MAX_BYTES = 1 << 29
"""About 200 bytes a document: room for two million documents, and no more read into memory."""
_VERSION = r"v-[0-9]{8}T[0-9]{6,12}-[0-9a-f]{8}"
_POINTER = re.compile(rf"({_VERSION})(?: ([0-9]{{1,12}}) ([0-9a-f]{{64}}))?\n?")
_ENCODER_FILE = re.compile(r"encoders/[0-9A-Za-z_-]+\.onnx")
_WRITE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)


def _unwritable(root: Path, error: OSError) -> IndexUnwritable:
    """The sentence for a write that failed with ``error``, saying what the user can do."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return IndexUnwritable(
            f"the index could not be saved because the disk holding {root} is full; the"
            " previous index is unchanged: free some space and run `qa index` again"
        )
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return IndexUnwritable(
            f"the index folder {root} cannot be written ({error.strerror}): make it writable,"
            " or choose another folder with --index"
        )
    return IndexUnwritable(
        f"the index could not be saved in {root} ({error.strerror or error}); the previous"
        " index is unchanged"
    )


# --- the store -----------------------------------------------------------------------------------


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


class Publisher(Protocol):
    """Writes a version's rows into a search engine outside the folder (qa.backends.milvus).

    :meth:`publish` runs under the writer lock while the version is written, before its
    manifest, and returns what the manifest records; :meth:`activate` runs once the version
    is live; :meth:`clean` drops what belongs to no version in ``versions`` (those kept).
    """

    def publish(self, version: str) -> BackendRecord: ...

    def activate(self, record: BackendRecord) -> None: ...

    def clean(self, versions: frozenset[str]) -> None: ...


class IndexStore:
    """An index folder holding versions and a pointer to the live one."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _pointer(self) -> Pointer:
        """What ``CURRENT`` says; IndexMissing if there is none, IndexCorrupt if it cannot be
        read as a pointer (a byte flipped in it, or something else put in its place)."""
        path = self.root / CURRENT
        try:
            data = read_bounded(path, POINTER_MAX_BYTES)
        except (FileNotFoundError, NotADirectoryError):
            raise IndexMissing(f"no index yet in {self.root}") from None
        except OSError as error:
            raise IndexCorrupt(
                f"the index pointer {path} cannot be read ({error.strerror or error})"
            ) from error
        match = _POINTER.fullmatch(data.decode("ascii", "replace"))
        if match is None:
            raise IndexCorrupt(
                f"the index pointer {path} is damaged (it does not name an index version)"
            )
        version, size, digest = match.groups()
        return Pointer(version, int(size) if size else None, digest)

    def current(self) -> Path | None:
        """The live version's folder, or None when there is none or ``CURRENT`` is unreadable
        (cleaning then keeps the newest version, and a build replaces the pointer)."""
        try:
            pointer = self._pointer()
        except IndexProblem:
            return None
        path = self.root / pointer.version
        return path if path.is_dir() else None

    def _manifest_json(self, pointer: Pointer) -> Any:
        """The parsed manifest of the version ``pointer`` names, after checking its size and
        hash against the pointer (when the pointer has them)."""
        folder = self.root / pointer.version
        path = folder / MANIFEST
        if not folder.is_dir():
            raise IndexCorrupt(
                f"the index pointer {self.root / CURRENT} names version {pointer.version},"
                " which is not there"
            )
        try:
            data = read_bounded(path, MANIFEST_MAX_BYTES)
        except OSError as error:
            raise IndexCorrupt(
                f"index manifest {path} cannot be read ({error.strerror or error})"
            ) from error
        if pointer.manifest_sha256 is not None and (
            len(data) != pointer.manifest_bytes
            or hashlib.sha256(data).hexdigest() != pointer.manifest_sha256
        ):
            raise IndexCorrupt(
                f"index manifest {path} does not match its checksum in {CURRENT} (damaged or"
                " edited)"
            )
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            raise IndexCorrupt(f"index manifest {path} is not valid JSON ({error})") from error

    def read_manifest(self) -> dict[str, Any] | None:
        """The live manifest as parsed JSON, or None when there is no readable index.

        Only for telling which format of qa wrote the index, which works for earlier formats
        too (their manifests have other fields, and no checksum); :meth:`load` checks the rest.
        """
        try:
            data = self._manifest_json(self._pointer())
        except IndexProblem:
            return None
        return data if isinstance(data, dict) else None

    def clean(self, publisher: Publisher | None = None) -> list[str]:
        """Remove what interrupted builds left and versions older than the previous one
        (and, with ``publisher``, what they left outside the folder).

        Best effort: in a folder that cannot be written (read-only, say) nothing is removed,
        with a warning if something should have been; the index still serves.
        """
        if not self.root.is_dir():
            return []
        try:
            with _writer_lock(self.root):
                return self._clean(publisher)
        except OSError as error:
            if self._leftovers():
                log.warning("cannot clean the index folder %s (%s)", self.root, error)
            return []

    def _leftovers(self) -> list[Path]:
        live = self.current()
        versions = sorted(p for p in self.root.glob("v-*") if p.is_dir() and p != live)
        return [*self.root.glob(".tmp-*"), *versions[:-1]]

    def _clean(self, publisher: Publisher | None) -> list[str]:
        removed = self._leftovers()
        for path in removed:
            shutil.rmtree(path, ignore_errors=True)
        with contextlib.suppress(OSError):
            (self.root / f"{CURRENT}.tmp").unlink(missing_ok=True)
        if publisher is not None:
            publisher.clean(frozenset(p.name for p in self.root.glob("v-*") if p.is_dir()))
        return [p.name for p in removed]

    def save(
        self,
        spec: BuildSpec,
        documents: list[Document],
        chunks: list[Chunk],
        embeddings: np.ndarray,
        vectors: VectorIndex,
        bm25: BM25Index,
        skipped: Mapping[str, SkippedFile] | None = None,
        encoder: Path | None = None,
        publisher: Publisher | None = None,
    ) -> Path:
        """Write a complete new version and make it live; return its folder.

        ``encoder`` is the query encoder (in this folder) the version is built with; its
        record in the manifest makes every load check it. ``publisher`` also writes the rows
        into a search engine outside the folder, published with the version. IndexUnwritable
        if the folder cannot be written, the previous version still live.
        """

        def write(folder: Path, version: str) -> tuple[bytes, BackendRecord]:
            record = publisher.publish(version) if publisher else BackendRecord()
            manifest = self._write_version(
                folder,
                spec,
                documents,
                chunks,
                embeddings,
                vectors,
                bm25,
                skipped or {},
                encoder,
                record,
            )
            return manifest, record

        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with _writer_lock(self.root):
                return self._save(write, publisher)
        except OSError as error:
            raise _unwritable(self.root, error) from error

    def _save(
        self,
        write: Callable[[Path, str], tuple[bytes, BackendRecord]],
        publisher: Publisher | None,
    ) -> Path:
        """Make a version folder with ``write`` (which returns the manifest's bytes and the
        backend's record), move it into place and point ``CURRENT`` at it; on failure remove
        what was written."""
        self._clean(publisher)
        # Microseconds, so that names sort in build order even for builds within one second:
        # clean() keeps the newest non-live version, the one a reader may still be loading.
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"v-{stamp}-{uuid.uuid4().hex[:8]}"
        temporary = self.root / f".tmp-{name}"
        final = self.root / name
        try:
            temporary.mkdir()
            manifest, record = write(temporary, name)
            temporary.rename(final)
        except OSError:  # a full disk, say: give back the space this build took
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        pointer = self.root / f"{CURRENT}.tmp"
        try:
            pointer.write_text(pointer_text(name, manifest), encoding="ascii")
            with pointer.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(pointer, self.root / CURRENT)
        except OSError:
            shutil.rmtree(final, ignore_errors=True)
            pointer.unlink(missing_ok=True)
            raise
        try:
            _fsync_folder(self.root)
        except OSError as error:  # the new version is live already: nothing to undo
            log.warning("cannot sync the index folder %s (%s)", self.root, error)
        if publisher is not None:
            publisher.activate(record)
        self._clean(publisher)
        return final

    def _write_version(
        self,
        folder: Path,
        spec: BuildSpec,
        documents: list[Document],
        chunks: list[Chunk],
        embeddings: np.ndarray,
        vectors: VectorIndex,
        bm25: BM25Index,
        skipped: Mapping[str, SkippedFile],
        encoder: Path | None,
        backend: BackendRecord,
    ) -> bytes:
        """Write every file of a version into ``folder`` and sync them; return the manifest."""
        write_tables(folder, documents, chunks)
        np.save(folder / "embeddings.npy", np.ascontiguousarray(embeddings, dtype=np.float32))
        try:
            vectors.save(folder / "vectors.faiss")
        except RuntimeError as error:  # faiss reports a failed write with the reason in words
            code = next((c for c in _WRITE_ERRORS if os.strerror(c) in str(error)), errno.EIO)
            raise OSError(code, os.strerror(code), str(folder / "vectors.faiss")) from error
        for array in BM25_ARRAYS:
            np.save(folder / f"bm25_{array}.npy", getattr(bm25.weights, array))
        (folder / "bm25_vocabulary.json").write_text(json.dumps(bm25.vocabulary), encoding="utf-8")

        manifest = Manifest(
            format_version=FORMAT_VERSION,
            package_version=_package_version(),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            spec=spec,
            documents=len(documents),
            chunks=len(chunks),
            vector_kind=vectors.kind,
            hashes={d.source: d.content_hash for d in documents},
            skipped=skipped,
            files={file: file_record(folder / file) for file in FILES},
            encoder=None
            if encoder is None
            else EncoderRecord(
                encoder.relative_to(self.root).as_posix(), file_record(encoder, always_full=True)
            ),
            backend=backend,
        )
        data = json.dumps(manifest.as_json(), indent=2, ensure_ascii=False).encode("utf-8")
        (folder / MANIFEST).write_bytes(data)
        for file in (*FILES, MANIFEST):
            with (folder / file).open("rb") as handle:
                os.fsync(handle.fileno())
        _fsync_folder(folder)
        return data

    def load(self, spec: BuildSpec | None = None, full_check: bool = False) -> Snapshot:
        """The live version, checked against ``spec`` field by field and file by file
        (every byte of every file with ``full_check``)."""
        pointer = self._pointer()
        data = self._manifest_json(pointer)
        found = data.get("format_version") if isinstance(data, dict) else None
        if found != FORMAT_VERSION:
            raise IndexOutdated(
                f"unsupported index format {shown(found)} (this version reads {FORMAT_VERSION})"
            )
        folder = self.root / pointer.version
        if pointer.manifest_sha256 is None:  # this format always writes it
            raise IndexCorrupt(
                f"the index pointer {self.root / CURRENT} has lost the checksum of its manifest"
            )
        try:
            manifest = Manifest.from_json(data)
        except ManifestError as error:
            raise IndexCorrupt(
                f"index manifest {folder / MANIFEST} is invalid ({error})"
            ) from error
        if manifest.encoder is not None:
            # In full at every load: one flipped weight changes every question's vector. First,
            # as a damaged encoder also makes the question encoder fall back to the model
            # itself, which the spec would then report as other settings.
            _check_file(self.root / manifest.encoder.file, manifest.encoder.record, True)
        _check_spec(manifest, spec)
        for file, expected in manifest.files.items():
            _check_file(folder / file, expected, full_check)
        return read_snapshot(folder, manifest)


def _check_file(path: Path, expected: FileRecord, full_check: bool) -> None:
    problem = file_problem(path, expected, full_check)
    if problem is not None:
        raise IndexCorrupt(f"index file {path} {problem}")


def _check_spec(manifest: Manifest, spec: BuildSpec | None) -> None:
    """Raise IndexIncompatible naming the first field that differs from ``spec``."""
    if spec is None:
        return
    built, expected = manifest.spec.as_manifest(), spec.as_manifest()
    for group in ("model", "chunking"):
        for key, value in expected[group].items():
            actual = built[group][key]
            if actual != value:
                raise IndexIncompatible(
                    f"index was built with {group}.{key} = {actual!r} but the settings ask for {value!r}"
                )
