"""The speed and scale benchmark: build, load and query generated corpora of N passages,
after timing one question's stages on the shipped corpus (:mod:`qa.bench.latency`).

Every figure comes from the product's own path (``build_index``, ``IndexStore``,
``Searcher``); each build, each serving run and each comparison runs in a fresh process,
so its peak memory (RSS) is its own. Passages are indexed with
:class:`qa.bench.synthetic.SyntheticEmbedder` (embedding a million passages with the real model
would take hours); the real model's throughput is measured on a sample and the embedding
time it would take is extrapolated from it and labelled so.

This module orders the run and makes its record; the measurements live in
:mod:`qa.bench.embedding` (the real model) and :mod:`qa.bench.scale` (one corpus size), the
generated corpora in :mod:`qa.bench.synthetic`, the tables and chart in :mod:`qa.bench.report`.

Example::

    record = run_benchmark(BenchConfig(sizes=(1000, 10_000), out=Path("reports/bench")))
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

from qa.bench.embedding import ModelFigures, measure_model
from qa.bench.latency import QuestionFigures, measure_questions
from qa.bench.report import write_reports
from qa.bench.scale import (
    SizeResult,
    compare_dense,
    compare_lexical,
    measure_build,
    measure_milvus,
    measure_serving,
    rank_bm25_queries,
)
from qa.bench.synthetic import (
    corpus_vocabulary,
    generate_queries,
    sample_passages,
    write_corpus,
)
from qa.corpus import load_corpus
from qa.questions import load_questions
from qa.settings import Settings
from qa.types import Backend

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


def _in_fresh_process(function: Callable[..., _T], *args: Any) -> _T:
    """Run ``function`` in a new process, so its peak memory is its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def _settings(config: BenchConfig, size: int) -> Settings:
    work = config.work_folder.resolve()
    return Settings(corpus=work / f"corpus-{size}", index=work / f"index-{size}")


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
    sample = sample_passages(vocabulary, config.seed)[: config.embedding_sample]
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
