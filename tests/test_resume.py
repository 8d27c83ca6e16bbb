"""An interrupted large build resumes without redoing the embeddings it had finished."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import qa.index.checkpoint
from qa.index.build import build_index
from qa.index.checkpoint import FOLDER
from qa.index.embedders import HashingEmbedder
from qa.index.store import IndexStore
from qa.settings import Settings

from .conftest import write_corpus


class InterruptedEmbedder(HashingEmbedder):
    """Stops the build like Ctrl-C after ``calls_before_stop`` calls to encode."""

    def __init__(self, calls_before_stop: int) -> None:
        super().__init__()
        self.calls_before_stop = calls_before_stop

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.calls >= self.calls_before_stop:
            raise KeyboardInterrupt
        return super().encode(texts)


@pytest.fixture
def many_passages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A corpus of 400 one-paragraph passages, checkpointed every 64."""
    monkeypatch.setattr(qa.index.checkpoint, "SHARD_ROWS", 64)
    files = {
        f"report-{n:03d}.txt": f"Report {n}\n\n1. Passage {n} about topic {n % 7} and budget {n * 13}.\n"
        for n in range(400)
    }
    corpus = write_corpus(tmp_path / "corpus", files)
    return Settings(corpus=corpus, index=tmp_path / "index", batch_size=16)


def test_a_build_interrupted_partway_resumes_from_its_saved_embeddings(
    many_passages: Settings, tmp_path: Path
) -> None:
    with pytest.raises(KeyboardInterrupt):
        build_index(many_passages, InterruptedEmbedder(calls_before_stop=10))
    assert IndexStore(many_passages.index).current() is None
    assert list((many_passages.index / FOLDER).rglob("shard-*.npz"))

    resumed = HashingEmbedder()
    report = build_index(many_passages, resumed)
    whole = HashingEmbedder()
    reference = many_passages.replace(index=tmp_path / "uninterrupted")
    build_index(reference, whole)

    chunks = report.chunks
    finished = (10 * 16 // 64) * 64  # ten batches of 16, saved in whole shards of 64
    assert whole.encoded == chunks
    assert resumed.encoded == chunks - finished
    interrupted_then_resumed = IndexStore(many_passages.index).load()
    uninterrupted = IndexStore(reference.index).load()
    assert np.array_equal(interrupted_then_resumed.embeddings, uninterrupted.embeddings)
    assert list(interrupted_then_resumed.chunks) == list(uninterrupted.chunks)
    assert not (many_passages.index / FOLDER).exists()
