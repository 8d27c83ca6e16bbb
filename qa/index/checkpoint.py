"""Embeddings saved as they are computed, so an interrupted build resumes where it stopped.

Embedding is by far the slowest stage of a large build (hours for a million passages on
two cores). Every :data:`SHARD_ROWS` passages the build writes their vectors to a shard
file in ``<index>/.embeddings/<model key>/``, keyed by the SHA-256 of each passage's text;
a shard is written under a temporary name and renamed, so a kill leaves whole shards only.
The next build reuses every vector it finds there and the store deletes the folder once a
version is live.

The shards are embedded here one after the other, or by a :data:`ShardRunner` that runs
them elsewhere (:mod:`qa.index.ray_embedding`) and hands each back as it completes.

Example::

    checkpoint = EmbeddingCheckpoint.open(settings.index, spec_key)
    vectors = checkpoint.embed(embedder, texts, batch_size=32)
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.index.embedders import Embedder, embed_passages

log = logging.getLogger(__name__)

FOLDER = ".embeddings"
SHARD_ROWS = 2048
"""Passages per shard: at most this much work is lost to a kill (a minute or two of the
real model on two cores), and few enough files for a million passages (~500)."""


Progress = Callable[[int], Any]
ShardRunner = Callable[
    [Sequence[list[int]], Sequence[str], Progress | None], Iterable[tuple[list[int], np.ndarray]]
]
"""Embeds shards (rows of the texts) and yields each shard's rows with their vectors, in
any order, each as soon as it is complete, counting embedded passages on the progress."""


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True)
class EmbeddingCheckpoint:
    """The shards of one model (and its dimension and token limit) in one index folder."""

    folder: Path

    @classmethod
    def open(cls, index_root: Path, model_key: str) -> EmbeddingCheckpoint:
        name = hashlib.sha256(model_key.encode()).hexdigest()[:16]
        return cls(index_root / FOLDER / name)

    def load(self) -> dict[bytes, np.ndarray]:
        """Every saved vector by text key; an unreadable shard (cut by a crash) is skipped."""
        vectors: dict[bytes, np.ndarray] = {}
        for shard in sorted(self.folder.glob("shard-*.npz")):
            try:
                with np.load(shard) as arrays:
                    vectors.update(zip(arrays["keys"].tolist(), arrays["vectors"], strict=True))
            except (OSError, ValueError, KeyError):
                continue
        return vectors

    def save(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Write one shard; a failure only costs the resume, never the build."""
        name = f"shard-{secrets.token_hex(8)}"
        temporary = self.folder / f".{name}.tmp.npz"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            np.savez(temporary, keys=np.asarray(keys, dtype="S32"), vectors=vectors)
            temporary.rename(self.folder / f"{name}.npz")  # names are unique: nothing to replace
        except OSError as error:  # e.g. a disk full, or another build finished and cleared
            log.warning("cannot save embeddings to resume from (%s)", error)

    def embed(
        self,
        embedder: Embedder,
        texts: Sequence[str],
        batch_size: int,
        progress: Progress | None = None,
        runner: ShardRunner | None = None,
    ) -> np.ndarray:
        """Vectors of ``texts``: saved ones reused, the rest embedded (here, or by ``runner``)
        and saved shard by shard."""
        keys = [text_key(t) for t in texts]
        saved = self.load()
        result = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
        missing = []
        for row, key in enumerate(keys):
            if key in saved:
                result[row] = saved[key]
            else:
                missing.append(row)
        if progress is not None and len(texts) > len(missing):
            progress(len(texts) - len(missing))
        shards = [
            missing[start : start + SHARD_ROWS] for start in range(0, len(missing), SHARD_ROWS)
        ]
        if runner is None:
            runner = _here(embedder, batch_size)
        for rows, vectors in runner(shards, texts, progress):
            self.save([keys[r] for r in rows], vectors)
            result[rows] = vectors
        return result

    def clear(self) -> None:
        """Remove every shard: once a version is live its embeddings are in it."""
        shutil.rmtree(self.folder.parent, ignore_errors=True)


def _here(embedder: Embedder, batch_size: int) -> ShardRunner:
    """The runner that embeds the shards in this process, one after the other."""

    def run(
        shards: Sequence[list[int]], texts: Sequence[str], progress: Progress | None
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        for rows in shards:
            yield rows, embed_passages(embedder, [texts[r] for r in rows], batch_size, progress)

    return run
