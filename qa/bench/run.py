"""The speed and scale benchmark: build, load and query generated corpora of N passages,
after timing one question's stages on the shipped corpus (:mod:`qa.bench.latency`).

Every figure comes from the product's own path (``build_index``, ``IndexStore``,
``Searcher``); each build, each serving run and each comparison runs in a fresh process,
so its peak memory (RSS) is its own. Passages are indexed with
:class:`qa.bench.synthetic.SyntheticEmbedder` (embedding a million passages with the real model
would take hours); the real model's throughput is measured on a sample and the embedding
time it would take is extrapolated from it and labelled so.

Example::

    record = run_benchmark(BenchConfig(sizes=(1000, 10_000), out=Path("reports/bench")))
"""

from __future__ import annotations

import logging
import os
import platform
import resource
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from qa.bench.latency import Percentiles, QuestionFigures, measure_questions
from qa.bench.report import write_reports
from qa.bench.synthetic import Vocabulary, corpus_vocabulary, generate_queries, write_corpus
from qa.corpus import load_corpus
from qa.index.embedders import (
    Embedder,
    SentenceTransformerEmbedder,
    embed_passages,
    load_sentence_transformer,
)
from qa.questions import load_questions
from qa.settings import Settings
from qa.types import Backend, Mode

log = logging.getLogger(__name__)

DEFAULT_SIZES = (1000, 10_000)
_T = TypeVar("_T")


@dataclass(frozen=True)
class BenchConfig:
    """What to measure; ``work`` keeps generated corpora and indexes (reused across runs)."""

    sizes: tuple[int, ...] = DEFAULT_SIZES
    queries: int = 200
    out: Path = Path("reports/bench")
    work: Path | None = None
    corpus: Path = Path("corpus")
    questions: Path = Path("eval/questions.jsonl")
    seed: int = 0
    embedding_sample: int = 64
    """Passages the real model embeds per option: about 15 s each on two cores."""
    backends: tuple[Backend, ...] = (Backend.EMBEDDED,)
    """With Milvus, each size is also built, served and compared on a Milvus Lite file."""
    question_rounds: int = 3
    """Timed rounds over the reference questions on the shipped corpus (qa.bench.latency)."""

    @property
    def work_folder(self) -> Path:
        return self.work or self.out / "work"


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


@dataclass(frozen=True)
class BuildFigures:
    passages: int
    documents: int
    seconds: float
    stages: dict[str, float]
    index_bytes: int
    peak_rss_mb: float


@dataclass(frozen=True)
class ServeFigures:
    load_seconds: float
    peak_rss_mb: float
    queries: int
    latency: dict[Mode, Percentiles]


@dataclass(frozen=True)
class LexicalComparison:
    """Our BM25 scorer against ``rank_bm25.BM25Okapi.get_scores`` on the same passages."""

    queries: int
    ours_ms: float
    rank_bm25_ms: float
    max_difference: float

    @property
    def speedup(self) -> float:
        return self.rank_bm25_ms / max(self.ours_ms, 1e-9)


@dataclass(frozen=True)
class DenseComparison:
    """Recall@10 of the dense index in use (exact or HNSW) against exact search."""

    kind: str
    queries: int
    recall_at_10: float


@dataclass(frozen=True)
class BackendFigures:
    """A build and hybrid search through another backend, on the same corpus: ``stages`` as
    the build reports them (``milvus`` is writing the collection); ``dense_kind`` what
    searched the vectors; recall@10 of its dense ranking against exact search."""

    backend: Backend
    seconds: float
    stages: dict[str, float]
    hybrid: Percentiles
    dense_kind: str
    recall_at_10: float


@dataclass(frozen=True)
class SizeResult:
    """All figures of one size; the comparisons are None until measured."""

    size: int
    build: BuildFigures
    serve: ServeFigures
    real_embed_seconds: float
    """Time the real model would take to embed this corpus, extrapolated from ModelFigures."""
    dense: DenseComparison | None = None
    lexical: LexicalComparison | None = None
    milvus: BackendFigures | None = None


def _peak_rss_mb() -> float:
    """This process's peak resident memory. On Linux it is VmHWM, which starts afresh at exec;
    getrusage's maximum survives exec, so a benchmark process started from a large one (pytest
    holding the model) would report its parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_fresh_process(function: Callable[..., _T], *args: Any) -> _T:
    """Run ``function`` in a new process, so its peak memory is its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def _settings(config: BenchConfig, size: int) -> Settings:
    work = config.work_folder.resolve()
    return Settings(corpus=work / f"corpus-{size}", index=work / f"index-{size}")


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


