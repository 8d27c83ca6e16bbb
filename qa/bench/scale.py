"""One generated corpus size measured through the product's own path: its build, its
serving, and its search compared with references (exact vector search, rank-bm25, Milvus).

:mod:`qa.bench.run` starts each measurement here in a fresh process, so the peak resident
memory it reports is its own and not that of the process that started it.

Example::

    build = measure_build(settings, vocabulary, work)
    serve = measure_serving(settings, queries, work)
    print(build.peak_rss_mb, serve.latency[Mode.HYBRID].p95_ms)
"""

from __future__ import annotations

import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.bench.latency import Percentiles
from qa.bench.synthetic import SyntheticEmbedder, Vocabulary
from qa.settings import Settings
from qa.types import Backend, Mode

if TYPE_CHECKING:
    from qa.search import Searcher


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


def _warm_up(searcher: Searcher, queries: Sequence[str]) -> None:
    """First-call allocations are not query latency: a few questions go untimed first."""
    for question in queries[:5]:
        searcher.search(question, mode="hybrid", extract=False)


def _latency(searcher: Searcher, queries: Sequence[str], mode: Mode) -> Percentiles:
    """Retrieval time per query in ``mode`` at k = 10, without the answer, as ``qa eval``."""
    seconds = []
    for question in queries:
        started = time.perf_counter()
        searcher.search(question, k=10, mode=mode, extract=False)
        seconds.append(time.perf_counter() - started)
    return Percentiles.of(seconds)


def _recall_at_10(found: int, queries: Sequence[str]) -> float:
    """The share of exact search's top 10 that a ranking found, over all ``queries``."""
    return found / (10 * max(len(queries), 1))


def measure_build(settings: Settings, vocabulary: Vocabulary, work: Path) -> BuildFigures:
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
    _warm_up(searcher, queries)
    latency = {mode: _latency(searcher, queries, mode) for mode in Mode}
    return ServeFigures(load, _peak_rss_mb(), len(queries), latency)


def compare_dense(settings: Settings, queries: Sequence[str], work: Path) -> DenseComparison:
    from qa.index.embedders import load_query_embedder
    from qa.index.store import IndexStore

    vectors = IndexStore(settings.index).load().vectors
    exact = vectors.exact()
    found = 0
    for query in load_query_embedder(settings.model, work).encode_queries(list(queries)):
        found += len(set(vectors.search(query, 10)[0]) & set(exact.search(query, 10)[0]))
    return DenseComparison(vectors.kind, len(queries), _recall_at_10(found, queries))


def measure_milvus(
    settings: Settings, vocabulary: Vocabulary, queries: Sequence[str], work: Path
) -> BackendFigures:
    """Build ``settings``' corpus for Milvus (its own index folder and Milvus Lite file),
    time hybrid search through it, and compare its dense top 10 with exact search."""
    from qa.backends.milvus import is_lite
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
    _warm_up(searcher, queries)
    hybrid = _latency(searcher, queries, Mode.HYBRID)
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
        hybrid,
        kind,
        _recall_at_10(found, queries),
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


def rank_bm25_queries(size: int) -> int:
    """rank-bm25 scores every passage in Python: at a million passages it is sampled less."""
    return 10 if size >= 1_000_000 else 50
