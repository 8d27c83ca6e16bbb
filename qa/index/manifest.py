"""The manifest of an index version: what built it and what each of its files must be, read
field by field, and the pointer ``CURRENT`` that names the live version with the manifest's
size and hash.

Every field is checked for its type and range as it is read, so a damaged manifest is a
clear error naming the field, never a wrong row or a traceback further on.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from qa.index.integrity import SHA256, FileRecord
from qa.index.tables import FILES as TABLE_FILES
from qa.types import Backend

BM25_ARRAYS = ("data", "indices", "indptr")
FILES = (
    *TABLE_FILES,
    "embeddings.npy",
    "vectors.faiss",
    *(f"bm25_{name}.npy" for name in BM25_ARRAYS),
    "bm25_vocabulary.json",
)
_ENCODER_FILE = re.compile(r"encoders/[0-9A-Za-z_-]+(?:\.int8)?\.onnx")
_VECTOR_KINDS = ("flat", "hnsw")
COLLECTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
"""What Milvus accepts as a collection name."""


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
    chunk_context: bool
    reader_version: int
    quantized: bool

    def as_manifest(self) -> dict[str, Any]:
        return {
            "model": {
                "name": self.model,
                "dimension": self.dimension,
                "max_tokens": self.max_tokens,
                "quantized": self.quantized,
            },
            "chunking": {
                "size": self.chunk_size,
                "overlap": self.chunk_overlap,
                "chunker_version": self.chunker_version,
                "tokenizer_version": self.tokenizer_version,
                "context": self.chunk_context,
                "reader_version": self.reader_version,
            },
        }


# --- the manifest --------------------------------------------------------------------------------


class ManifestError(ValueError):
    """A field of the manifest is missing, or of the wrong type or range; the message names it."""


def shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Fields:
    """One JSON object of the manifest, read field by field: every read checks the field's
    type and range and names the field if it fails, so no malformed value gets further."""

    def __init__(self, value: object, where: str) -> None:
        if not isinstance(value, dict):
            raise ManifestError(f"{where} must be an object, got {shown(value)}")
        self._value: dict[str, object] = value
        self._where = where

    def _name(self, key: str) -> str:
        return f"{self._where}.{key}"

    def _get(self, key: str) -> object:
        if key not in self._value:
            raise ManifestError(f"{self._name(key)} is missing")
        return self._value[key]

    def count(self, key: str, least: int = 0) -> int:
        value = self._get(key)
        if type(value) is not int or value < least:  # not bool, which is an int to Python
            raise ManifestError(
                f"{self._name(key)} must be a whole number from {least}, got {shown(value)}"
            )
        return value

    def text(self, key: str, pattern: re.Pattern[str] | None = None) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not value or (pattern and not pattern.fullmatch(value)):
            raise ManifestError(f"{self._name(key)} is not a valid value: {shown(value)}")
        return value

    def optional_text(self, key: str, pattern: re.Pattern[str]) -> str | None:
        """The text of ``key``, or None when the field is absent or null."""
        return None if self._value.get(key) is None else self.text(key, pattern)

    def group(self, key: str) -> _Fields:
        return _Fields(self._get(key), self._name(key))

    def groups(self, key: str) -> dict[str, _Fields]:
        """Each entry of the object ``key``, by its (non-empty) name."""
        value = self._get(key)
        if not isinstance(value, dict):
            raise ManifestError(f"{self._name(key)} must be an object, got {shown(value)}")
        if "" in value:
            raise ManifestError(f"{self._name(key)} has an entry without a name")
        return {
            name: _Fields(entry, f"{self._name(key)}[{name!r}]") for name, entry in value.items()
        }

    def flag(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise ManifestError(f"{self._name(key)} must be true or false, got {shown(value)}")
        return value

    def has_null(self, key: str) -> bool:
        return self._get(key) is None


def _record(fields: _Fields) -> FileRecord:
    return FileRecord(
        fields.count("bytes"),
        fields.text("sha256", SHA256),
        fields.optional_text("sampled_sha256", SHA256),
    )


@dataclass(frozen=True)
class SkippedFile:
    """A corpus file the build could not read, and why. ``hash`` is None when the file kept
    changing while it was read: whatever it holds then, the next build reads it again."""

    hash: str | None
    reason: str


@dataclass(frozen=True)
class EncoderRecord:
    """The query encoder a version was built with: its path in the index folder, its record."""

    file: str
    record: FileRecord


@dataclass(frozen=True)
class BackendRecord:
    """The search backend a version was built for: the embedded files only, or those and
    the Milvus ``collection`` holding the version's rows (qa.backends.milvus)."""

    kind: Backend = Backend.EMBEDDED
    collection: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "collection": self.collection}


