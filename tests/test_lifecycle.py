"""Index readiness, decided in one place: each state with its reason, and what ensure does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import qa.index.embedders
from qa.index.build import build_index
from qa.index.embedders import HashingEmbedder
from qa.index.lifecycle import IndexNotReady, IndexState, ensure, state_of, status
from qa.index.problems import IndexCorrupt
from qa.index.store import FORMAT_VERSION, IndexStore
from qa.settings import Settings

from .conftest import rewrite_manifest, write_corpus


@pytest.fixture
def builder(embedder: HashingEmbedder, monkeypatch: pytest.MonkeyPatch) -> HashingEmbedder:
    """The model a build loads, replaced by the hashing embedder."""

    def load(*args: Any, **kwargs: Any) -> HashingEmbedder:
        return embedder

    monkeypatch.setattr(qa.index.embedders, "load_embedder", load)
    return embedder


@pytest.fixture
def built(settings: Settings, embedder: HashingEmbedder) -> Settings:
    build_index(settings, embedder)
    return settings


def live_manifest(settings: Settings) -> Path:
    live = IndexStore(settings.index).current()
    assert live is not None
    return live / "manifest.json"


def test_a_folder_without_an_index_is_missing(
    settings: Settings, embedder: HashingEmbedder
) -> None:
    found = status(settings, embedder)
    assert found.state is IndexState.MISSING and found.snapshot is None
    assert found.reason == f"no index yet in {settings.index}"
    assert found.fix == "qa index"


def test_a_current_index_is_ready_with_its_snapshot(
    built: Settings, embedder: HashingEmbedder
) -> None:
    found = status(built, embedder)
    assert found.state is IndexState.READY
    assert found.snapshot is not None and len(found.snapshot.catalog) == 3


def test_a_changed_corpus_makes_the_index_stale_naming_the_change(
    built: Settings, embedder: HashingEmbedder
) -> None:
    write_corpus(built.corpus, {"late.txt": "A late addition about advocacy.\n"})
    found = status(built, embedder)
    assert found.state is IndexState.STALE
    assert found.reason == "the corpus changed since the index was built (1 added (late.txt))"
    assert found.changes is not None and found.changes.added == ("late.txt",)
    assert found.snapshot is not None, "a stale index still answers"
    assert status(built, embedder, corpus=False).state is IndexState.READY


def test_an_index_of_another_format_is_outdated(built: Settings, embedder: HashingEmbedder) -> None:
    rewrite_manifest(
        built.index, lambda manifest: manifest.update(format_version=FORMAT_VERSION - 1)
    )
    found = status(built, embedder)
    assert found.state is IndexState.OUTDATED
    assert found.reason.startswith(f"unsupported index format {FORMAT_VERSION - 1}")


def test_an_index_built_with_other_settings_is_incompatible_naming_the_field(
    built: Settings, embedder: HashingEmbedder
) -> None:
    found = status(built.replace(chunk_size=800), embedder)
    assert found.state is IndexState.INCOMPATIBLE
    assert "chunking.size = 300 but the settings ask for 800" in found.reason
    assert found.fix == "qa index --rebuild"


def test_an_altered_file_makes_the_index_corrupt_naming_the_file(
    built: Settings, embedder: HashingEmbedder
) -> None:
    texts = live_manifest(built).parent / "texts.txt"
    texts.write_bytes(texts.read_bytes()[:-1] + b"#")
    found = status(built, embedder)
    assert found.state is IndexState.CORRUPT
    assert found.reason == f"index file {texts} was altered"


def test_ensure_builds_a_missing_index(settings: Settings, builder: HashingEmbedder) -> None:
    announced: list[IndexState] = []
    ready = ensure(settings, builder, announce=lambda found: announced.append(found.state))
    assert announced == [IndexState.MISSING] and ready.found.state is IndexState.MISSING
    assert ready.report is not None and ready.report.documents == 3
    assert status(settings, builder).state is IndexState.READY


def test_ensure_updates_a_stale_index_and_rebuilds_an_incompatible_one(
    built: Settings, builder: HashingEmbedder
) -> None:
    write_corpus(built.corpus, {"late.txt": "A late addition about advocacy.\n"})
    updated = ensure(built, builder)
    assert updated.found.state is IndexState.STALE
    assert updated.report is not None and not updated.report.rebuilt
    assert updated.report.reused_documents == 3 and "late.txt" in updated.snapshot.catalog

    larger = built.replace(chunk_size=800)
    rebuilt = ensure(larger, builder)
    assert rebuilt.found.state is IndexState.INCOMPATIBLE
    assert rebuilt.report is not None and rebuilt.report.rebuilt
    assert status(larger, builder).state is IndexState.READY


def test_ensure_leaves_a_ready_index_alone(built: Settings, builder: HashingEmbedder) -> None:
    version = IndexStore(built.index).current()
    ready = ensure(built, builder)
    assert ready.report is None and ready.found.state is IndexState.READY
    assert IndexStore(built.index).current() == version


def test_ensure_without_update_refuses_with_the_reason_and_the_fix(
    built: Settings, builder: HashingEmbedder
) -> None:
    write_corpus(built.corpus, {"late.txt": "A late addition about advocacy.\n"})
    with pytest.raises(IndexNotReady) as refused:
        ensure(built, builder, update=False)
    assert str(refused.value) == (
        "the corpus changed since the index was built (1 added (late.txt)); run `qa index`"
    )
    assert state_of(refused.value) is IndexState.STALE
    assert "late.txt" not in IndexStore(built.index).load().catalog


def test_a_problem_met_while_searching_has_a_state() -> None:
    assert state_of(IndexCorrupt("index file x was altered")) is IndexState.CORRUPT
