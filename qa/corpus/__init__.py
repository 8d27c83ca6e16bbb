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
from qa.corpus.structure import DocumentError, Extracted, ReadLimits
from qa.types import Document, LoadError

__all__ = [
    "SIDECAR",
    "SUFFIXES",
    "CorpusFile",
    "CorpusLoad",
    "DocumentError",
    "Extracted",
    "ReadLimits",
    "decode_text",
    "file_hash",
    "load_corpus",
    "read_document",
    "read_documents",
    "scan_corpus",
]


@dataclass(frozen=True)
class CorpusLoad:
    documents: tuple[Document, ...]
    errors: tuple[LoadError, ...]


def read_document(file: CorpusFile, limits: ReadLimits) -> Document:
    """Parse one file into a Document, or raise DocumentError saying why not.

    The readers keep ``limits`` while they parse; time and memory are kept by
    :class:`~qa.corpus.worker.DocumentReader`, which runs this where it can be stopped.
    """
    try:
        size = file.path.stat().st_size
    except OSError as error:  # removed or replaced since the corpus was scanned
        raise DocumentError(f"cannot read file ({error.strerror or error})") from error
    if size == 0:
        raise DocumentError("empty file")
    if size > limits.max_bytes:
        raise DocumentError(oversize_reason(size, limits.max_bytes))
    kind = SUFFIXES[file.path.suffix.lower()]
    try:
        extracted = extract(kind, file.path, limits)
    except RecursionError as error:
        raise DocumentError("document structure is nested too deeply to read") from error
    except OSError as error:
        raise DocumentError(f"cannot read file ({error.strerror or error})") from error
    if len(extracted.text) > limits.max_chars:
        raise limits.too_many_chars("document")
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


def read_documents(files: Iterable[CorpusFile], limits: ReadLimits) -> CorpusLoad:
    documents: list[Document] = []
    errors: list[LoadError] = []
    for file in files:
        try:
            documents.append(read_document(file, limits))
        except DocumentError as error:
            errors.append(LoadError(file.source, str(error)))
    return CorpusLoad(tuple(documents), tuple(errors))


def load_corpus(root: Path, limits: ReadLimits | None = None) -> CorpusLoad:
    """All readable documents under ``root`` and an error for each file that is not, read in
    this process within ``limits`` (by default those of the default settings): for tests and
    benchmarks over known files; builds read through a DocumentReader."""
    if limits is None:
        from qa.settings import Settings

        limits = Settings().read_limits
    files, scan_errors = scan_corpus(root, limits.max_bytes)
    loaded = read_documents(files, limits)
    return CorpusLoad(loaded.documents, tuple(scan_errors) + loaded.errors)
