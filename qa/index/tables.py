"""The documents and chunks of a saved index, as files mapped into memory.

A million passages held as Python strings and objects cost gigabytes of memory and
tens of seconds of parsing at every load. Here the texts are one UTF-8 file and the
chunks one fixed-width column file, both mapped read-only: loading costs nothing, and
``chunks[row]`` or ``documents[source]`` builds the usual frozen record when it is read.

A build gathers a new version's documents and chunks in the same form
(:class:`TableBuilder`) and writes them as they are.

Example::

    write_tables(folder, tables_of(documents, chunks))
    catalog, documents, chunks = read_tables(folder)
    chunks[12].text == documents[chunks[12].source].text[chunks[12].start : chunks[12].end]
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, overload

import numpy as np

from qa.index.problems import IndexCorrupt
from qa.types import CatalogEntry, Chunk, Document, DocumentKind

TEXTS = "texts.txt"
DOCUMENTS = "documents.jsonl"
CHUNKS = "chunks.npy"
LABELS = "labels.json"
FILES = (TEXTS, DOCUMENTS, CHUNKS, LABELS)

# Character offsets cite; byte offsets read the text file without decoding what precedes.
CHUNK_COLUMNS = np.dtype(
    [
        ("document", "<i4"),
        ("start", "<i8"),
        ("end", "<i8"),
        ("byte_start", "<i8"),
        ("byte_end", "<i8"),
        ("section", "<i4"),
        ("paragraph", "<i4"),
        ("page", "<i4"),
        ("page_end", "<i4"),
    ]
)
Texts = mmap.mmap | bytes | bytearray
"""The UTF-8 texts of a version: its mapped texts file, or the bytes a build gathered."""
NO_PAGE = 0  # pages count from 1
NO_LABEL = -1


class TableError(ValueError):
    """The tables of a folder do not agree with each other."""


def utf8_offsets(text: str) -> np.ndarray:
    """``offsets[i]`` is the byte offset of character ``i`` in ``text.encode()``, for
    ``i`` in ``0..len(text)``."""
    if text.isascii():
        return np.arange(len(text) + 1, dtype=np.int64)
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    widths = 1 + (points >= 0x80).astype(np.int64) + (points >= 0x800) + (points >= 0x10000)
    offsets = np.zeros(len(text) + 1, dtype=np.int64)
    np.cumsum(widths, out=offsets[1:])
    return offsets


class TableBuilder:
    """The tables of a new version, gathered document by document in the form their files
    take: each text as UTF-8 bytes, each chunk as one fixed-width row.

    A build holds a million passages until it saves them. As Python objects that took about
    3 GB: every text with one non-ASCII character is stored at two bytes a character, and each
    chunk's text is a copy of part of its document's. Here the texts take their size on disk
    (0.7 GB at a million passages) and the chunks 40 bytes each; :meth:`finish` gives them as
    the same :class:`DocumentTable` and :class:`ChunkTable` a saved version is read through.
    The texts grow in one buffer: joining one bytes object per document at the end held them
    twice, and the heap kept the freed half through the rest of the build.
    """

    def __init__(self) -> None:
        self._texts = bytearray()
        self._columns: list[np.ndarray] = []
        self._rows = 0
        self._labels: dict[str, int] = {}
        self._catalog: dict[str, CatalogEntry] = {}
        self._spans: dict[str, tuple[int, int]] = {}
        self._pages: dict[str, tuple[int, ...]] = {}

    def _label(self, value: str | None) -> int:
        return NO_LABEL if value is None else self._labels.setdefault(value, len(self._labels))

    def add(self, document: Document, chunks: Sequence[Chunk]) -> range:
        """Add ``document`` and its ``chunks`` (cut from its text); return their rows."""
        number = len(self._catalog)
        base = len(self._texts)
        self._texts += document.text.encode("utf-8")
        self._catalog[document.source] = CatalogEntry(
            **{f.name: getattr(document, f.name) for f in fields(CatalogEntry)}
        )
        self._spans[document.source] = (base, len(self._texts))
        self._pages[document.source] = document.pages
        columns = np.zeros(len(chunks), dtype=CHUNK_COLUMNS)
        offsets = utf8_offsets(document.text) if chunks else np.zeros(1, dtype=np.int64)
        for row, chunk in enumerate(chunks):
            columns[row] = (
                number,
                chunk.start,
                chunk.end,
                base + offsets[chunk.start],
                base + offsets[chunk.end],
                self._label(chunk.section),
                self._label(chunk.paragraph),
                chunk.page or NO_PAGE,
                chunk.page_end or NO_PAGE,
            )
        self._columns.append(columns)
        self._rows += len(chunks)
        return range(self._rows - len(chunks), self._rows)

    def finish(self) -> Tables:
        """The tables of every document added, in the order added."""
        texts, self._texts = self._texts, bytearray()
        columns = np.concatenate([np.zeros(0, dtype=CHUNK_COLUMNS), *self._columns])
        self._columns = []
        labels = list(self._labels)
        return Tables(
            self._catalog,
            DocumentTable(self._catalog, self._spans, texts, self._pages),
            ChunkTable(columns, list(self._catalog), labels, texts),
        )


@dataclass(frozen=True)
class Tables:
    """The documents and chunks of a version, as :func:`write_tables` writes them."""

    catalog: dict[str, CatalogEntry]
    documents: DocumentTable
    chunks: ChunkTable


def tables_of(documents: Sequence[Document], chunks: Sequence[Chunk]) -> Tables:
    """The tables of ``documents``; each document's ``chunks`` become consecutive rows, in
    the order of the documents."""
    chunks_of: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        chunks_of.setdefault(chunk.source, []).append(chunk)
    builder = TableBuilder()
    for document in documents:
        builder.add(document, chunks_of.pop(document.source, []))
    if chunks_of:
        raise ValueError(f"chunks of documents not given: {', '.join(sorted(chunks_of))}")
    return builder.finish()


def write_tables(folder: Path, tables: Tables) -> None:
    """Write the four table files of ``tables`` into ``folder``."""
    documents, chunks = tables.documents, tables.chunks
    (folder / TEXTS).write_bytes(documents.texts)
    np.save(folder / CHUNKS, chunks.columns)
    with (folder / DOCUMENTS).open("w", encoding="utf-8") as handle:
        for source, entry in tables.catalog.items():
            record = {
                "source": source,
                "title": entry.title,
                "date": entry.date,
                "hash": entry.content_hash,
                "format": entry.format,
                "kind": entry.kind.value,
                "organisation": entry.organisation,
                "pages": list(documents.pages[source]),
                "bytes": list(documents.spans[source]),
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    (folder / LABELS).write_text(json.dumps(chunks.labels, ensure_ascii=False), encoding="utf-8")


def load_array(path: Path) -> np.ndarray:
    """The array saved at ``path``, memory-mapped; TableError if it cannot be read as one.

    numpy parses the header with Python's tokenizer and raises a dozen kinds of error for a
    damaged one (ValueError, SyntaxError, TokenError, ...): all mean the same here.
    """
    try:
        array: np.ndarray = np.load(path, mmap_mode="r")
    except Exception as error:
        raise TableError(f"{path} is not a readable array ({error!r})") from error
    return array


def _map(path: Path) -> mmap.mmap | bytes:
    """The file's bytes, mapped read-only (an empty file cannot be mapped)."""
    with path.open("rb") as handle:
        if path.stat().st_size == 0:
            return b""
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


