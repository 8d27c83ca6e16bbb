"""Add a document to the corpus from an upload, and list what the corpus holds.

An upload is parsed before anything is written, so a corrupt or unreadable file
changes nothing. A good file is written atomically into the corpus folder (and
nowhere else) under a checked plain name, then the index is updated
incrementally: only the new document is embedded.

Example::

    result = save_upload(settings, "report.pdf", data, lambda: load_embedder(settings.model))
    print(result.message)
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa.corpus import SIDECAR, SUFFIXES, DocumentError, read_bytes_as_document, scan_corpus
from qa.index.build import BuildReport, ProgressFactory, build_index
from qa.index.embedders import Embedder
from qa.index.store import Snapshot
from qa.settings import Settings
from qa.types import Document, DocumentKind

MAX_NAME_LENGTH = 150
# Letters, digits, spaces and the punctuation of ordinary report names: "Cabinet 4 Dec (final).pdf".
_PLAIN_NAME = re.compile(r"[^\W_][\w .,()&+'-]*")
_WINDOWS_RESERVED = re.compile(r"(con|prn|aux|nul|com\d|lpt\d)(\..*)?", re.IGNORECASE)


class UploadError(ValueError):
    """Why an upload was refused; the message is shown to the user as is."""


class UploadExists(UploadError):
    """A document of that name is already in the corpus and replacing it was not confirmed."""


@dataclass(frozen=True)
class UploadResult:
    """What happened to one upload."""

    source: str
    document: Document
    replaced: bool
    report: BuildReport | None

    @property
    def message(self) -> str:
        if self.report is None:
            return f"{self.source} is already in the corpus with the same content: nothing to do."
        verb = "Replaced" if self.replaced else "Added"
        chunks = self.report.embedded_chunks
        return (
            f"{verb} “{self.document.title}” ({self.source}) and indexed it:"
            f" {chunks} passage{'s' if chunks != 1 else ''}."
        )


def safe_name(name: str) -> str:
    """The plain file name to store an upload under, or UploadError saying why there is none.

    Browsers send a bare name, but other clients may send a path: any folder part
    is stripped, and names that try to leave the corpus folder (``../x.txt``),
    hidden names, control characters and unusual punctuation are refused rather
    than rewritten, so the stored name is exactly the one the user sees.
    """
    name = unicodedata.normalize("NFC", name or "").strip()
    parts = re.split(r"[\\/]", name)
    if any(part in ("..", ".") for part in parts):
        raise UploadError(f"“{name}” is not a plain file name (it points to another folder)")
    base = parts[-1].strip()
    if not base:
        raise UploadError("the file has no name")
    if base.startswith("."):
        raise UploadError(f"“{base}” is a hidden file name; rename it without the leading dot")
    if base.lower().endswith(SIDECAR):
        raise UploadError(f"“{base}” is a metadata sidecar, not a document")
    if len(base) > MAX_NAME_LENGTH:
        raise UploadError(f"the file name is longer than {MAX_NAME_LENGTH} characters; shorten it")
    plain = _PLAIN_NAME.fullmatch(base) and not base.endswith((".", " "))
    if not plain or _WINDOWS_RESERVED.fullmatch(base):
        raise UploadError(
            f"“{base}” is not a plain file name:"
            " use only letters, digits, spaces and . , ( ) & + ' -"
        )
    suffix = Path(base).suffix.lower()
    if suffix not in SUFFIXES:
        raise UploadError(
            f"“{base}” is not a supported type (supported: {', '.join(sorted(SUFFIXES))})"
        )
    return base


def validate_upload(settings: Settings, name: str, data: bytes) -> tuple[str, Document]:
    """The checked name and the parsed document, without touching the corpus.

    Parsing happens in a scratch folder so that the corpus never holds a file the
    indexer cannot read.
    """
    source = safe_name(name)
    max_bytes = int(settings.max_file_mb * 1_000_000)
    if not data:
        raise UploadError(f"{source} is empty")
    if len(data) > max_bytes:
        raise UploadError(
            f"{source} is {len(data) / 1e6:.1f} MB, over the {settings.max_file_mb:g} MB limit"
            " (setting max_file_mb)"
        )
    with tempfile.TemporaryDirectory(prefix="qa-upload-") as scratch:
        try:
            document = read_bytes_as_document(source, data, Path(scratch), max_bytes)
        except DocumentError as error:
            message = f"{source} could not be read: {error}. Nothing was changed."
            raise UploadError(message) from error
    return source, document


def _write_atomically(folder: Path, source: str, data: bytes, overwrite: bool) -> None:
    """Write ``folder/source`` so that no reader ever sees a partial file.

    The temporary file has a hidden name, which :func:`qa.corpus.scan_corpus`
    skips, so a crash mid-write leaves no half document in the corpus. Without
    ``overwrite`` the final step is a hard link, which fails rather than replace a
    file that appeared meanwhile.
    """
    target = folder / source
    descriptor, temporary = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        if overwrite:
            os.replace(temporary, target)
        else:
            try:
                os.link(temporary, target)
            except FileExistsError as error:
                raise UploadExists(f"a document named {source} is already in the corpus") from error
    finally:
        Path(temporary).unlink(missing_ok=True)


def save_upload(
    settings: Settings,
    name: str,
    data: bytes,
    get_embedder: Callable[[], Embedder],
    overwrite: bool = False,
    progress: ProgressFactory | None = None,
) -> UploadResult:
    """Validate, store and index one uploaded file; raise UploadError if it is refused.

    ``overwrite`` is the caller's confirmation that an existing document of the
    same name may be replaced. ``get_embedder`` is called only once the file has
    passed every check, so a bad file is refused without waiting for the model to
    load. If indexing fails, the corpus is put back as it was.
    """
    source, document = validate_upload(settings, name, data)
    folder = settings.corpus
    if not folder.is_dir():
        raise UploadError(f"the corpus folder {folder} does not exist")
    target = folder / source
    digest = hashlib.sha256(data).hexdigest()
    previous: bytes | None = None
    if target.exists():
        if not target.is_file() or target.is_symlink():
            raise UploadError(f"{source} is in the corpus but is not a plain file; not replaced")
        previous = target.read_bytes()
        if hashlib.sha256(previous).hexdigest() == digest:
            return UploadResult(source, document, replaced=False, report=None)
        if not overwrite:
            raise UploadExists(
                f"a document named {source} is already in the corpus; confirm to replace it"
            )
    else:
        files, _ = scan_corpus(folder, settings.max_file_bytes)
        same = [f.source for f in files if f.content_hash == digest]
        if same:
            raise UploadError(f"the same file is already in the corpus as {same[0]}; not added")

    embedder = get_embedder()
    _write_atomically(folder, source, data, overwrite=previous is not None)
    try:
        report = build_index(settings, embedder, progress=progress)
    except BaseException:
        if previous is None:
            target.unlink(missing_ok=True)
        else:
            _write_atomically(folder, source, previous, overwrite=True)
        raise
    return UploadResult(source, document, replaced=previous is not None, report=report)


@dataclass(frozen=True)
class DocumentInfo:
    """One row of the document list: what a user needs to judge a source at a glance,
    including whom it is about and what it is (a newspaper's account of an inspection is
    not the inspection report)."""

    source: str
    title: str
    date: str | None
    size_bytes: int | None
    chunks: int
    organisation: str | None
    kind: DocumentKind
    format: str


def list_documents(snapshot: Snapshot, corpus: Path) -> list[DocumentInfo]:
    """The indexed documents, newest first; ``size_bytes`` is None if the file has gone."""
    rows = []
    for source, document in snapshot.catalog.items():
        try:
            size: int | None = (corpus / source).stat().st_size
        except OSError:
            size = None
        chunks = len(snapshot.rows_of.get(source, range(0)))
        rows.append(
            DocumentInfo(
                source,
                document.title,
                document.date,
                size,
                chunks,
                document.organisation,
                document.kind,
                document.format,
            )
        )
    return sorted(rows, key=lambda row: (row.date or "", row.title), reverse=True)


def skipped_documents(snapshot: Snapshot) -> dict[str, str]:
    """Files in the corpus that the index could not read, with the reason for each."""
    return {source: entry.reason for source, entry in snapshot.manifest.skipped.items()}
