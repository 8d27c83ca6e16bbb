"""Approximate dense search: as good as exact search where it matters, and safe to load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.index.build import build_index, search_text
from qa.index.embedders import HashingEmbedder, embed_passages
from qa.index.problems import IndexCorrupt
from qa.index.store import IndexStore
from qa.index.vectors import AnnParams, VectorIndex
from qa.settings import Settings

from .conftest import rewrite_manifest

ROWS = 20_000


def _mixtures(rng: np.random.Generator, topics: np.ndarray, count: int) -> np.ndarray:
    """Vectors shaped like passage embeddings: means of a few topic vectors plus noise."""
    picks = rng.integers(len(topics), size=(count, 4))
    vectors = topics[picks].mean(axis=1) + rng.normal(0, 0.05, (count, topics.shape[1]))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def generated() -> tuple[VectorIndex, np.ndarray]:
    rng = np.random.default_rng(7)
    topics = rng.normal(size=(500, 384))
    index = VectorIndex.build(_mixtures(rng, topics, ROWS), AnnParams(threshold=10_000))
    return index, _mixtures(rng, topics, 200)


@pytest.mark.slow
def test_approximate_search_finds_what_exact_search_finds(
    generated: tuple[VectorIndex, np.ndarray],
) -> None:
    index, queries = generated
    exact = index.exact()
    assert (index.kind, exact.kind) == ("hnsw", "flat")
    found = [len(set(index.search(q, 10)[0]) & set(exact.search(q, 10)[0])) / 10 for q in queries]
    assert float(np.mean(found)) >= 0.99


@pytest.mark.slow
@pytest.mark.parametrize("share", [0.02, 0.5])
def test_filtered_approximate_search_returns_only_allowed_rows_and_the_right_ones(
    generated: tuple[VectorIndex, np.ndarray], share: float
) -> None:
    index, queries = generated
    allowed = np.random.default_rng(1).random(ROWS) < share
    found = []
    for query in queries[:50]:
        rows, _ = index.search(query, 10, allowed)
        expected, _ = index.exact().search(query, 10, allowed)
        assert allowed[rows].all() and len(rows) == 10
        found.append(len(set(rows) & set(expected)) / 10)
    assert float(np.mean(found)) >= 0.99


def test_small_indexes_stay_exact() -> None:
    vectors = np.eye(8, dtype=np.float32)
    assert VectorIndex.build(vectors, AnnParams(threshold=9)).kind == "flat"
    assert VectorIndex.build(vectors, AnnParams(threshold=8)).kind == "hnsw"


@pytest.mark.parametrize("threshold", [1, 10_000])
def test_a_build_saves_the_vectors_the_embedder_gave_whichever_index_holds_them(
    settings: Settings, embedder: HashingEmbedder, threshold: int
) -> None:
    """The build writes the vector index's own copy of the vectors (flat or HNSW storage)."""
    build_index(settings.replace(ann_threshold=threshold), embedder)
    snapshot = IndexStore(settings.index).load()
    texts = [
        search_text(snapshot.catalog[c.source], c, settings.chunk_context) for c in snapshot.chunks
    ]
    assert snapshot.vectors.kind == ("hnsw" if threshold == 1 else "flat")
    expected = embed_passages(embedder, texts, settings.batch_size)
    np.testing.assert_array_equal(snapshot.embeddings, expected)


def test_an_index_file_of_another_kind_than_the_manifest_says_is_refused(
    settings: Settings, embedder: object, tmp_path: Path
) -> None:
    approximate = settings.replace(ann_threshold=1)
    build_index(approximate, embedder)  # type: ignore[arg-type]
    store = IndexStore(settings.index)
    live = store.current()
    assert live is not None
    assert store.load().manifest.vector_kind == "hnsw"
    assert store.load().vectors.kind == "hnsw"
    rewrite_manifest(settings.index, lambda manifest: manifest["vector_index"].update(kind="flat"))
    with pytest.raises(IndexCorrupt, match=r"holds a hnsw index .* manifest names a flat index"):
        store.load()