def _decoded(texts: Texts, start: int, end: int) -> str:
    """The text between two byte offsets of the texts file. A load checks a large texts file by
    samples only, so a damaged byte may first be met here: IndexCorrupt, not a traceback."""
    try:
        return texts[start:end].decode("utf-8")
    except UnicodeDecodeError as error:
        raise IndexCorrupt(
            f"the index's {TEXTS} is damaged (not UTF-8 at byte {start + error.start})"
        ) from error


class DocumentTable(Mapping[str, Document]):
    """Documents by source; a document's text is decoded from the mapped file when read."""

    def __init__(
        self,
        catalog: Mapping[str, CatalogEntry],
        spans: Mapping[str, tuple[int, int]],
        texts: Texts,
        pages: Mapping[str, tuple[int, ...]],
    ) -> None:
        self._catalog = catalog
        self.spans = spans
        self.texts = texts
        self.pages = pages

    def __getitem__(self, source: str) -> Document:
        entry = self._catalog[source]
        start, end = self.spans[source]
        return Document(
            **vars(entry), text=_decoded(self.texts, start, end), pages=self.pages[source]
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._catalog)

    def __len__(self) -> int:
        return len(self._catalog)


class ChunkTable(Sequence[Chunk]):
    """Chunks by row; a row's text is decoded from the mapped text file when read."""

    def __init__(
        self,
        columns: np.ndarray,
        sources: Sequence[str],
        labels: Sequence[str],
        texts: Texts,
    ) -> None:
        self.columns = columns
        self._sources = sources
        self.labels = labels
        self.texts = texts

    def __len__(self) -> int:
        return len(self.columns)

    @overload
    def __getitem__(self, index: int) -> Chunk: ...

    @overload
    def __getitem__(self, index: slice) -> list[Chunk]: ...

    def __getitem__(self, index: int | slice) -> Chunk | list[Chunk]:
        if isinstance(index, slice):
            return [self[row] for row in range(*index.indices(len(self)))]
        row = self.columns[index]
        return Chunk(
            self._sources[int(row["document"])],
            int(row["start"]),
            int(row["end"]),
            _decoded(self.texts, int(row["byte_start"]), int(row["byte_end"])),
            self._label(int(row["section"])),
            self._label(int(row["paragraph"])),
            int(row["page"]) or None,
            int(row["page_end"]) or None,
        )

    def select(self, rows: np.ndarray) -> ChunkTable:
        """The chunks of ``rows`` (row numbers), in that order, read from the same texts."""
        return ChunkTable(self.columns[rows], self._sources, self.labels, self.texts)

    def source_of(self, row: int) -> str:
        """The document of ``row``, read without decoding the chunk's text."""
        return self._sources[int(self.columns["document"][row])]

    def row_at(self, rows: range, offset: int) -> int:
        """The first of ``rows`` (one document's chunks) whose span holds character ``offset``,
        read from the offset columns without decoding any text; ``rows.start`` if none does."""
        starts = np.asarray(self.columns["start"][rows.start : rows.stop])
        ends = np.asarray(self.columns["end"][rows.start : rows.stop])
        holding = np.flatnonzero((starts <= offset) & (offset < ends))
        return rows.start + int(holding[0]) if len(holding) else rows.start

    def document_rows(self) -> dict[str, range]:
        """The rows of each document, read from the document column (one pass, no text).

        The column is the truth about which passage belongs to which document, so no other
        record of row ranges can disagree with it; TableError if a document's rows are not
        consecutive, as :func:`write_tables` writes them.
        """
        rows = {source: range(0) for source in self._sources}
        column = np.asarray(self.columns["document"])
        if not len(column):
            return rows
        starts = np.concatenate(([0], np.flatnonzero(np.diff(column)) + 1))
        ends = np.append(starts[1:], len(column))
        owners = column[starts]
        if len(np.unique(owners)) != len(owners):
            raise TableError("the chunks of a document are not consecutive rows")
        for owner, start, end in zip(owners.tolist(), starts.tolist(), ends.tolist(), strict=True):
            rows[self._sources[owner]] = range(start, end)
        return rows

    def _label(self, number: int) -> str | None:
        return None if number == NO_LABEL else self.labels[number]


