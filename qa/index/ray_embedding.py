"""Embedding a build's passages on Ray: one model per actor, the same vectors as in one process.

``qa index --workers N`` (or ``ray_address``) hands the embedding stage's shards
(:mod:`qa.index.checkpoint`) to Ray Data: every batch the single-process build would run
(:func:`qa.index.embedders.passage_batches`, per shard) becomes one row of a dataset, and
``map_batches`` runs the rows on a pool of ``N`` actors, each of which loads the model once.
A batch is never split or merged, so an INT8 model, whose vectors depend on which texts
share a batch, gives exactly the vectors of a build in one process. The driver collects the
vectors as they arrive, moves the progress bar, and saves each shard to the checkpoint as
soon as it is complete, so an interrupted distributed build resumes like any other.

Actors get the model as files, not as a path on this machine: the ONNX export and its
tokenizer travel through Ray's object store, so a worker on another machine needs only
qa's dependencies, not the index folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from qa.index.checkpoint import Progress, ShardRunner
from qa.index.embedders import (
    Embedder,
    SentenceTransformerEmbedder,
    embed_batch,
    load_sentence_transformer,
    passage_batches,
)
from qa.index.onnx import OnnxEmbedder, OnnxEncoder
from qa.settings import SettingsError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _ShippedOnnx:
    """An ONNX encoder as bytes, made into an embedder where it is unpacked."""

    model: str
    encoder: OnnxEncoder
    onnx: bytes
    tokenizer: bytes

    def __call__(self) -> Embedder:
        """The embedder, from files unpacked once per node and export: named by the export's
        hash, written under temporary names and renamed, so actors starting together on one
        node never read a half-written file."""
        digest = hashlib.sha256(self.onnx + self.tokenizer).hexdigest()[:16]
        folder = Path(tempfile.gettempdir()) / f"qa-encoder-{digest}"
        folder.mkdir(exist_ok=True)
        for name, data in (("model.onnx", self.onnx), ("tokenizer.json", self.tokenizer)):
            if not (folder / name).is_file():
                partial_file = folder / f".{name}.{os.getpid()}"
                partial_file.write_bytes(data)
                os.replace(partial_file, folder / name)
        files = replace(
            self.encoder, onnx_file=folder / "model.onnx", tokenizer_file=folder / "tokenizer.json"
        )
        return OnnxEmbedder(self.model, files)


def shipped(embedder: Embedder, batch_size: int) -> Callable[[], Embedder]:
    """What makes ``embedder`` again inside a worker: an ONNX encoder's files, a
    sentence-transformers model by name (it ships in a package), any other embedder (a
    test's) as itself."""
    if isinstance(embedder, OnnxEmbedder):
        encoder = embedder.encoder
        return _ShippedOnnx(
            embedder.name,
            encoder,
            encoder.onnx_file.read_bytes(),
            encoder.tokenizer_file.read_bytes(),
        )
    if isinstance(embedder, SentenceTransformerEmbedder):
        return partial(load_sentence_transformer, embedder.name, batch_size)
    return lambda: embedder


class _Embed:
    """A Ray actor holding one model: embeds each row (one batch of the plan) as a whole."""

    def __init__(self, make: Callable[[], Embedder]) -> None:
        self.embedder = make()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows, vectors = [], []
        for batch_rows, texts in zip(batch["rows"], batch["texts"], strict=True):
            rows.append(np.asarray(batch_rows, dtype=np.int64))
            vectors.append(embed_batch(self.embedder, [str(text) for text in texts]))
        return {"row": np.concatenate(rows), "vector": np.concatenate(vectors)}


def ray_runner(embedder: Embedder, batch_size: int, workers: int, address: str = "") -> ShardRunner:
    """A shard runner embedding on ``workers`` actors: on the Ray cluster at ``address``,
    on the one this process is already connected to, or on a local Ray started for it."""
    try:
        import ray
    except ImportError:
        raise SettingsError(
            f"workers = {workers} embeds on Ray, which is not installed: pip install -e '.[scale]'"
        ) from None
    make = shipped(embedder, batch_size)

    def run(
        shards: Sequence[list[int]], texts: Sequence[str], progress: Progress | None
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        if not shards:
            return
        started_here = not ray.is_initialized()
        if started_here:
            _start(ray, workers, address)
        try:
            yield from _embed(ray, make, shards, texts, batch_size, workers, progress)
        finally:
            if started_here:
                ray.shutdown()

    return run


def _start(ray: Any, workers: int, address: str) -> None:
    """Connect to the cluster at ``address``, or start a local Ray with ``workers`` CPUs;
    workers import this checkout's qa (it travels as a module), not another installed one."""
    package = Path(__file__).resolve().parents[1]
    options: dict[str, Any] = {
        "runtime_env": {"py_modules": [str(package)]},
        "logging_level": logging.WARNING,
        "log_to_driver": False,
    }
    if address:
        ray.init(address=address, **options)
    else:
        ray.init(num_cpus=workers, include_dashboard=False, **options)


def _embed(
    ray: Any,
    make: Callable[[], Embedder],
    shards: Sequence[list[int]],
    texts: Sequence[str],
    batch_size: int,
    workers: int,
    progress: Progress | None,
) -> Iterator[tuple[list[int], np.ndarray]]:
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the build draws its own bar
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # not between the bar's lines
    items = []
    for rows in shards:
        for batch in passage_batches([texts[r] for r in rows], batch_size):
            chosen = [rows[i] for i in batch]
            items.append({"rows": chosen, "texts": [texts[r] for r in chosen]})
    dataset = ray.data.from_items(items).map_batches(
        _Embed,
        fn_constructor_args=(make,),
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=1,
    )
    shard_of = {row: shard for shard, rows in enumerate(shards) for row in rows}
    position = {row: i for rows in shards for i, row in enumerate(rows)}
    pending = [len(rows) for rows in shards]
    vectors: dict[int, np.ndarray] = {}
    for output in dataset.iter_batches(batch_size=None, batch_format="numpy"):
        for row, vector in zip(output["row"].tolist(), output["vector"], strict=True):
            shard = shard_of[row]
            if shard not in vectors:
                vectors[shard] = np.zeros((len(shards[shard]), len(vector)), dtype=np.float32)
            vectors[shard][position[row]] = vector
            pending[shard] -= 1
            if pending[shard] == 0:
                yield shards[shard], vectors.pop(shard)
        if progress is not None:
            progress(len(output["row"]))
