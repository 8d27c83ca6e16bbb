"""Taking the corpus files into a new index version, file by file: the reading and
chunking stages of a build.

A file unchanged since the previous version keeps that version's rows (document,
passages and vectors), so only what changed is read and embedded again. Any other file
is read so that the hash recorded for it is the hash of the bytes parsed, even while it
is being written, and cut into passages; a file that cannot be read or makes too many
passages is skipped with its reason, and the others go on.

Example::

    intake = Intake(settings, previous, embedder.dimension)
    with DocumentReader(settings.read_limits) as reader:
        for file in files:
            intake.take(file, reader)
    tables = intake.finish()
    fresh = embed_chunks(settings, embedder, checkpoint, intake.new_chunks(), text)
    embeddings = intake.embeddings(fresh)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.chunking import chunk_document
from qa.corpus import CorpusFile, DocumentError
from qa.corpus.files import file_hash, file_state
from qa.corpus.worker import DocumentReader
from qa.index.manifest import SkippedFile
from qa.index.snapshot import Snapshot
from qa.index.tables import ChunkTable, TableBuilder, Tables
from qa.settings import Settings
from qa.types import Chunk, Document, LoadError


@dataclass(frozen=True)
class FileOutcome:
    """What a build did with one file: ``read`` (and how many passages, and pages for
    formats with pages), ``reused`` unchanged from the previous version, or ``skipped``
    with the reason."""

    source: str
    status: str
    passages: int = 0
    pages: int | None = None
    reason: str = ""

    def line(self) -> str:
        if self.status == "skipped":
            return f"skipped {self.source}: {self.reason}"
        pages = f"{_count(self.pages, 'page')}, " if self.pages else ""
        return f"{self.status} {self.source} ({pages}{_count(self.passages, 'passage')})"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def document_chunks(document: Document, settings: Settings) -> list[Chunk]:
    """The passages of ``document``, or DocumentError when they are more than
    ``settings.max_document_chunks``: each is embedded, at about 30 a second on a CPU."""
    chunks = chunk_document(document, settings.chunk_size, settings.chunk_overlap)
    if len(chunks) > settings.max_document_chunks:
        raise DocumentError(
            f"the document makes {len(chunks):,} passages, over the limit of"
            f" {settings.max_document_chunks:,} (setting max_document_chunks)"
        )
    return chunks


READ_ATTEMPTS = 3
"""Reads of a file that is written while it is read, before it is reported instead."""


def _read_as_hashed(
    file: CorpusFile, reader: DocumentReader
) -> tuple[Document | DocumentError, str | None]:
    """Read ``file`` so that the hash recorded for it is the hash of the bytes parsed.

    The scan hashed the file earlier, minutes ago in a large build; it may have been
    written since, or be written while it is parsed (a copy in progress, an editor
    saving). A read counts only when the file's state (inode, size, times) is the same
    before and after it and its hash after the read is the one known before: then the
    parsed bytes are the hashed ones, even if a writer left the file as it found it.
    Otherwise the file is read again with its new hash, up to READ_ATTEMPTS times.

    Returns the document (or why it cannot be read) and the hash to record for it: None
    when the file kept changing or vanished, so that the next build reads it again
    whatever it then holds.
    """
    known = file.content_hash
    for _ in range(READ_ATTEMPTS):
        try:
            before = file_state(file.path)
            try:
                outcome: Document | DocumentError = reader.read(
                    CorpusFile(file.source, file.path, known)
                )
            except DocumentError as error:
                outcome = error
            after = file_hash(file.path)
            written = file_state(file.path) != before
        except DocumentError as error:  # its sidecar went bad during the read
            return error, None
        except OSError as error:  # removed, or replaced by something that is not a file
            return DocumentError(f"cannot read file ({error.strerror or error})"), None
        if not written and after == known:
            return outcome, known
        known = after
    return DocumentError(
        f"the file changed while it was being read ({READ_ATTEMPTS} tries);"
        " it will be read again at the next build"
    ), None


class Intake:
    """The documents, passages and vectors of a new version, in the order the files are
    taken; ``errors`` and ``skipped`` the files that could not be read, and why.

    Documents and passages go into a :class:`TableBuilder` as they are read, so the build
    holds them as compactly as the index files do; :meth:`finish` gives their tables. Each
    document has a slot of vectors: its previous rows when reused, else a place for the
    vectors of its new passages, which :meth:`embeddings` fills once they are embedded.
    """

    def __init__(self, settings: Settings, previous: Snapshot | None, dimension: int) -> None:
        self._settings = settings
        self._previous = previous
        self._dimension = dimension
        self._builder = TableBuilder()
        self.errors: list[LoadError] = []
        self.skipped: dict[str, SkippedFile] = {}
        self.outcomes: list[FileOutcome] = []
        self._vectors: list[np.ndarray] = []
        self._pending: list[tuple[int, range]] = []
        self._tables: Tables | None = None

    def take(self, file: CorpusFile, reader: DocumentReader) -> None:
        """One file into the new version: its previous rows if unchanged, else read."""
        previous = self._previous
        old = previous.catalog.get(file.source) if previous else None
        if previous is not None and old is not None and old.content_hash == file.content_hash:
            rows = previous.rows_of[file.source]
            self._builder.add(
                previous.documents[file.source], previous.chunks[rows.start : rows.stop]
            )
            self._vectors.append(np.asarray(previous.embeddings[rows.start : rows.stop]))
            self.outcomes.append(FileOutcome(file.source, "reused", rows.stop - rows.start))
            return
        document, content_hash = _read_as_hashed(file, reader)
        try:
            if isinstance(document, DocumentError):
                raise document
            new_chunks = document_chunks(document, self._settings)
        except DocumentError as error:
            self.errors.append(LoadError(file.source, str(error)))
            self.skipped[file.source] = SkippedFile(content_hash, str(error))
            self.outcomes.append(FileOutcome(file.source, "skipped", reason=str(error)))
            return
        self.outcomes.append(FileOutcome(file.source, "read", len(new_chunks), len(document.pages)))
        self._pending.append((len(self._vectors), self._builder.add(document, new_chunks)))
        self._vectors.append(np.zeros((0, self._dimension), dtype=np.float32))

    @property
    def reused(self) -> int:
        """How many documents kept their previous rows."""
        return sum(f.status == "reused" for f in self.outcomes)

    def finish(self) -> Tables:
        """The tables of every document taken, once all files are."""
        if self._tables is None:
            self._tables = self._builder.finish()
        return self._tables

    def new_chunks(self) -> ChunkTable:
        """The passages read by this build, in order: the ones to embed."""
        chunks = self.finish().chunks
        if not self.reused:
            return chunks
        rows = [np.arange(rows.start, rows.stop) for _, rows in self._pending]
        return chunks.select(np.concatenate([np.zeros(0, dtype=np.int64), *rows]))

    def embeddings(self, fresh: np.ndarray) -> np.ndarray:
        """Every passage's vector, row by row: the reused ones and ``fresh``, the vectors of
        :meth:`new_chunks` in their order."""
        start = 0
        for slot, rows in self._pending:
            self._vectors[slot] = fresh[start : start + len(rows)]
            start += len(rows)
        # The vectors are held once, not three times (1.5 GB each at a million passages): with
        # every document new, the fresh rows are in chunk order and need no joining.
        embeddings = np.concatenate(self._vectors) if self.reused else fresh
        self._vectors.clear()
        return embeddings
