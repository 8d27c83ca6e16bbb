"""Files → Documents: the only package that reads documents.

Supported: .txt, .md, .html/.htm, .pdf, .docx. A file that cannot be read is
reported as a :class:`LoadError` naming it and the reason; the others still load.
``files`` finds the files and hashes them, ``readers`` turns each format into an
:class:`~qa.corpus.structure.Extracted` (text, stated title, pages, headings), ``metadata``
reads title, organisation, kind and date from the text
(:func:`qa.corpus.metadata.extract_metadata`; a sidecar file overrides them).

Example::

    loaded = load_corpus(Path("corpus"))
    for error in loaded.errors:
        print(error)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from qa.corpus.files import (
    SIDECAR,
    CorpusFile,
    file_hash,
    oversize_reason,
    read_sidecar,
    scan_corpus,
)
from qa.corpus.metadata import extract_metadata
from qa.corpus.readers import SUFFIXES, decode_text, extract
from qa.corpus.structure import DocumentError, Extracted
from qa.types import Document, LoadError

__all__ = [
    "SIDECAR",
    "SUFFIXES",
    "CorpusFile",
    "CorpusLoad",
    "DocumentError",
    "Extracted",
    "decode_text",
    "file_hash",
    "load_corpus",
    "read_bytes_as_document",
    "read_document",
    "read_documents",
    "scan_corpus",
]


@dataclass(frozen=True)
class CorpusLoad:
    documents: tuple[Document, ...]
    errors: tuple[LoadError, ...]


def read_document(file: CorpusFile, max_bytes: int) -> Document:
    """Parse one file into a Document, or raise DocumentError saying why not."""
    try:
        size = file.path.stat().st_size
    except OSError as error:  # removed or replaced since the corpus was scanned
        raise DocumentError(f"cannot read file ({error.strerror or error})") from error
    if size == 0:
        raise DocumentError("empty file")
    if size > max_bytes:
        raise DocumentError(oversize_reason(size, max_bytes))
    kind = SUFFIXES[file.path.suffix.lower()]
    try:
        extracted = extract(kind, file.path, max_bytes)
    except RecursionError as error:
        raise DocumentError("document structure is nested too deeply to read") from error
    except OSError as error:
        raise DocumentError(f"cannot read file ({error.strerror or error})") from error
    if not extracted.text.strip():
        raise DocumentError(
            "no text found (a scanned PDF needs OCR first)" if kind == "pdf" else "no text found"
        )
    metadata = extract_metadata(
        file.source, extracted.text, extracted.title, read_sidecar(file.path)
    )
    return Document(
        source=file.source,
        text=extracted.text,
        title=metadata.title,
        date=metadata.date,
        content_hash=file.content_hash,
        format=kind,
        kind=metadata.kind,
        organisation=metadata.organisation,
        pages=extracted.pages,
        headings=extracted.headings,
    )


def read_documents(files: Iterable[CorpusFile], max_bytes: int) -> CorpusLoad:
    documents: list[Document] = []
    errors: list[LoadError] = []
    for file in files:
        try:
            documents.append(read_document(file, max_bytes))
        except DocumentError as error:
            errors.append(LoadError(file.source, str(error)))
    return CorpusLoad(tuple(documents), tuple(errors))


def load_corpus(root: Path, max_bytes: int = 100_000_000) -> CorpusLoad:
    """All readable documents under ``root`` and an error for each file that is not."""
    files, scan_errors = scan_corpus(root, max_bytes)
    loaded = read_documents(files, max_bytes)
    return CorpusLoad(loaded.documents, tuple(scan_errors) + loaded.errors)


def read_bytes_as_document(source: str, data: bytes, folder: Path, max_bytes: int) -> Document:
    """Validate an upload by parsing it from a scratch folder before it enters the corpus."""
    path = folder / Path(source).name
    path.write_bytes(data)
    return read_document(CorpusFile(source, path, hashlib.sha256(data).hexdigest()), max_bytes)
