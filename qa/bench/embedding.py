"""The real model's passage throughput on this machine, for each way it can be run.

The benchmark indexes its generated corpora with a synthetic embedder (the real model would
take hours over a million passages), so what the real model would cost a build is
extrapolated from the throughput measured here on a sample. The same process embeds the
corpus sentences the synthetic embedder composes and exports the query encoder that the
serving runs load, so the model is loaded once.

Example::

    figures = measure_model(Settings().model, vocabulary.sentences, sample, work)
    print(figures.passages_per_second, [o.name for o in figures.options])
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.index.embedders import (
    Embedder,
    SentenceTransformerEmbedder,
    embed_passages,
    load_sentence_transformer,
)


@dataclass(frozen=True)
class EmbeddingOption:
    """One way to run the real model over passages; ``agreement`` is the lowest cosine
    similarity between its vectors and those of the first option, on the same passages
    (None for another model, whose vectors live in another space)."""

    name: str
    passages_per_second: float
    agreement: float | None
    cpu_passages_per_second: float
    """Passages per CPU-second of this process: steadier than wall time when other work
    shares the cores, though it counts threads that spin while they wait."""


@dataclass(frozen=True)
class ModelFigures:
    """The real model's passage embedding throughput on a sample, on this machine:
    ``passages_per_second`` is that of the way ``qa index`` runs it."""

    passages_per_second: float
    sample: int
    options: tuple[EmbeddingOption, ...] = ()
    load_average: float = 0.0
    """The 1-minute load average when the options were timed (2 cores: above 2, other
    work was waiting for them)."""


def measure_model(
    model: str, sentences: Sequence[str], sample: Sequence[str], work: Path
) -> ModelFigures:
    """Embed the corpus sentences (for the synthetic embedder), export the query encoder,
    and time the real model on ``sample`` passages."""
    from qa.index.embedders import query_encoder_path
    from qa.index.export import export_query_encoder

    embedder = load_sentence_transformer(model)
    export_query_encoder(embedder, query_encoder_path(work, model))  # serves the questions
    onnx_file = query_encoder_path(work, model, quantized=False)  # the reference: fp32
    export_query_encoder(embedder, onnx_file, quantized=False)
    np.save(work / "sentence_vectors.npy", embedder.encode(list(sentences)))
    load = os.getloadavg()[0]
    options = measure_embedding_options(embedder, onnx_file, sample)
    default = next(o for o in options if "(pre-processed; the default)" in o.name)
    return ModelFigures(default.passages_per_second, len(sample), options, load)


def measure_embedding_options(
    embedder: SentenceTransformerEmbedder, onnx_file: Path, sample: Sequence[str]
) -> tuple[EmbeddingOption, ...]:
    """Passages per second of each way to run a model over the same passages: the ONNX
    export with spinning threads, as builds ran when issue 15 was filed (the first option, the
    reference the others are compared with), as ``qa index`` runs it now, torch, the export
    optimised, quantized three ways and run by OpenVINO, and the bundled bge-small INT8
    (another model: no agreement with the reference). Each option runs in two rounds and
    keeps its faster, so the order of the options does not bias them."""
    from qa.bench import quantize
    from qa.index.embedders import load_embedder, resolve_model
    from qa.index.onnx import OnnxEmbedder, OnnxEncoder
    from qa.settings import BGE_SMALL_MODEL

    tokenizer = Path(resolve_model(embedder.name)) / "tokenizer.json"
    shape = embedder.dimension, embedder.max_tokens

    def onnx(path: Path, spinning: bool = False) -> OnnxEmbedder:
        return OnnxEmbedder(embedder.name, OnnxEncoder(path, tokenizer, *shape, spinning=spinning))

    candidates: list[tuple[str, Embedder]] = [
        ("onnx fp32, threads spinning (how builds ran before issue 15)", onnx(onnx_file, True)),
        ("onnx fp32", onnx(onnx_file)),
        ("torch", embedder),
        ("onnx fp32, optimised", onnx(quantize.optimized(onnx_file))),
        ("onnx int8 dynamic, per tensor", onnx(quantize.dynamic(onnx_file, per_channel=False))),
        (
            "onnx int8 dynamic, per channel (pre-processed; the default)",
            onnx(quantize.dynamic(onnx_file, per_channel=True)),
        ),
        (
            "onnx int8 static QDQ, per channel, calibrated",
            onnx(quantize.static(onnx_file, tokenizer, sample)),
        ),
    ]
    openvino = quantize.openvino_embedder(embedder.name, OnnxEncoder(onnx_file, tokenizer, *shape))
    if openvino is not None:
        candidates.append(("openvino fp32", openvino))
    candidates.append(
        ("bge-small-en-v1.5 int8 (bundled; another model)", load_embedder(BGE_SMALL_MODEL))
    )
    best = [float("inf")] * len(candidates)
    best_cpu = [float("inf")] * len(candidates)
    vectors: list[np.ndarray] = []
    for _ in range(2):  # best of two rounds: the first option would otherwise pay the warm-up
        vectors = []
        for i, (_, encoder) in enumerate(candidates):
            started, cpu_started = time.perf_counter(), time.process_time()
            vectors.append(embed_passages(encoder, sample))
            best[i] = min(best[i], time.perf_counter() - started)
            best_cpu[i] = min(best_cpu[i], time.process_time() - cpu_started)
    options = []
    for i, (name, encoder) in enumerate(candidates):
        same_model = encoder.name == embedder.name
        agreement = (
            float(np.einsum("ij,ij->i", vectors[i], vectors[0]).min()) if same_model else None
        )
        rate, cpu_rate = len(sample) / best[i], len(sample) / max(best_cpu[i], 1e-9)
        options.append(EmbeddingOption(name, rate, agreement, cpu_rate))
    return tuple(options)
