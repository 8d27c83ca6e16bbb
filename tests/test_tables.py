"""Chunk and document tables: what is read back from the mapped files is what was written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.chunking import chunk_document
from qa.index.tables import (
    CHUNKS,
    TableError,
    read_tables,
    tables_of,
    utf8_offsets,
    write_tables,
)
from qa.types import Document, DocumentKind

TEXTS = {
    "ascii.txt": "1.1 The panel met eleven times.\n\n1.2 It approved fourteen adopters.\n" * 20,
    "pounds.txt": "2.1 The overspend was £22.2m – “significant”.\n\n2.2 Children’s homes: 😀 ok.\n"
    * 20,
    "empty-sections.txt": "x",
}


def documents() -> list[Document]:
    return [
        Document(s, f"Title of {s}", "2024-05", "hash", "txt", text=t) for s, t in TEXTS.items()
    ]


@pytest.mark.parametrize("text", ["", "plain", "£22.2m", "a’b😀c", "é" * 5 + "x"])
def test_utf8_offsets_are_the_byte_offsets_of_each_character(text: str) -> None:
    offsets = utf8_offsets(text)
    assert offsets.tolist() == [len(text[:i].encode("utf-8")) for i in range(len(text) + 1)]


def test_chunks_and_documents_read_back_equal_to_what_was_written(tmp_path: Path) -> None:
    written = documents()
    chunks = [c for d in written for c in chunk_document(d, 120, 20)]
    write_tables(tmp_path, tables_of(written, chunks))
    catalog, read_documents, read_chunks = read_tables(tmp_path)
    assert list(read_chunks) == chunks
    assert read_chunks[2:5] == chunks[2:5]
    assert dict(read_documents) == {d.source: d for d in written}
    assert catalog["pounds.txt"].title == "Title of pounds.txt"
    assert catalog["pounds.txt"].year == 2024


def test_a_chunk_file_pointing_past_the_texts_is_refused(tmp_path: Path) -> None:
    written = documents()
    chunks = [c for d in written for c in chunk_document(d, 120, 20)]
    write_tables(tmp_path, tables_of(written, chunks))
    columns = np.load(tmp_path / CHUNKS)
    columns["byte_end"][-1] += 10_000
    np.save(tmp_path / CHUNKS, columns)
    with pytest.raises(TableError, match="points past"):
        read_tables(tmp_path)


def test_pages_kind_and_organisation_read_back_as_written(tmp_path: Path) -> None:
    text = "1.1 First page text here.\n\n1.2 Second page text here.\n"
    document = Document(
        "report.pdf",
        "Inspection of Sutton",
        "2025-06-20",
        "hash",
        "pdf",
        text=text,
        pages=(0, text.index("1.2")),
        kind=DocumentKind.INSPECTION_REPORT,
        organisation="Sutton",
    )
    chunks = chunk_document(document, 30, 0)
    write_tables(tmp_path, tables_of([document], chunks))
    catalog, _, read_chunks = read_tables(tmp_path)
    assert [(c.page, c.page_end) for c in read_chunks] == [(1, None), (2, None)]
    assert (catalog["report.pdf"].kind, catalog["report.pdf"].organisation) == (
        DocumentKind.INSPECTION_REPORT,
        "Sutton",
    )
    assert catalog["report.pdf"].format == "pdf"
