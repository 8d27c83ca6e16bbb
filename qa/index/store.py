"""An index folder, read: find its live version and verify it before anything is used.

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

:mod:`qa.index.writer` is the only module that writes the folder: a version is made
complete in a temporary folder and only then named in ``CURRENT``, one writer at a time;
readers take no lock. :mod:`qa.index.snapshot` reads a verified version's files.

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

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from qa.filesystem import read_bounded
from qa.index.integrity import FileRecord, file_problem
from qa.index.manifest import BuildSpec, Manifest, ManifestError, Pointer, shown
from qa.index.problems import (
    IndexCorrupt,
    IndexIncompatible,
    IndexMissing,
    IndexOutdated,
    IndexProblem,
)
from qa.index.snapshot import Snapshot, read_snapshot

# 2: columnar, memory-mapped tables; 3: documents carry their format, kind and organisation,
# chunks their pages; 4: CURRENT holds the manifest's size and hash, the manifest records the
# query encoder, and row ranges are read from chunks.npy; 5: the manifest records the search
# backend (qa.backends) the version was built for
FORMAT_VERSION = 5
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
POINTER_MAX_BYTES = 256
"""``CURRENT`` holds one line of about 110 bytes."""
MANIFEST_MAX_BYTES = 1 << 29
"""About 200 bytes a document: room for two million documents, and no more read into memory."""
_VERSION = r"v-[0-9]{8}T[0-9]{6,12}-[0-9a-f]{8}"
_POINTER = re.compile(rf"({_VERSION})(?: ([0-9]{{1,12}}) ([0-9a-f]{{64}}))?\n?")


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
