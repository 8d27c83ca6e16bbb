"""Faults around the index (issue 17): files that change while they are read, damaged
pointers, manifests, files and encoders, read-only folders and full disks.

Each fault must end in a right answer or in one clear sentence (an IndexProblem, or a
non-zero exit of `qa`), never in a traceback or a wrong answer; `qa index --rebuild`
must repair whatever a rebuild can. All tests use the HashingEmbedder.
"""

from __future__ import annotations

import time

import pytest

import qa.index.build
from qa.corpus import CorpusFile
from qa.index.build import build_index
from qa.index.embedders import HashingEmbedder
from qa.search import Searcher
from qa.settings import Settings

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