@dataclass(frozen=True)
class Manifest:
    """What built a version and what each of its files must be, checked field by field."""

    format_version: int
    package_version: str
    created_at: str
    spec: BuildSpec
    documents: int
    chunks: int
    vector_kind: str
    hashes: Mapping[str, str]
    """The content hash of each indexed document (of the bytes its text was read from)."""
    skipped: Mapping[str, SkippedFile]
    files: Mapping[str, FileRecord]
    encoder: EncoderRecord | None
    backend: BackendRecord

    def as_json(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "package_version": self.package_version,
            "created_at": self.created_at,
            **self.spec.as_manifest(),
            "counts": {"documents": self.documents, "chunks": self.chunks},
            "vector_index": {"kind": self.vector_kind},
            "documents": {source: {"hash": value} for source, value in self.hashes.items()},
            "skipped": {
                source: {"hash": entry.hash, "reason": entry.reason}
                for source, entry in self.skipped.items()
            },
            "files": {name: record.as_json() for name, record in self.files.items()},
            "encoder": None
            if self.encoder is None
            else {"file": self.encoder.file, **self.encoder.record.as_json()},
            "backend": self.backend.as_json(),
        }

    @classmethod
    def from_json(cls, data: object) -> Manifest:
        """The manifest in ``data`` (parsed JSON), or ManifestError naming the first field
        that is missing or of the wrong type or range."""
        fields = _Fields(data, "manifest")
        model, chunking = fields.group("model"), fields.group("chunking")
        counts, vectors = fields.group("counts"), fields.group("vector_index")
        created_at = fields.text("created_at")
        try:
            datetime.fromisoformat(created_at)
        except ValueError:
            raise ManifestError(f"manifest.created_at is not a date: {shown(created_at)}") from None
        vector_kind = vectors.text("kind")
        if vector_kind not in _VECTOR_KINDS:
            raise ManifestError(f"manifest.vector_index.kind is unknown: {shown(vector_kind)}")
        files = {name: _record(entry) for name, entry in fields.groups("files").items()}
        if set(files) != set(FILES):
            raise ManifestError(f"manifest.files must list exactly {', '.join(FILES)}")
        encoder = None
        if not fields.has_null("encoder"):
            entry = fields.group("encoder")
            encoder = EncoderRecord(entry.text("file", _ENCODER_FILE), _record(entry))
        backend_fields = fields.group("backend")
        try:
            backend_kind = Backend(backend_fields.text("kind"))
        except ValueError:
            raise ManifestError(
                f"manifest.backend.kind is unknown: {shown(backend_fields.text('kind'))}"
            ) from None
        collection = backend_fields.optional_text("collection", COLLECTION_NAME)
        if (collection is None) != (backend_kind is Backend.EMBEDDED):
            raise ManifestError("manifest.backend.collection must name Milvus's collection only")
        skipped = {
            source: SkippedFile(entry.optional_text("hash", SHA256), entry.text("reason"))
            for source, entry in fields.groups("skipped").items()
        }
        hashes = {
            source: entry.text("hash", SHA256)
            for source, entry in fields.groups("documents").items()
        }
        if hashes.keys() & skipped.keys():
            raise ManifestError("manifest lists a document as both indexed and skipped")
        manifest = cls(
            format_version=fields.count("format_version"),
            package_version=fields.text("package_version"),
            created_at=created_at,
            spec=BuildSpec(
                model=model.text("name"),
                dimension=model.count("dimension", least=1),
                max_tokens=model.count("max_tokens", least=1),
                quantized=model.flag("quantized"),
                chunk_size=chunking.count("size", least=1),
                chunk_overlap=chunking.count("overlap"),
                chunker_version=chunking.count("chunker_version"),
                tokenizer_version=chunking.count("tokenizer_version"),
                chunk_context=chunking.flag("context"),
                reader_version=chunking.count("reader_version"),
            ),
            documents=counts.count("documents"),
            chunks=counts.count("chunks"),
            vector_kind=vector_kind,
            hashes=hashes,
            skipped=skipped,
            files=files,
            encoder=encoder,
            backend=BackendRecord(backend_kind, collection),
        )
        if manifest.documents != len(hashes):
            raise ManifestError(
                f"manifest.counts.documents is {manifest.documents} but"
                f" {len(hashes)} documents are listed"
            )
        return manifest


# --- the pointer ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pointer:
    """What ``CURRENT`` says: the live version, and the size and SHA-256 of its manifest
    (None in an index written before format 4, which had no checksum)."""

    version: str
    manifest_bytes: int | None
    manifest_sha256: str | None


def pointer_text(version: str, manifest: bytes) -> str:
    """The content of ``CURRENT`` naming ``version`` whose manifest is ``manifest``."""
    return f"{version} {len(manifest)} {hashlib.sha256(manifest).hexdigest()}\n"
