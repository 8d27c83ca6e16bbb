"""Faults around the index (issue 17): files that change while they are read, damaged
pointers, manifests, files and encoders, read-only folders and full disks.

Each fault must end in a right answer or in one clear sentence (an IndexProblem, or a
non-zero exit of `qa`), never in a traceback or a wrong answer; `qa index --rebuild`
must repair whatever a rebuild can. All tests use the HashingEmbedder.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

import qa.index.build
from qa.corpus import CorpusFile
from qa.index.build import build_index
from qa.index.embedders import (
    HashingEmbedder,
    SentenceTransformerEmbedder,
    load_embedder,
    load_query_embedder,
    query_encoder_path,
)
from qa.index.store import IndexCorrupt, IndexStore
from qa.search import Searcher
from qa.settings import BUNDLED_MODEL, Settings

from .conftest import SHIPPED_CORPUS

REAL_QUESTIONS = [
    "How did the judgement for help and protection change?",
    "Which recommendations from the 2020 inspection remained?",
    "What did Ofsted say about leadership?",
]
FIRST_HALF = "Growing report\n\n1.1 The first half is about lighthouse keepers.\n"
SECOND_HALF = "\n1.2 The second half is about orchard growers.\n"


def indexed_text(settings: Settings, source: str) -> str:
    return Searcher.open(settings, HashingEmbedder()).snapshot.documents[source].text


# --- files that change while the build reads them --------------------------------------------


def test_a_file_completed_just_after_it_was_read_is_read_again_whole(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy still in progress: the build parses the first half, then the copy completes.
    The hash after the read differs from the one before, so the file is read again."""
    path = settings.corpus / "growing.txt"
    path.write_text(FIRST_HALF, encoding="utf-8")
    read = qa.index.build.read_document
    completed: list[str] = []

    def read_then_complete(file: CorpusFile, max_bytes: int) -> object:
        document = read(file, max_bytes)
        if file.source == "growing.txt" and not completed:
            with path.open("a", encoding="utf-8") as handle:
                handle.write(SECOND_HALF)
            completed.append(file.source)
        return document

    monkeypatch.setattr(qa.index.build, "read_document", read_then_complete)
    report = build_index(settings, HashingEmbedder())
    assert completed and not report.errors
    assert "orchard growers" in indexed_text(settings, "growing.txt")
    monkeypatch.undo()
    assert build_index(settings, HashingEmbedder()).unchanged


