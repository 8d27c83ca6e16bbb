"""The documents and chunks of a saved index, as files mapped into memory.

A million passages held as Python strings and objects cost gigabytes of memory and
tens of seconds of parsing at every load. Here the texts are one UTF-8 file and the
chunks one fixed-width column file, both mapped read-only: loading costs nothing, and
``chunks[row]`` or ``documents[source]`` builds the usual frozen record when it is read.

Example::

    write_tables(folder, documents, chunks)
    catalog, documents, chunks = read_tables(folder)
    chunks[12].text == documents[chunks[12].source].text[chunks[12].start : chunks[12].end]
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Iterator, Mapping, Sequence
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


def write_tables(folder: Path, documents: Sequence[Document], chunks: Sequence[Chunk]) -> None:
    """Write the four table files; chunks of one document must be consecutive rows."""
    position = {d.source: i for i, d in enumerate(documents)}
    labels: dict[str, int] = {}

    def label(value: str | None) -> int:
        return NO_LABEL if value is None else labels.setdefault(value, len(labels))

    columns = np.zeros(len(chunks), dtype=CHUNK_COLUMNS)
    spans: list[tuple[int, int]] = []
    with (folder / TEXTS).open("wb") as texts:
        for document in documents:
            encoded = document.text.encode("utf-8")
            spans.append((texts.tell(), texts.tell() + len(encoded)))
            texts.write(encoded)
    current = -1
    offsets = np.zeros(1, dtype=np.int64)
    for row, chunk in enumerate(chunks):
        number = position[chunk.source]
        if number != current:
            current, offsets = number, utf8_offsets(documents[number].text)
        base = spans[number][0]
        columns[row] = (
            number,
            chunk.start,
            chunk.end,
            base + offsets[chunk.start],
            base + offsets[chunk.end],
            label(chunk.section),
            label(chunk.paragraph),
            chunk.page or NO_PAGE,
            chunk.page_end or NO_PAGE,
        )
    np.save(folder / CHUNKS, columns)
    with (folder / DOCUMENTS).open("w", encoding="utf-8") as handle:
        for document, (start, end) in zip(documents, spans, strict=True):
            record = {
                "source": document.source,
                "title": document.title,
                "date": document.date,
                "hash": document.content_hash,
                "format": document.format,
                "kind": document.kind.value,
                "organisation": document.organisation,
                "pages": list(document.pages),
                "bytes": [start, end],
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    (folder / LABELS).write_text(json.dumps(list(labels), ensure_ascii=False), encoding="utf-8")


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


def _decoded(texts: mmap.mmap | bytes, start: int, end: int) -> str:
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
        texts: mmap.mmap | bytes,
        pages: Mapping[str, tuple[int, ...]],
    ) -> None:
        self._catalog = catalog
        self._spans = spans
        self._texts = texts
        self._pages = pages

    def __getitem__(self, source: str) -> Document:
        entry = self._catalog[source]
        start, end = self._spans[source]
        return Document(
            **vars(entry), text=_decoded(self._texts, start, end), pages=self._pages[source]
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
        texts: mmap.mmap | bytes,
    ) -> None:
        self._columns = columns
        self._sources = sources
        self._labels = labels
        self._texts = texts

    def __len__(self) -> int:
        return len(self._columns)

    @overload
    def __getitem__(self, index: int) -> Chunk: ...

    @overload
    def __getitem__(self, index: slice) -> list[Chunk]: ...

    def __getitem__(self, index: int | slice) -> Chunk | list[Chunk]:
        if isinstance(index, slice):
            return [self[row] for row in range(*index.indices(len(self)))]
        row = self._columns[index]
        return Chunk(
            self._sources[int(row["document"])],
            int(row["start"]),
            int(row["end"]),
            _decoded(self._texts, int(row["byte_start"]), int(row["byte_end"])),
            self._label(int(row["section"])),
            self._label(int(row["paragraph"])),
            int(row["page"]) or None,
            int(row["page_end"]) or None,
        )

    def source_of(self, row: int) -> str:
        """The document of ``row``, read without decoding the chunk's text."""
        return self._sources[int(self._columns["document"][row])]

    def row_at(self, rows: range, offset: int) -> int:
        """The first of ``rows`` (one document's chunks) whose span holds character ``offset``,
        read from the offset columns without decoding any text; ``rows.start`` if none does."""
        starts = np.asarray(self._columns["start"][rows.start : rows.stop])
        ends = np.asarray(self._columns["end"][rows.start : rows.stop])
        holding = np.flatnonzero((starts <= offset) & (offset < ends))
        return rows.start + int(holding[0]) if len(holding) else rows.start

    def document_rows(self) -> dict[str, range]:
        """The rows of each document, read from the document column (one pass, no text).

        The column is the truth about which passage belongs to which document, so no other
        record of row ranges can disagree with it; TableError if a document's rows are not
        consecutive, as :func:`write_tables` writes them.
        """
        rows = {source: range(0) for source in self._sources}
        column = np.asarray(self._columns["document"])
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
        return None if number == NO_LABEL else self._labels[number]


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
