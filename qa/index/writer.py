"""Writing an index folder (:mod:`qa.index.store` describes it): a new version made live,
and what older and interrupted builds left removed. The only module that writes the folder.

A version is written in a temporary folder, synced, renamed into place, and
only then named in ``CURRENT`` (an atomic rename), so a crash at any moment
leaves the previous version live. Writers (saving, cleaning) take the lock file
``.lock`` in turn, so two builds in two processes cannot delete each other's
work; readers take no lock. When the folder is read-only or the disk fills up,
saving ends in :class:`IndexUnwritable`, removes what it wrote and leaves the
previous version live.

A build for Milvus gives :meth:`IndexWriter.save` a :class:`Publisher`, which writes the
version's rows into a new collection while the lock is held, before the manifest (which
names the collection) is written; so the pointer switch publishes the files and the
collection together, and a kill before it leaves the previous version and its collection
live. Cleaning drops the collections of versions it removes, or of builds that never
finished.

Example::

    IndexWriter(settings.index).save(spec, tables, embeddings, vectors, bm25)
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.index.integrity import file_record
from qa.index.lexical import BM25Index
from qa.index.manifest import (
    BM25_ARRAYS,
    FILES,
    BackendRecord,
    BuildSpec,
    EncoderRecord,
    Manifest,
    SkippedFile,
    pointer_text,
)
from qa.index.problems import IndexUnwritable
from qa.index.store import CURRENT, FORMAT_VERSION, MANIFEST, IndexStore
from qa.index.tables import Tables, write_tables
from qa.index.vectors import VectorIndex

try:
    import fcntl
except ImportError:  # Windows: there, one writer at a time is the user's care
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

LOCK = ".lock"
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


class IndexWriter:
    """The one writer of an index folder: it saves versions and cleans up after builds."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._store = IndexStore(root)

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
        live = self._store.current()
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
        tables: Tables,
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
                tables,
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
        tables: Tables,
        embeddings: np.ndarray,
        vectors: VectorIndex,
        bm25: BM25Index,
        skipped: Mapping[str, SkippedFile],
        encoder: Path | None,
        backend: BackendRecord,
    ) -> bytes:
        """Write every file of a version into ``folder`` and sync them; return the manifest."""
        write_tables(folder, tables)
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
            documents=len(tables.catalog),
            chunks=len(tables.chunks),
            vector_kind=vectors.kind,
            hashes={source: entry.content_hash for source, entry in tables.catalog.items()},
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