def read_tables(
    folder: Path,
) -> tuple[dict[str, CatalogEntry], DocumentTable, ChunkTable]:
    """The catalog, documents and chunks written by :func:`write_tables`."""
    with (folder / DOCUMENTS).open(encoding="utf-8") as handle:
        records: list[dict[str, Any]] = [json.loads(line) for line in handle if line.strip()]
    catalog = {
        r["source"]: CatalogEntry(
            r["source"],
            r["title"],
            r["date"],
            r["hash"],
            r["format"],
            kind=DocumentKind.from_str(r["kind"]),
            organisation=r["organisation"],
        )
        for r in records
    }
    spans = {r["source"]: (int(r["bytes"][0]), int(r["bytes"][1])) for r in records}
    texts = _map(folder / TEXTS)
    columns = load_array(folder / CHUNKS)
    labels = json.loads((folder / LABELS).read_text(encoding="utf-8"))
    if len(catalog) != len(records) or not all(
        0 <= a <= b <= len(texts) for a, b in spans.values()
    ):
        raise TableError(f"{folder / DOCUMENTS} repeats a source or points past the texts")
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise TableError(f"{folder / LABELS} is not a list of labels")
    if columns.dtype != CHUNK_COLUMNS or columns.ndim != 1:
        raise TableError(f"{folder / CHUNKS} has columns {columns.dtype}, not {CHUNK_COLUMNS}")
    if len(columns) and (
        not 0 <= int(columns["document"].min()) <= int(columns["document"].max()) < len(records)
        or int(columns["byte_start"].min()) < 0
        or int(columns["byte_end"].max()) > len(texts)
        or bool((columns["byte_start"] > columns["byte_end"]).any())
        or min(int(columns["section"].min()), int(columns["paragraph"].min())) < NO_LABEL
        or max(int(columns["section"].max()), int(columns["paragraph"].max())) >= len(labels)
    ):
        raise TableError(f"{folder / CHUNKS} points past the documents, texts or labels")
    sources = [r["source"] for r in records]
    return (
        catalog,
        DocumentTable(catalog, spans, texts, {r["source"]: tuple(r["pages"]) for r in records}),
        ChunkTable(columns, sources, labels, texts),
    )
