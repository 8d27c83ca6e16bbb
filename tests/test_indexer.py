"""Building and updating the index: only what changed is embedded again."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from qa.chunking import chunk_document
from qa.corpus import load_corpus
from qa.index import lifecycle
from qa.index.build import build_index, build_spec
from qa.index.embedders import HashingEmbedder
from qa.index.store import IndexStore
from qa.search import Searcher
from qa.settings import Settings

from .conftest import make_pdf, write_corpus


def chunk_count(settings: Settings, source: str) -> int:
    (document,) = [d for d in load_corpus(settings.corpus).documents if d.source == source]
    return len(chunk_document(document, settings.chunk_size, settings.chunk_overlap))


def sources_found(settings: Settings, question: str, k: int = 10) -> list[str]:
    searcher = Searcher.open(settings, HashingEmbedder())
    return [h.chunk.source for h in searcher.search(question, k=k).hits]


def test_first_build_embeds_every_chunk(settings: Settings, embedder: HashingEmbedder) -> None:
    report = build_index(settings, embedder)
    assert report.rebuilt and not report.unchanged
    assert report.documents == 3
    assert report.chunks == sum(
        chunk_count(settings, s) for s in ("adoption.txt", "fostering.md", "reports/youth.txt")
    )
    assert report.embedded_chunks == report.chunks == embedder.encoded
    assert report.changes.added == ("adoption.txt", "fostering.md", "reports/youth.txt")
    assert report.errors == ()
    assert "Rebuilt index: 3 documents" in report.summary()


def test_build_without_changes_embeds_nothing(settings: Settings) -> None:
    build_index(settings, HashingEmbedder())
    version = IndexStore(settings.index).current()
    embedder = HashingEmbedder()
    report = build_index(settings, embedder)
    assert report.unchanged
    assert embedder.encoded == 0
    assert report.embedded_chunks == 0
    assert IndexStore(settings.index).current() == version  # nothing rewritten
    assert report.summary().startswith("Index is up to date: 3 documents")


def test_changing_one_document_embeds_only_its_chunks(settings: Settings) -> None:
    build_index(settings, HashingEmbedder())
    (settings.corpus / "adoption.txt").write_text(
        "Adoption Panel Annual Report\n\n"
        "1. SUMMARY\n\n"
        "1.1 The adoption panel met nine times and approved sixteen adopters.\n\n"
        "1.2 Early permanence placements rose to twelve.\n\n"
        "1.3 Adopters praised the support from the regional adoption agency.\n",
        encoding="utf-8",
    )
    embedder = HashingEmbedder()
    report = build_index(settings, embedder)
    expected = chunk_count(settings, "adoption.txt")
    assert embedder.encoded == expected
    assert report.embedded_chunks == expected
    assert report.reused_documents == 2
    assert report.changes.changed == ("adoption.txt",)
    assert report.changes.added == report.changes.removed == ()
    assert not report.rebuilt
    assert "1 changed (adoption.txt)" in report.summary()
    searcher = Searcher.open(settings, HashingEmbedder())
    texts = [h.chunk.text for h in searcher.search("adoption panel adopters", k=10).hits]
    assert any("sixteen adopters" in t for t in texts)
    assert not any("fourteen adopters" in t for t in texts)


def test_a_changed_sidecar_counts_as_a_change(settings: Settings) -> None:
    build_index(settings, HashingEmbedder())
    (settings.corpus / "adoption.txt.meta.json").write_text(
        '{"title": "Adoption 2023", "date": "2023-05"}'
    )
    report = build_index(settings, HashingEmbedder())
    assert report.changes.changed == ("adoption.txt",)
    snapshot = IndexStore(settings.index).load()
    assert snapshot.documents["adoption.txt"].title == "Adoption 2023"
    assert snapshot.documents["adoption.txt"].date == "2023-05"


def test_deleting_a_file_removes_its_chunks(settings: Settings) -> None:
    build_index(settings, HashingEmbedder())
    assert "reports/youth.txt" in sources_found(settings, "youth offending knife crime")
    (settings.corpus / "reports" / "youth.txt").unlink()
    embedder = HashingEmbedder()
    report = build_index(settings, embedder)
    assert report.changes.removed == ("reports/youth.txt",)
    assert embedder.encoded == 0
    snapshot = IndexStore(settings.index).load()
    assert "reports/youth.txt" not in snapshot.documents
    assert all(c.source != "reports/youth.txt" for c in snapshot.chunks)
    assert "reports/youth.txt" not in sources_found(settings, "youth offending knife crime")


def test_adding_a_file_adds_its_chunks(settings: Settings) -> None:
    build_index(settings, HashingEmbedder())
    write_corpus(
        settings.corpus,
        {"new/respite.txt": "Short Breaks Review\n\nRespite care was given to 240 families.\n"},
    )
    embedder = HashingEmbedder()
    report = build_index(settings, embedder)
    assert report.changes.added == ("new/respite.txt",)
    assert embedder.encoded == chunk_count(settings, "new/respite.txt")
    assert report.documents == 4
    assert sources_found(settings, "respite care families")[0] == "new/respite.txt"


def test_rebuild_flag_embeds_everything_again(settings: Settings) -> None:
    first = build_index(settings, HashingEmbedder())
    embedder = HashingEmbedder()
    report = build_index(settings, embedder, rebuild=True)
    assert report.rebuilt
    assert embedder.encoded == first.chunks


def test_changed_chunk_size_rebuilds_from_scratch(settings: Settings) -> None:
    build_index(settings, HashingEmbedder())
    smaller = settings.replace(chunk_size=200, chunk_overlap=20)
    embedder = HashingEmbedder()
    report = build_index(smaller, embedder)
    assert report.rebuilt
    assert embedder.encoded == report.chunks
    assert IndexStore(smaller.index).load().manifest.spec.chunk_size == 200


def test_broken_files_are_skipped_and_the_rest_is_searchable(
    settings: Settings, tmp_path: Path
) -> None:
    make_pdf(settings.corpus / "leaving-care.pdf", [["Care leavers get a setting-up-home grant."]])
    whole = make_pdf(
        tmp_path / "whole.pdf", [["Text of a PDF that will be cut short."]]
    ).read_bytes()
    write_corpus(
        settings.corpus,
        {
            "broken.pdf": random.Random(1).randbytes(2048),
            "truncated.pdf": whole[: len(whole) // 2],
            "binary.txt": b"\x00\x00\x01\x02 not text \x00" * 40,
            "empty.txt": b"",
            "budget.xlsx": b"PK\x03\x04",
        },
    )
    embedder = HashingEmbedder()
    report = build_index(settings, embedder)
    reasons = {e.source: e.reason for e in report.errors}
    assert set(reasons) == {"broken.pdf", "truncated.pdf", "binary.txt", "empty.txt", "budget.xlsx"}
    assert "corrupt" in reasons["broken.pdf"]
    assert "corrupt" in reasons["truncated.pdf"]
    assert "binary" in reasons["binary.txt"]
    assert reasons["empty.txt"] == "empty file"
    assert "unsupported" in reasons["budget.xlsx"]
    assert report.documents == 4
    assert sources_found(settings, "setting up home grant")[0] == "leaving-care.pdf"
    assert sources_found(settings, "foster carers allowance")[0] == "fostering.md"
    assert sources_found(settings, "youth offending team officers")[0] == "reports/youth.txt"

    # The next build does not read them again but still reports them.
    again = build_index(settings, HashingEmbedder())
    assert again.unchanged
    assert {e.source for e in again.errors} == set(reasons)

    # Fixing a skipped file is a change like any other.
    (settings.corpus / "binary.txt").write_text(
        "Now a real document about kinship care.\n", encoding="utf-8"
    )
    fixed = build_index(settings, HashingEmbedder())
    assert fixed.changes.changed == ("binary.txt",)
    assert "binary.txt" not in {e.source for e in fixed.errors}
    assert sources_found(settings, "kinship care")[0] == "binary.txt"


def test_empty_corpus_builds_an_empty_index(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    report = build_index(settings, HashingEmbedder())
    assert report.documents == report.chunks == 0
    assert Searcher.open(settings, HashingEmbedder()).search("anything").hits == ()


def test_missing_corpus_folder_is_an_error(tmp_path: Path) -> None:
    settings = Settings(corpus=tmp_path / "nowhere", index=tmp_path / "index")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        build_index(settings, HashingEmbedder())


# --- stale index ---------------------------------------------------------------------------------


@pytest.fixture
def built(settings: Settings) -> Settings:
    build_index(settings, HashingEmbedder())
    return settings


def test_current_index_passes_the_check(built: Settings) -> None:
    found = lifecycle.status(built, HashingEmbedder())
    assert found.state is lifecycle.IndexState.READY
    assert found.snapshot is not None


def test_stale_index_names_the_changed_document(built: Settings) -> None:
    (built.corpus / "fostering.md").write_text(
        "# Fostering\n\nThe allowance went up.\n", encoding="utf-8"
    )
    found = lifecycle.status(built, HashingEmbedder())
    assert found.state is lifecycle.IndexState.STALE
    assert "1 changed (fostering.md)" in found.reason
    assert found.fix is not None and "qa index" in found.fix
    assert found.changes is not None and found.changes.changed == ("fostering.md",)


def test_stale_index_names_added_and_removed_documents(built: Settings) -> None:
    (built.corpus / "adoption.txt").unlink()
    write_corpus(built.corpus, {"late.txt": "A late addition about advocacy.\n"})
    found = lifecycle.status(built, HashingEmbedder())
    assert "1 added (late.txt)" in found.reason
    assert "1 removed (adoption.txt)" in found.reason


def test_index_is_current_again_after_an_update(built: Settings) -> None:
    searcher = Searcher.open(built, HashingEmbedder())
    (built.corpus / "adoption.txt").unlink()
    build_index(built, HashingEmbedder())
    assert searcher.refresh()
    assert lifecycle.status(built, HashingEmbedder()).state is lifecycle.IndexState.READY


def test_spec_records_what_the_index_depends_on(
    settings: Settings, embedder: HashingEmbedder
) -> None:
    spec = build_spec(settings, embedder)
    assert (spec.model, spec.dimension, spec.max_tokens) == (settings.model, 64, 256)
    assert (spec.chunk_size, spec.chunk_overlap) == (300, 50)