def measure_build(settings: Settings, vocabulary: Vocabulary, work: Path) -> BuildFigures:
    from qa.bench.synthetic import SyntheticEmbedder
    from qa.index.build import build_index
    from qa.index.store import IndexStore

    embedder = SyntheticEmbedder(vocabulary, np.load(work / "sentence_vectors.npy"))
    report = build_index(settings, embedder, rebuild=True)
    live = IndexStore(settings.index).current()
    assert live is not None
    size = sum(p.stat().st_size for p in live.iterdir())
    return BuildFigures(
        report.chunks, report.documents, report.seconds, report.stages, size, _peak_rss_mb()
    )


def measure_serving(settings: Settings, queries: Sequence[str], work: Path) -> ServeFigures:
    from qa.index.embedders import load_query_embedder
    from qa.search import Searcher

    embedder = load_query_embedder(settings.model, work)
    started = time.perf_counter()
    searcher = Searcher.open(settings, embedder)
    load = time.perf_counter() - started
    for question in queries[:5]:  # warm-up: first-call allocations are not query latency
        searcher.search(question, mode="hybrid", extract=False)
    latency = {}
    for mode in Mode:
        seconds = []
        for question in queries:
            started = time.perf_counter()
            searcher.search(question, k=10, mode=mode, extract=False)  # retrieval, as qa eval
            seconds.append(time.perf_counter() - started)
        latency[mode] = Percentiles.of(seconds)
    return ServeFigures(load, _peak_rss_mb(), len(queries), latency)


def compare_dense(settings: Settings, queries: Sequence[str], work: Path) -> DenseComparison:
    from qa.index.embedders import load_query_embedder
    from qa.index.store import IndexStore

    vectors = IndexStore(settings.index).load().vectors
    exact = vectors.exact()
    found = 0
    for query in load_query_embedder(settings.model, work).encode_queries(list(queries)):
        found += len(set(vectors.search(query, 10)[0]) & set(exact.search(query, 10)[0]))
    return DenseComparison(vectors.kind, len(queries), found / (10 * max(len(queries), 1)))


def measure_milvus(
    settings: Settings, vocabulary: Vocabulary, queries: Sequence[str], work: Path
) -> BackendFigures:
    """Build ``settings``' corpus for Milvus (its own index folder and Milvus Lite file),
    time hybrid search through it, and compare its dense top 10 with exact search."""
    from qa.backends.milvus import is_lite
    from qa.bench.synthetic import SyntheticEmbedder
    from qa.index.build import build_index
    from qa.index.embedders import load_query_embedder
    from qa.search import Searcher

    milvus = settings.replace(
        index=settings.index.with_name(settings.index.name + "-milvus"),
        backend=Backend.MILVUS,
        milvus_uri=str(work / f"{settings.index.name}-milvus.db"),
    )
    embedder = SyntheticEmbedder(vocabulary, np.load(work / "sentence_vectors.npy"))
    report = build_index(milvus, embedder, rebuild=True)
    query_embedder = load_query_embedder(settings.model, work)
    searcher = Searcher.open(milvus, query_embedder)
    for question in queries[:5]:
        searcher.search(question, mode="hybrid", extract=False)
    seconds = []
    for question in queries:
        started = time.perf_counter()
        searcher.search(question, k=10, mode=Mode.HYBRID, extract=False)
        seconds.append(time.perf_counter() - started)
    exact = searcher.snapshot.vectors.exact()
    found = 0
    for query in query_embedder.encode_queries(list(queries)):
        ranked = searcher.snapshot.search.dense(query, 10, None)[0]
        found += len(set(ranked.tolist()) & set(exact.search(query, 10)[0].tolist()))
    kind = "flat (Milvus Lite)" if is_lite(milvus.milvus_location) else "hnsw"
    return BackendFigures(
        Backend.MILVUS,
        report.seconds,
        report.stages,
        Percentiles.of(seconds),
        kind,
        found / (10 * max(len(queries), 1)),
    )


def compare_lexical(settings: Settings, queries: Sequence[str]) -> LexicalComparison:
    from rank_bm25 import BM25Okapi

    from qa.index.build import search_text
    from qa.index.lexical import tokenize
    from qa.index.store import IndexStore

    snapshot = IndexStore(settings.index).load()
    indexed = (
        search_text(snapshot.catalog[c.source], c, settings.chunk_context) for c in snapshot.chunks
    )
    reference = BM25Okapi([tokenize(text) for text in indexed])
    ours = rank_bm25 = difference = 0.0
    for question in queries:
        tokens = tokenize(question)
        started = time.perf_counter()
        expected = reference.get_scores(tokens)
        middle = time.perf_counter()
        found = snapshot.bm25.scores(tokens)
        ours += time.perf_counter() - middle
        rank_bm25 += middle - started
        difference = max(difference, float(np.abs(expected - found).max(initial=0.0)))
    count = max(len(queries), 1)
    return LexicalComparison(
        len(queries), ours / count * 1000, rank_bm25 / count * 1000, difference
    )


