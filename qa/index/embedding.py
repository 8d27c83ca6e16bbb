"""The embedding stage of a build: the search text of each passage it read, embedded
through the checkpoint (:mod:`qa.index.checkpoint`), so an interrupted build resumes
where it stopped, in this process or on Ray workers (:mod:`qa.index.ray_embedding`) when
the settings ask for more than one.

Example::

    checkpoint = EmbeddingCheckpoint.open(settings.index, spec_key)
    vectors = embed_chunks(settings, embedder, checkpoint, chunks, text, bar.update)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import overload

import numpy as np

from qa.index.checkpoint import EmbeddingCheckpoint, Progress
from qa.index.embedders import Embedder
from qa.settings import Settings
from qa.types import Chunk


class _Texts(Sequence[str]):
    """``text`` of each chunk, made when it is read: the embedding checkpoint reads each
    text twice (to key it, then in its shard), and a list of a million search texts held
    1 GB through the embedding."""

    def __init__(self, chunks: Sequence[Chunk], text: Callable[[Chunk], str]) -> None:
        self._chunks = chunks
        self._text = text

    def __len__(self) -> int:
        return len(self._chunks)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._text(chunk) for chunk in self._chunks[index]]
        return self._text(self._chunks[index])


def embed_chunks(
    settings: Settings,
    embedder: Embedder,
    checkpoint: EmbeddingCheckpoint,
    chunks: Sequence[Chunk],
    text: Callable[[Chunk], str],
    progress: Progress | None = None,
) -> np.ndarray:
    """The vectors of ``text`` of each of ``chunks``, in order: those an interrupted build
    saved are reused, the rest embedded and saved shard by shard, counted on ``progress``."""
    runner = None
    if settings.workers > 1 or settings.ray_address:
        from qa.index.ray_embedding import ray_runner

        runner = ray_runner(embedder, settings.batch_size, settings.workers, settings.ray_address)
    return checkpoint.embed(embedder, _Texts(chunks, text), settings.batch_size, progress, runner)
