"""Uploads: checked names, parse before writing, atomic write into the corpus, incremental index."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from qa.index.build import build_index
from qa.index.embedders import HashingEmbedder
from qa.index.store import IndexStore
from qa.search import Searcher
from qa.settings import Settings
from qa.uploads import (
    UploadError,
    UploadExists,
    list_documents,
    safe_name,
    save_upload,
)

NOTE = (
    b"Respite Care Review\n\n1. SUMMARY\n\n1.1 The respite care service supported 240 families.\n"
)


def corpus_state(settings: Settings) -> dict[str, bytes]:
    """Every file of the corpus and index with its content: what 'nothing changed' means."""
    state = {}
    for root in (settings.corpus, settings.index):
        for path in sorted(root.rglob("*")):
            if path.is_file():
                state[str(path)] = path.read_bytes()
    return state


@pytest.fixture
def indexed(settings: Settings, embedder: HashingEmbedder) -> Settings:
    build_index(settings, embedder)
    return settings


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.txt", "report.txt"),
        ("Cabinet 4 Dec 2024 (final).PDF", "Cabinet 4 Dec 2024 (final).PDF"),
        ("C:\\Users\\officer\\Desktop\\minutes.docx", "minutes.docx"),
        ("folder/notes.md", "notes.md"),
        ("Rapport d’été.txt".replace("’", "'"), "Rapport d'été.txt"),
    ],
)
def test_safe_name_keeps_plain_names_and_strips_folders(name: str, expected: str) -> None:
    assert safe_name(name) == expected


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../../x.txt", "another folder"),
        ("..\\..\\x.txt", "another folder"),
        ("a/../b.txt", "another folder"),
        (".hidden.txt", "hidden"),
        ("", "no name"),
        ("folder/", "no name"),
        ("report.exe", "not a supported type"),
        ("report", "not a supported type"),
        ("report.txt.meta.json", "sidecar"),
        ("<script>.txt", "not a plain file name"),
        ("tab\there.txt", "not a plain file name"),
        ("semi;colon.txt", "not a plain file name"),
        ("-leading-dash.txt", "not a plain file name"),
        ("nul.txt", "not a plain file name"),
        ("trailing.txt.", "not a plain file name"),
        ("x" * 200 + ".txt", "longer than"),
        # 145 characters but 427 bytes: "[Errno 36] File name too long" before
        ("あ" * 141 + ".txt", "longer than 150 characters or 255 bytes"),
    ],
)
def test_safe_name_refuses_names_that_are_not_plain(name: str, reason: str) -> None:
    with pytest.raises(UploadError, match=reason):
        safe_name(name)


def no_model() -> HashingEmbedder:
    raise AssertionError("the model was loaded for a file that is refused")


def test_upload_over_the_size_limit_is_refused_before_parsing(indexed: Settings) -> None:
    small = indexed.replace(max_file_mb=0.00001)  # 10 bytes
    before = corpus_state(indexed)
    with pytest.raises(UploadError, match=r"larger than the 1e-05 MB limit \(setting max_file_mb"):
        save_upload(small, "note.txt", io.BytesIO(NOTE), no_model)
    assert corpus_state(indexed) == before


class EndlessUpload(io.RawIOBase):
    """An upload that never ends, counting the bytes taken from it."""

    taken = 0

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        view[:] = b"respite " * (len(view) // 8) + b" " * (len(view) % 8)
        self.taken += len(view)
        return len(view)

    def readable(self) -> bool:
        return True


def test_an_upload_over_the_limit_is_refused_as_it_arrives_never_held_whole(
    indexed: Settings,
) -> None:
    before = corpus_state(indexed)
    upload = EndlessUpload()
    with pytest.raises(UploadError, match=r"^note\.txt is larger than the 2 MB limit"):
        save_upload(indexed.replace(max_file_mb=2), "note.txt", io.BufferedReader(upload), no_model)
    assert upload.taken <= 3 * 2**20  # one block past the limit, and no more
    assert corpus_state(indexed) == before
    assert not [p for p in indexed.corpus.iterdir() if p.name.startswith(".")]


def test_empty_upload_is_refused(indexed: Settings) -> None:
    with pytest.raises(UploadError, match="empty"):
        save_upload(indexed, "note.txt", io.BytesIO(b""), no_model)


def test_good_upload_is_saved_indexed_and_searchable(
    indexed: Settings, embedder: HashingEmbedder
) -> None:
    result = save_upload(indexed, "Respite care review.txt", io.BytesIO(NOTE), lambda: embedder)
    assert (indexed.corpus / "Respite care review.txt").read_bytes() == NOTE
    assert result.report is not None and result.report.reused_documents == 3
    assert "Added" in result.message and result.document.title in result.message
    hits = Searcher.open(indexed, embedder).search("respite care families", mode="lexical").hits
    assert hits[0].chunk.source == "Respite care review.txt"
    assert not list(indexed.corpus.glob(".upload-*")), "temporary file left in the corpus"


def test_corrupt_pdf_changes_nothing(indexed: Settings, embedder: HashingEmbedder) -> None:
    before = corpus_state(indexed)
    with pytest.raises(UploadError, match=r"could not be read.*Nothing was changed"):
        save_upload(
            indexed,
            "broken.pdf",
            io.BytesIO(b"%PDF-1.7\n this is not really a PDF"),
            lambda: embedder,
        )
    assert corpus_state(indexed) == before


def test_bad_file_is_refused_without_loading_the_model(indexed: Settings) -> None:
    with pytest.raises(UploadError, match="could not be read"):
        save_upload(indexed, "broken.pdf", io.BytesIO(b"%PDF-1.7\n not a PDF"), no_model)


def test_binary_file_named_txt_changes_nothing(
    indexed: Settings, embedder: HashingEmbedder
) -> None:
    before = corpus_state(indexed)
    with pytest.raises(UploadError, match="binary"):
        save_upload(indexed, "photo.txt", io.BytesIO(bytes(range(256)) * 8), lambda: embedder)
    assert corpus_state(indexed) == before


def test_traversal_name_writes_nothing_outside_the_corpus(
    indexed: Settings, embedder: HashingEmbedder, tmp_path: Path
) -> None:
    before = corpus_state(indexed)
    with pytest.raises(UploadError):
        save_upload(indexed, "../escaped.txt", io.BytesIO(NOTE), lambda: embedder)
    assert not (tmp_path / "escaped.txt").exists()
    assert corpus_state(indexed) == before


def test_existing_document_is_replaced_only_when_confirmed(
    indexed: Settings, embedder: HashingEmbedder
) -> None:
    original = (indexed.corpus / "adoption.txt").read_bytes()
    with pytest.raises(UploadExists, match="already in the corpus"):
        save_upload(indexed, "adoption.txt", io.BytesIO(NOTE), lambda: embedder)
    assert (indexed.corpus / "adoption.txt").read_bytes() == original

    result = save_upload(
        indexed, "adoption.txt", io.BytesIO(NOTE), lambda: embedder, overwrite=True
    )
    assert result.replaced and "Replaced" in result.message
    assert (indexed.corpus / "adoption.txt").read_bytes() == NOTE
    searcher = Searcher.open(indexed, embedder)
    assert "respite care service" in searcher.snapshot.documents["adoption.txt"].text


def test_same_content_is_not_added_twice(indexed: Settings, embedder: HashingEmbedder) -> None:
    data = (indexed.corpus / "adoption.txt").read_bytes()
    unchanged = save_upload(indexed, "adoption.txt", io.BytesIO(data), lambda: embedder)
    assert unchanged.report is None and "nothing to do" in unchanged.message
    with pytest.raises(UploadError, match=r"already in the corpus as adoption\.txt"):
        save_upload(indexed, "copy of adoption.txt", io.BytesIO(data), lambda: embedder)


def test_failed_indexing_puts_the_corpus_back(indexed: Settings) -> None:
    class Broken(HashingEmbedder):
        def encode(self, texts):  # type: ignore[no-untyped-def]
            raise RuntimeError("disk full")

    version = IndexStore(indexed.index).current()
    before = corpus_state(indexed)
    with pytest.raises(RuntimeError, match="disk full"):
        save_upload(indexed, "new.txt", io.BytesIO(NOTE), Broken)
    with pytest.raises(RuntimeError, match="disk full"):
        save_upload(indexed, "adoption.txt", io.BytesIO(NOTE), Broken, overwrite=True)
    assert corpus_state(indexed) == before
    assert IndexStore(indexed.index).current() == version


def test_document_list_has_title_date_size_and_passages(
    indexed: Settings, embedder: HashingEmbedder
) -> None:
    rows = {
        row.source: row
        for row in list_documents(Searcher.open(indexed, embedder).snapshot, indexed.corpus)
    }
    assert set(rows) == {"adoption.txt", "fostering.md", "reports/youth.txt"}
    adoption = rows["adoption.txt"]
    assert adoption.title == "Adoption Panel Annual Report"
    assert adoption.size_bytes == (indexed.corpus / "adoption.txt").stat().st_size
    assert adoption.chunks >= 1