def test_a_file_rewritten_while_it_is_read_and_left_as_it_was_is_read_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case that stayed half-indexed: the file is whole when scanned, rewritten in place
    (truncated, half written) while the build parses it, then completed with the same bytes
    as before. Its hash after the read equals the one before; only its state (size and
    change time) shows that it was written, and the build reads it again."""
    path = settings.corpus / "growing.txt"
    path.write_text(FIRST_HALF + SECOND_HALF, encoding="utf-8")
    time.sleep(0.05)  # the rewrite lands in a later clock tick than this write, as in life
    read = qa.index.build.read_document
    rewritten: list[str] = []

    def read_while_rewritten(file: CorpusFile, max_bytes: int) -> object:
        if file.source != "growing.txt" or rewritten:
            return read(file, max_bytes)
        path.write_text(FIRST_HALF, encoding="utf-8")
        document = read(file, max_bytes)
        path.write_text(FIRST_HALF + SECOND_HALF, encoding="utf-8")
        rewritten.append(file.source)
        return document

    monkeypatch.setattr(qa.index.build, "read_document", read_while_rewritten)
    report = build_index(settings, HashingEmbedder())
    assert rewritten and not report.errors
    assert "orchard growers" in indexed_text(settings, "growing.txt")


def test_a_file_that_keeps_changing_is_reported_and_read_at_the_next_build(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = settings.corpus / "growing.txt"
    path.write_text(FIRST_HALF, encoding="utf-8")
    read = qa.index.build.read_document

    def read_and_append(file: CorpusFile, max_bytes: int) -> object:
        document = read(file, max_bytes)
        if file.source == "growing.txt":
            with path.open("a", encoding="utf-8") as handle:
                handle.write(SECOND_HALF)
        return document

    monkeypatch.setattr(qa.index.build, "read_document", read_and_append)
    report = build_index(settings, HashingEmbedder())
    reasons = {error.source: error.reason for error in report.errors}
    assert "changed while it was being read (3 tries)" in reasons["growing.txt"]
    searcher = Searcher.open(settings, HashingEmbedder())
    assert "growing.txt" not in searcher.snapshot.catalog
    assert searcher.changes().changed == ("growing.txt",)  # so `qa ask` updates first

    monkeypatch.undo()
    report = build_index(settings, HashingEmbedder())
    assert report.changes.changed == ("growing.txt",) and not report.errors
    assert indexed_text(settings, "growing.txt").count("orchard growers") == 3
    assert build_index(settings, HashingEmbedder()).unchanged


# --- the query encoder -----------------------------------------------------------------------


def resave_with_encoder(settings: Settings, encoder: Path) -> None:
    """Save the live version again, recording ``encoder`` as its query encoder (the builds
    of these tests use the HashingEmbedder, which has no encoder to export)."""
    store = IndexStore(settings.index)
    snapshot = store.load()
    store.save(
        snapshot.manifest.spec,
        [snapshot.documents[source] for source in snapshot.catalog],
        list(snapshot.chunks),
        np.asarray(snapshot.embeddings),
        snapshot.vectors,
        snapshot.bm25,
        encoder=encoder,
    )


@pytest.mark.parametrize("damage", ["flip", "truncate", "remove"])
def test_a_damaged_query_encoder_is_refused_at_every_load_and_by_verify(
    settings: Settings, damage: str
) -> None:
    build_index(settings, HashingEmbedder())
    encoder = settings.index / "encoders" / "0123456789abcdef.onnx"
    encoder.parent.mkdir()
    encoder.write_bytes(bytes(range(256)) * 4096)  # 1 MB standing in for the ONNX export
    resave_with_encoder(settings, encoder)
    store = IndexStore(settings.index)
    assert store.load().manifest.encoder is not None
    data = encoder.read_bytes()
    if damage == "flip":  # one bit in the middle: a sampled check would miss it
        middle = len(data) // 2
        encoder.write_bytes(data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :])
        expected = "was altered"
    elif damage == "truncate":
        encoder.write_bytes(data[: len(data) // 2])
        expected = "is missing or truncated"
    else:
        encoder.unlink()
        expected = "is missing or truncated"
    for full_check in (False, True):
        with pytest.raises(IndexCorrupt, match=expected) as error:
            store.load(full_check=full_check)
        assert "encoders/0123456789abcdef.onnx" in str(error.value)
        assert str(error.value).endswith("run `qa index --rebuild`")


@pytest.mark.slow
def test_a_damaged_export_of_the_real_model_is_refused_then_exported_again(
    tmp_path: Path,
) -> None:
    """One flipped byte in the exported encoder changed 13 of 20 dense searches silently and
    `--rebuild` reused it; a cut one made onnxruntime raise InvalidProtobuf at every question."""
    settings = Settings(corpus=SHIPPED_CORPUS, index=tmp_path / "index", model=BUNDLED_MODEL)
    model = load_embedder(BUNDLED_MODEL, settings.batch_size)
    build_index(settings, model)
    encoder = query_encoder_path(settings.index, BUNDLED_MODEL)
    intact = encoder.read_bytes()

    def dense_answers() -> list[list[tuple[str, int]]]:
        searcher = Searcher.open(settings)
        return [
            [(h.chunk.source, h.chunk.start) for h in searcher.search(q, mode="dense").hits]
            for q in REAL_QUESTIONS
        ]

    before = dense_answers()
    middle = len(intact) // 2
    encoder.write_bytes(intact[:middle] + bytes([intact[middle] ^ 1]) + intact[middle + 1 :])
    with pytest.raises(IndexCorrupt, match="onnx was altered"):
        Searcher.open(settings)
    build_index(settings, model, rebuild=True)
    assert encoder.read_bytes() == intact  # exported again, not reused
    assert dense_answers() == before

    encoder.write_bytes(intact[: len(intact) // 3])
    assert isinstance(
        load_query_embedder(BUNDLED_MODEL, settings.index), SentenceTransformerEmbedder
    )  # passed over with a warning, not an InvalidProtobuf traceback
    with pytest.raises(IndexCorrupt, match="onnx is missing or truncated"):
        Searcher.open(settings)
    assert build_index(settings, model).unchanged  # the export is made again before the check
    assert encoder.read_bytes() == intact
    assert dense_answers() == before
