"""Add a document to the corpus from an upload, and list what the corpus holds.

An upload is written in blocks to a hidden file in the corpus folder (never held whole in
memory, and skipped by every scan of the folder), read there as a document, and only then
put in place under a checked plain name, atomically; the index is then updated
incrementally: only the new document is embedded. A corrupt or unreadable file changes
nothing.

Example::

    with open("report.pdf", "rb") as upload:
        result = save_upload(settings, "report.pdf", upload, lambda: load_embedder(settings.model))
    print(result.message)
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from qa.corpus import SIDECAR, SUFFIXES, CorpusFile, DocumentError, scan_corpus
from qa.corpus.worker import DocumentReader
from qa.filesystem import open_regular, sha256_of
from qa.index.build import BuildReport, ProgressFactory, build_index
from qa.index.embedders import Embedder
from qa.index.intake import document_chunks
from qa.index.snapshot import Snapshot
from qa.settings import Settings
from qa.types import Document, DocumentKind

MAX_NAME_LENGTH = 150
MAX_NAME_BYTES = 255
"""File systems (ext4, XFS, Btrfs, APFS) hold names of at most 255 bytes, and a name of 150
characters can be longer in UTF-8: 141 letters of three bytes made 424 bytes and
``[Errno 36] File name too long``."""
_BLOCK = 1 << 20
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


def upload_cap_mib(max_file_mb: float) -> int:
    """Streamlit's ``server.maxUploadSize`` for ``max_file_mb``: Streamlit counts in MiB, and
    this is the smallest whole number that lets in every file within ``max_file_mb`` (96 MiB,
    100.7 MB, for 100 MB). The server refuses larger uploads as they arrive, before holding
    them in memory; :func:`save_upload` refuses the few bytes between the two limits."""
    return math.ceil(max_file_mb * 1_000_000 / 2**20)


def upload_cap_problem(max_file_mb: float, server_cap_mib: int) -> str | None:
    """What is wrong with the server's ``server.maxUploadSize`` for ``max_file_mb``, for the
    person running the app, or None when it is :func:`upload_cap_mib`."""
    wanted = upload_cap_mib(max_file_mb)
    if server_cap_mib == wanted:
        return None
    effect = (
        f"uploads over {server_cap_mib * 2**20 / 1e6:.0f} MB are refused although max_file_mb"
        f" allows {max_file_mb:g} MB"
        if server_cap_mib < wanted
        else f"the server holds uploads of up to {server_cap_mib * 2**20 / 1e6:.0f} MB in memory"
        f" before refusing those over max_file_mb ({max_file_mb:g} MB)"
    )
    return (
        f"The server's upload limit does not match the setting max_file_mb: {effect}."
        f" Set maxUploadSize = {wanted} under [server] in .streamlit/config.toml."
    )


def safe_name(name: str) -> str:
    """The plain file name to store an upload under, or UploadError saying why there is none.

    Browsers send a bare name, but other clients may send a path: any folder part
    is stripped, and names that try to leave the corpus folder (``../x.txt``),
    hidden names, control characters, unusual punctuation and names too long for a file
    system are refused rather than rewritten, so the stored name is exactly the one the
    user sees.
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
    if len(base) > MAX_NAME_LENGTH or len(base.encode("utf-8")) > MAX_NAME_BYTES:
        raise UploadError(
            f"the file name is longer than {MAX_NAME_LENGTH} characters or {MAX_NAME_BYTES}"
            " bytes; shorten it"
        )
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


@contextmanager
def _received(settings: Settings, source: str, upload: BinaryIO) -> Iterator[tuple[Path, str]]:
    """The upload as a hidden file in the corpus folder, and its SHA-256.

    Copied in 1 MB blocks and refused as soon as it is over ``max_file_mb``, so that neither
    a large upload nor a stream that does not end is ever held in memory. The file is named
    by the system, never by the user (only its suffix, which says how to read it, is
    kept), and removed on leaving: by then it is in place under its name, or refused.
    """
    descriptor, temporary = tempfile.mkstemp(
        prefix=".upload-", suffix=Path(source).suffix.lower(), dir=settings.corpus
    )
    path = Path(temporary)
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(descriptor, "wb") as handle:
            while block := upload.read(_BLOCK):
                size += len(block)
                if size > settings.max_file_bytes:
                    raise UploadError(
                        f"{source} is larger than the {settings.max_file_mb:g} MB limit"
                        " (setting max_file_mb)"
                    )
                digest.update(block)
                handle.write(block)
            handle.flush()
            os.fsync(handle.fileno())
        if size == 0:
            raise UploadError(f"{source} is empty")
        os.chmod(path, 0o644)
        yield path, digest.hexdigest()
    finally:
        path.unlink(missing_ok=True)


def _read_upload(settings: Settings, source: str, path: Path, digest: str) -> Document:
    """The document the received upload holds, read as a build would read it (in a reader
    process, within every limit), or UploadError saying why it cannot be added."""
    try:
        with DocumentReader(settings.read_limits) as reader:
            document = reader.read(CorpusFile(source, path, digest))
        document_chunks(document, settings)
    except DocumentError as error:
        raise UploadError(f"{source} could not be read: {error}. Nothing was changed.") from error
    return document


def _same_bytes(path: Path, digest: str) -> bool:
    with open_regular(path) as handle:
        return sha256_of(handle).hexdigest() == digest


def save_upload(
    settings: Settings,
    name: str,
    upload: BinaryIO,
    get_embedder: Callable[[], Embedder],
    overwrite: bool = False,
    progress: ProgressFactory | None = None,
) -> UploadResult:
    """Receive, check, store and index one uploaded file; raise UploadError if it is refused.

    ``upload`` is read in blocks from where it is. ``overwrite`` is the caller's confirmation
    that an existing document of the same name may be replaced. ``get_embedder`` is called
    only once the file has passed every check, so a bad file is refused without waiting for
    the model to load. If indexing fails, the corpus is put back as it was.
    """
    source = safe_name(name)
    folder = settings.corpus
    if not folder.is_dir():
        raise UploadError(f"the corpus folder {folder} does not exist")
    target = folder / source
    with _received(settings, source, upload) as (received, digest):
        document = _read_upload(settings, source, received, digest)
        replacing = target.exists() or target.is_symlink()
        if replacing:
            if not target.is_file() or target.is_symlink():
                raise UploadError(
                    f"{source} is in the corpus but is not a plain file; not replaced"
                )
            if _same_bytes(target, digest):
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
        with _put_in_place(received, target, replacing):
            report = build_index(settings, embedder, progress=progress)
    return UploadResult(source, document, replaced=replacing, report=report)


@contextmanager
def _put_in_place(received: Path, target: Path, replacing: bool) -> Iterator[None]:
    """``received`` under its name ``target``, atomically, for the time of the block; put back
    as it was if the block fails.

    Without ``replacing`` the step is a hard link, which fails rather than replace a file that
    appeared meanwhile. When replacing, the document it replaces is kept under a hidden name
    (another link: nothing is copied) until the block has succeeded.
    """
    kept = target.with_name(f".replaced-{received.name}")
    if replacing:
        os.link(target, kept)
        os.replace(received, target)
    else:
        try:
            os.link(received, target)
        except FileExistsError as error:
            raise UploadExists(
                f"a document named {target.name} is already in the corpus"
            ) from error
    try:
        yield
    except BaseException:
        if replacing:
            os.replace(kept, target)
        else:
            target.unlink(missing_ok=True)
        raise
    finally:
        kept.unlink(missing_ok=True)


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