def _seed_questions(path: Path) -> tuple[str, ...]:
    """The questions generated queries are modelled on; none where the project has no file."""
    return load_questions(path) if path.is_file() else ()


def machine() -> dict[str, Any]:
    """CPU model, cores and memory: what the figures were measured on."""
    cpu = platform.processor() or "unknown"
    memory_gb = 0.0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gb = int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_gb, 1),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def rank_bm25_queries(size: int) -> int:
    """rank-bm25 scores every passage in Python: at a million passages it is sampled less."""
    return 10 if size >= 1_000_000 else 50


def run_benchmark(config: BenchConfig) -> dict[str, Any]:
    """Measure every size in ``config``; the reports are rewritten after each size, so a long
    run that is stopped keeps the sizes it finished."""
    work = config.work_folder.resolve()
    work.mkdir(parents=True, exist_ok=True)
    vocabulary = corpus_vocabulary(load_corpus(config.corpus).documents, config.seed)
    queries = generate_queries(
        vocabulary, _seed_questions(config.questions), config.queries, config.seed
    )
    base = Settings()
    sample = _sample_passages(vocabulary, config.seed)[: config.embedding_sample]
    log.info("embedding %d corpus sentences with the real model", len(vocabulary.sentences))
    model = _in_fresh_process(measure_model, base.model, vocabulary.sentences, sample, work)
    questions = None
    if config.questions.is_file():
        log.info("timing the reference questions on %s", config.corpus)
        questions = _in_fresh_process(
            measure_questions, config.corpus, config.questions, work, config.question_rounds
        )
    results: list[SizeResult] = []
    for size in config.sizes:
        settings = _settings(config, size)
        if settings.corpus.exists():
            shutil.rmtree(settings.corpus)
        log.info("N=%d: generating the corpus", size)
        write_corpus(vocabulary, size, settings.corpus, config.seed)
        log.info("N=%d: building the index", size)
        build = _in_fresh_process(measure_build, settings, vocabulary, work)
        log.info("N=%d: serving %d queries per mode", size, len(queries))
        serve = _in_fresh_process(measure_serving, settings, queries, work)
        results.append(SizeResult(size, build, serve, build.passages / model.passages_per_second))
        write_reports(bench_record(config, model, questions, results), config.out)
        log.info("N=%d: recall of the dense index against exact search", size)
        dense = _in_fresh_process(compare_dense, settings, queries, work)
        results[-1] = replace(results[-1], dense=dense)
        write_reports(bench_record(config, model, questions, results), config.out)
        log.info("N=%d: comparing with rank-bm25", size)
        lexical = _in_fresh_process(compare_lexical, settings, queries[: rank_bm25_queries(size)])
        results[-1] = replace(results[-1], lexical=lexical)
        write_reports(bench_record(config, model, questions, results), config.out)
        if Backend.MILVUS in config.backends:
            log.info("N=%d: building, serving and comparing on Milvus", size)
            milvus = _in_fresh_process(measure_milvus, settings, vocabulary, queries, work)
            results[-1] = replace(results[-1], milvus=milvus)
            write_reports(bench_record(config, model, questions, results), config.out)
    return bench_record(config, model, questions, results)


def _sample_passages(vocabulary: Vocabulary, seed: int) -> list[str]:
    from qa.bench.synthetic import generate_document

    text = generate_document(vocabulary, 0, 256, seed)
    return [p for p in text.split("\n\n")[1:] if p.strip()]


def bench_record(
    config: BenchConfig,
    model: ModelFigures,
    questions: QuestionFigures | None,
    results: Sequence[SizeResult],
) -> dict[str, Any]:
    return {
        "machine": machine(),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "queries": config.queries,
        "embedder": "synthetic (real-model sentence vectors composed per passage)",
        "model": asdict(model),
        "questions": asdict(questions) if questions else None,
        "sizes": [
            asdict(r)
            | ({"lexical": asdict(r.lexical) | {"speedup": r.lexical.speedup}} if r.lexical else {})
            for r in sorted(results, key=lambda r: r.size)
        ],
    }
