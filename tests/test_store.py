"""The index folder: refuses what it cannot trust, and survives an interrupted build."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import qa.index.integrity
import qa.index.store
import qa.index.writer
from qa.index.build import build_index, build_spec, search_text
from qa.index.embedders import HashingEmbedder
from qa.index.problems import IndexCorrupt, IndexIncompatible, IndexMissing
from qa.index.store import CURRENT, MANIFEST, IndexStore
from qa.search import Searcher
from qa.settings import Settings

from .conftest import rewrite_manifest

QUESTIONS = ["adoption panel adopters", "foster carers allowance", "youth offending knife crime"]


def answers(settings: Settings, embedder: HashingEmbedder) -> list[list[tuple[str, int, int]]]:
    searcher = Searcher.open(settings, embedder)
    return [
        [(h.chunk.source, h.chunk.start, h.chunk.end) for h in searcher.search(q).hits]
        for q in QUESTIONS
    ]


def live_version(settings: Settings) -> Path:
    path = IndexStore(settings.index).current()
    assert path is not None
    return path


@pytest.fixture
def built(settings: Settings, embedder: HashingEmbedder) -> Settings:
    build_index(settings, embedder)
    return settings


def test_missing_index_says_to_build_it(settings: Settings, embedder: HashingEmbedder) -> None:
    with pytest.raises(IndexMissing, match="qa index"):
        IndexStore(settings.index).load(build_spec(settings, embedder))


def test_saved_index_loads_with_every_row_aligned(
    built: Settings, embedder: HashingEmbedder
) -> None:
    snapshot = IndexStore(built.index).load(build_spec(built, embedder))
    rows = len(snapshot.chunks)
    assert rows > 3
    assert snapshot.embeddings.shape == (rows, embedder.dimension)
    assert snapshot.vectors.size == rows
    assert snapshot.bm25.size == rows
    assert set(snapshot.documents) == {"adoption.txt", "fostering.md", "reports/youth.txt"}
    for chunk in snapshot.chunks:
        assert chunk.text == snapshot.documents[chunk.source].text[chunk.start : chunk.end]
    for source, span in snapshot.rows_of.items():
        assert {c.source for c in snapshot.chunks[span.start : span.stop]} == {source}
    manifest = snapshot.manifest
    assert (manifest.documents, manifest.chunks) == (3, rows)
    assert manifest.spec.chunk_size == built.chunk_size


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"model": "sentence-transformers/all-mpnet-base-v2"}, "model.name"),
        ({"chunk_size": 400}, "chunking.size"),
        ({"chunk_overlap": 20}, "chunking.overlap"),
    ],
)
def test_changed_settings_are_refused_naming_the_field(
    built: Settings, embedder: HashingEmbedder, change: dict[str, object], field: str
) -> None:
    changed = built.replace(**change)
    with pytest.raises(IndexIncompatible) as error:
        IndexStore(built.index).load(build_spec(changed, embedder))
    assert field in str(error.value)
    assert "qa index --rebuild" in str(error.value)
    # Searching goes through the same check.
    with pytest.raises(IndexIncompatible, match=field.replace(".", r"\.")):
        Searcher.open(changed, embedder)


def test_a_model_of_another_dimension_is_refused(built: Settings) -> None:
    with pytest.raises(IndexIncompatible, match=r"model\.dimension"):
        Searcher.open(built, HashingEmbedder(dimension=32))


def test_unknown_format_version_is_incompatible(built: Settings, embedder: HashingEmbedder) -> None:
    rewrite_manifest(built.index, lambda manifest: manifest.update(format_version=99))
    with pytest.raises(IndexIncompatible, match="unsupported index format 99") as error:
        IndexStore(built.index).load(build_spec(built, embedder))
    assert "qa index --rebuild" in str(error.value)


@pytest.mark.parametrize(
    "file",
    [
        "embeddings.npy",
        "chunks.npy",
        "vectors.faiss",
        "bm25_data.npy",
        "documents.jsonl",
        "texts.txt",
    ],
)
def test_truncated_index_file_is_corrupt(
    built: Settings, embedder: HashingEmbedder, file: str
) -> None:
    target = live_version(built) / file
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorrupt, match="missing or truncated") as error:
        IndexStore(built.index).load(build_spec(built, embedder))
    assert file in str(error.value)
    assert "qa index --rebuild" in str(error.value)


def test_altered_index_file_of_the_same_size_is_corrupt(
    built: Settings, embedder: HashingEmbedder
) -> None:
    target = live_version(built) / "texts.txt"
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("eleven", "twelve"), encoding="utf-8")
    with pytest.raises(IndexCorrupt, match="altered"):
        IndexStore(built.index).load(build_spec(built, embedder))


def test_deleted_index_file_is_corrupt(built: Settings, embedder: HashingEmbedder) -> None:
    (live_version(built) / "bm25_vocabulary.json").unlink()
    with pytest.raises(IndexCorrupt, match=r"bm25_vocabulary\.json"):
        IndexStore(built.index).load(build_spec(built, embedder))


def test_unreadable_manifest_is_corrupt(built: Settings, embedder: HashingEmbedder) -> None:
    (live_version(built) / MANIFEST).write_text(
        '{"format_version": 1, "files": {', encoding="utf-8"
    )
    with pytest.raises(IndexCorrupt, match="manifest"):
        IndexStore(built.index).load(build_spec(built, embedder))


def test_a_corrupt_index_is_rebuilt_by_the_next_build(
    built: Settings, embedder: HashingEmbedder
) -> None:
    target = live_version(built) / "embeddings.npy"
    target.write_bytes(target.read_bytes()[:100])
    fresh = HashingEmbedder()
    report = build_index(built, fresh)
    assert report.rebuilt
    assert fresh.encoded == report.chunks
    IndexStore(built.index).load(build_spec(built, fresh))


# --- interrupted builds --------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["np.save", "VectorIndex.save", "os.replace"])
def test_interrupted_build_leaves_the_previous_index_live(
    built: Settings, embedder: HashingEmbedder, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    before = answers(built, embedder)
    old_version = live_version(built)
    # A change to the corpus, so that the next build writes a new version.
    (built.corpus / "adoption.txt").write_text(
        "Adoption Panel Annual Report\n\n1.1 Met monthly, approved twenty adopters.\n",
        encoding="utf-8",
    )

    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    if where == "np.save":
        monkeypatch.setattr(qa.index.writer.np, "save", interrupt)
    elif where == "VectorIndex.save":
        monkeypatch.setattr(qa.index.writer.VectorIndex, "save", interrupt)
    else:
        monkeypatch.setattr(qa.index.writer.os, "replace", interrupt)

    with pytest.raises(KeyboardInterrupt):
        build_index(built, HashingEmbedder())

    assert live_version(built) == old_version
    assert answers(built, embedder) == before
    leftovers = [
        p.name
        for p in built.index.iterdir()
        if p.name.startswith((".tmp-", "v-")) and p != old_version
    ]
    assert leftovers, "the interrupted build left its partial folder (cleaned by the next build)"

    monkeypatch.undo()
    report = build_index(built, HashingEmbedder())
    assert report.changes.changed == ("adoption.txt",)
    assert not list(built.index.glob(".tmp-*"))
    assert not (built.index / f"{CURRENT}.tmp").exists()
    assert live_version(built) != old_version
    after = answers(built, embedder)
    assert after != before
    searcher = Searcher.open(built, embedder)
    assert any("twenty adopters" in h.chunk.text for h in searcher.search("adopters approved").hits)


def test_builds_keep_only_the_live_and_the_previous_version(built: Settings) -> None:
    for n in range(3):
        (built.corpus / f"extra-{n}.txt").write_text(
            f"Extra document number {n} about respite care.\n", encoding="utf-8"
        )
        build_index(built, HashingEmbedder())
    versions = sorted(p.name for p in built.index.glob("v-*"))
    assert len(versions) == 2
    assert live_version(built).name in versions


def test_loaded_snapshot_is_unaffected_by_a_later_build(
    built: Settings, embedder: HashingEmbedder
) -> None:
    searcher = Searcher.open(built, embedder)
    before = searcher.search("adoption panel").hits
    (built.corpus / "adoption.txt").unlink()
    build_index(built, HashingEmbedder())
    # The open searcher keeps answering from the version it loaded, with consistent rows.
    again = searcher.search("adoption panel").hits
    assert [(h.chunk.source, h.chunk.start) for h in again] == [
        (h.chunk.source, h.chunk.start) for h in before
    ]
    assert searcher.refresh() is True
    assert all(h.chunk.source != "adoption.txt" for h in searcher.search("adoption panel").hits)
    assert searcher.refresh() is False


def test_embeddings_survive_a_round_trip(built: Settings, embedder: HashingEmbedder) -> None:
    snapshot = IndexStore(built.index).load(build_spec(built, embedder))
    expected = embedder.encode(
        [search_text(snapshot.catalog[c.source], c, built.chunk_context) for c in snapshot.chunks]
    )
    np.testing.assert_allclose(snapshot.embeddings, expected, atol=1e-6)


def test_a_large_file_is_checked_by_samples_at_load_and_in_full_on_request(
    settings: Settings, embedder: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above FULL_HASH_BYTES a load hashes spread samples, so a million-passage index
    loads in seconds; `qa index --verify` (full_check) still reads every byte."""
    monkeypatch.setattr(qa.index.integrity, "FULL_HASH_BYTES", 0)
    monkeypatch.setattr(qa.index.integrity, "SAMPLE_BLOCKS", 2)
    monkeypatch.setattr(qa.index.integrity, "SAMPLE_BLOCK_BYTES", 8)
    build_index(settings, embedder)
    spec = build_spec(settings, embedder)
    target = live_version(settings) / "texts.txt"
    original = target.read_bytes()
    assert "sampled_sha256" in IndexStore(settings.index).read_manifest()["files"]["texts.txt"]

    middle = len(original) // 2
    target.write_bytes(original[:middle] + b"#" + original[middle + 1 :])
    IndexStore(settings.index).load(spec)  # between the samples: only a full check sees it
    with pytest.raises(IndexCorrupt, match=r"texts\.txt was altered"):
        IndexStore(settings.index).load(spec, full_check=True)

    target.write_bytes(b"#" + original[1:])
    with pytest.raises(IndexCorrupt, match=r"texts\.txt was altered"):
        IndexStore(settings.index).load(spec)


def test_an_index_of_the_previous_format_is_rebuilt(
    built: Settings, embedder: HashingEmbedder
) -> None:
    rewrite_manifest(
        built.index,
        lambda manifest: manifest.update(format_version=qa.index.store.FORMAT_VERSION - 1),
        checksum=False,
    )
    with pytest.raises(IndexIncompatible, match="qa index --rebuild"):
        IndexStore(built.index).load(build_spec(built, embedder))
    report = build_index(built, embedder)
    assert report.rebuilt
    assert len(IndexStore(built.index).load(build_spec(built, embedder)).chunks) == report.chunks


def test_texts_and_large_arrays_stay_on_disk_until_read(
    built: Settings, embedder: HashingEmbedder
) -> None:
    """Memory holds only what queries touch: texts, chunk rows, BM25 weights and vectors are mapped."""
    snapshot = IndexStore(built.index).load(build_spec(built, embedder))
    weights = snapshot.bm25.weights
    for array in (weights.data, weights.indices, weights.indptr, snapshot.embeddings):
        assert not array.flags.owndata
    assert snapshot.chunks[0].text in snapshot.documents[snapshot.chunks[0].source].text


def test_an_index_problem_survives_pickling_with_its_reason_and_fix() -> None:
    """A build in a worker process raises it to its parent: one sentence, not composed twice."""
    import pickle

    for problem in (IndexIncompatible("built with other settings"), IndexMissing("no index yet")):
        restored = pickle.loads(pickle.dumps(problem))
        assert type(restored) is type(problem)
        assert (str(restored), restored.reason, restored.fix) == (
            str(problem),
            problem.reason,
            problem.fix,
        )
