"""Measure retrieval variants on the home reference set and a BEIR folder in one run.

Each variant is a change to one retrieval choice (fusion method and its parameter, a
cross-encoder reranking the top N fused candidates, RM3 pseudo-relevance feedback on
the BM25 side, document title and section prepended to each chunk for search); every
variant is scored on the same indexes, so the figures differ by that choice alone.
Home: hybrid recall@5 per question type (``qa eval``'s metric). BEIR: nDCG@10 and R@10
of the hybrid mode (``qa eval --beir``'s). The indexes are the ones ``qa index`` and
``qa eval --beir --index`` build, reused if current.

    python scripts/retrieval_sweep.py --model bundled:bge-small-en-v1.5 \\
        --home-index /tmp/home-bge --beir /work/shared/beir/med --beir-work /tmp/med-bge \\
        --variants fusion,rerank,prf,context --out sweep-bge.json

This is a one-off measurement, not part of the product: the variants it needs that
``Searcher`` does not offer yet (reranking, RM3, context) are applied by a subclass here.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from qa import beir, evaluation  # noqa: E402
from qa.index.build import build_index  # noqa: E402
from qa.index.embedders import (  # noqa: E402
    Embedder,
    embed_passages,
    load_embedder,
    load_query_embedder,
)
from qa.index.lexical import BM25Index, tokenize, top_k  # noqa: E402
from qa.index.snapshot import Snapshot  # noqa: E402
from qa.index.store import IndexStore  # noqa: E402
from qa.index.vectors import AnnParams, VectorIndex  # noqa: E402
from qa.pipeline.fusion import Ranking, fuse  # noqa: E402
from qa.pipeline.rerank import load_cross_encoder, rerank  # noqa: E402
from qa.search import Searcher  # noqa: E402
from qa.settings import Settings, load_settings  # noqa: E402
from qa.types import Fusion, Mode  # noqa: E402


@dataclass(frozen=True)
class Variant:
    name: str
    fusion: Fusion = Fusion.WEIGHTED
    lexical_weight: float = 0.5
    rrf_k: int = 60
    rerank_depth: int = 0
    rerank_weight: float = 1.0
    prf_documents: int = 0  # RM3: feedback passages (0: off)
    prf_terms: int = 10  # RM3: expansion terms kept
    prf_original: float = 0.5  # RM3: weight of the original query terms
    context: str = "none"  # none, lexical, dense, both


def rm3_weights(
    terms: Sequence[str], feedback: Ranking, text_of: Callable[[int], str], variant: Variant
) -> dict[str, float]:
    """RM3 (Lavrenko & Croft's relevance model, mixed with the query): the feedback
    passages' term distributions weighted by their normalised BM25 scores, the best
    ``prf_terms`` kept, mixed with the original query's term distribution."""
    rows, scores = feedback
    rows, scores = rows[: variant.prf_documents], np.asarray(scores[: variant.prf_documents])
    relevance: Counter[str] = Counter()
    if len(rows) and float(scores.sum()) > 0:
        for row, weight in zip(rows.tolist(), (scores / scores.sum()).tolist(), strict=True):
            tokens = tokenize(text_of(int(row)))
            for term, count in Counter(tokens).items():
                relevance[term] += weight * count / max(len(tokens), 1)
    expansion = dict(relevance.most_common(variant.prf_terms))
    total = sum(expansion.values()) or 1.0
    original = Counter(terms)
    size = sum(original.values()) or 1
    mixed: dict[str, float] = {}
    for term, count in original.items():
        mixed[term] = variant.prf_original * count / size
    for term, value in expansion.items():
        mixed[term] = mixed.get(term, 0.0) + (1 - variant.prf_original) * value / total
    return mixed


def weighted_bm25(bm25: BM25Index, weights: dict[str, float]) -> np.ndarray:
    known = [(bm25.vocabulary[t], w) for t, w in weights.items() if t in bm25.vocabulary]
    if not known:
        return np.zeros(bm25.size, dtype=np.float32)
    ids = np.array([i for i, _ in known], dtype=np.int64)
    values = np.array([w for _, w in known], dtype=np.float32)
    return np.asarray(values @ bm25.weights[ids]).ravel()


class VariantSearcher(Searcher):
    """The product's Searcher with one ranking stage changed as the variant says."""

    def __init__(
        self, settings: Settings, snapshot: Snapshot, embedder: Embedder, variant: Variant
    ) -> None:
        super().__init__(settings, snapshot, embedder)
        self.variant = variant
        self.question = ""
        self.rerank_seconds: list[float] = []

    def search(self, question: str, *args: Any, **kwargs: Any) -> Any:
        self.question = question
        return super().search(question, *args, **kwargs)

    def _rank(
        self,
        snapshot: Snapshot,
        terms: list[str],
        query: np.ndarray | None,
        mode: Mode,
        depth: int,
        allowed: np.ndarray | None,
        timings: dict[str, float],
    ) -> tuple[Ranking, Ranking, Ranking]:
        variant = self.variant
        fused, lexical, dense = super()._rank(snapshot, terms, query, mode, depth, allowed, timings)

        def text_of(row: int) -> str:
            return snapshot.chunks[row].text

        if variant.prf_documents and len(lexical[0]):
            scores = weighted_bm25(snapshot.bm25, rm3_weights(terms, lexical, text_of, variant))
            if allowed is not None:
                scores = np.where(allowed, scores, 0.0)
            lexical = top_k(scores, depth)
        if mode == Mode.LEXICAL:
            return lexical, lexical, dense
        if mode == Mode.DENSE:
            return fused, lexical, dense
        fused = fuse(variant.fusion, lexical, dense, variant.lexical_weight, variant.rrf_k)
        if variant.rerank_depth:
            started = time.perf_counter()
            fused = rerank(
                fused,
                self.question,
                text_of,
                load_cross_encoder(),
                variant.rerank_depth,
                variant.rerank_weight,
            )
            self.rerank_seconds.append(time.perf_counter() - started)
        return fused, lexical, dense


def context_text(snapshot: Snapshot, row: int) -> str:
    chunk = snapshot.chunks[row]
    head = [snapshot.catalog[chunk.source].title, chunk.section or ""]
    return "\n".join(part for part in [*head, chunk.text] if part)


def with_context(
    snapshot: Snapshot, embedder: Embedder, context: str, cache: dict[str, Any]
) -> Snapshot:
    """The snapshot with its BM25 index and/or vectors rebuilt from title + section + text."""
    if context == "none":
        return snapshot
    if "texts" not in cache:
        cache["texts"] = [context_text(snapshot, row) for row in range(len(snapshot.chunks))]
    texts = cache["texts"]
    changed = replace(snapshot)
    if context in ("lexical", "both"):
        if "bm25" not in cache:
            cache["bm25"] = BM25Index.build([tokenize(t) for t in texts])
        changed.bm25 = cache["bm25"]
    if context in ("dense", "both"):
        if "vectors" not in cache:
            started = time.perf_counter()
            embeddings = embed_passages(embedder, texts)
            print(f"  context embeddings: {time.perf_counter() - started:.0f} s", flush=True)
            cache["vectors"] = embeddings, VectorIndex.build(embeddings, AnnParams())
        changed.embeddings, changed.vectors = cache["vectors"]
    return changed


def variants(groups: Iterable[str]) -> list[Variant]:
    out = [Variant("weighted 0.5 (today)")]
    for group in groups:
        if group == "fusion":
            out += [Variant(f"weighted {w}", lexical_weight=w) for w in (0.3, 0.4, 0.6, 0.7)]
            out += [Variant(f"rrf k={k}", Fusion.RRF, rrf_k=k) for k in (10, 20, 60)]
            out += [Variant("dbsf", Fusion.DBSF)]
        elif group == "rerank":
            out += [Variant(f"rerank {n}", rerank_depth=n) for n in (10, 20, 30)]
            out += [
                Variant(f"rerank 20, mix {w}", rerank_depth=20, rerank_weight=w)
                for w in (0.3, 0.5, 0.7)
            ]
        elif group == "prf":
            out += [
                Variant(f"rm3 fb{d} t{t} orig{o}", prf_documents=d, prf_terms=t, prf_original=o)
                for d, t, o in ((5, 10, 0.5), (10, 10, 0.5), (10, 20, 0.5), (10, 10, 0.7))
            ]
        elif group == "context":
            out += [Variant(f"context {c}", context=c) for c in ("lexical", "dense", "both")]
        else:
            raise SystemExit(f"unknown variant group {group!r}")
    return out


def encoder_option(args: argparse.Namespace) -> Embedder | None:
    """The --encoder file as an embedder of the model's tokenizer and shape, if given."""
    if args.encoder is None:
        return None
    from qa.bench.quantize import openvino_embedder
    from qa.index.embedders import resolve_model
    from qa.index.onnx import OnnxEmbedder, OnnxEncoder

    reference = load_embedder(args.model)
    tokenizer = Path(resolve_model(args.model)) / "tokenizer.json"
    encoder = OnnxEncoder(args.encoder, tokenizer, reference.dimension, reference.max_tokens)
    if args.openvino:
        return openvino_embedder(args.model, encoder)
    return OnnxEmbedder(args.model, encoder)


def home_figures(searcher: VariantSearcher, questions: Sequence[Any]) -> dict[str, Any]:
    report = evaluation.evaluate(searcher, questions, k=10, modes=("hybrid",))
    record = evaluation.report_record(report)
    hybrid = record["modes"]["hybrid"]
    return {
        "R@5": {group: m["R@5"] for group, m in hybrid["metrics"].items()},
        "nDCG@10": hybrid["metrics"][evaluation.OVERALL]["nDCG@10"],
        "latency_ms": hybrid["latency_ms"],
        "low_confidence": hybrid["low_confidence"],
    }


def beir_figures(
    searcher: VariantSearcher, dataset: beir.BeirDataset, doc_of: dict[str, str]
) -> dict[str, Any]:
    runs = {}
    seconds = []
    for qid, text in dataset.queries.items():
        started = time.perf_counter()
        answer = searcher.search(
            text, k=beir.DEPTH * beir.PASSAGES_PER_DOCUMENT, mode="hybrid", extract=False
        )
        seconds.append(time.perf_counter() - started)
        sources = [h.chunk.source for h in answer.hits]
        runs[qid] = beir.document_run(sources, doc_of, qid, beir.DEPTH)
    per_query = beir.document_metrics(dataset.qrels, runs)
    return {
        name: round(statistics.fmean(v[name] for v in per_query.values()), 4)
        for name in ("nDCG@10", "R@10")
    } | {"median_ms": round(1000 * statistics.median(seconds), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--home-index", type=Path, required=True)
    parser.add_argument("--beir", type=Path, required=True)
    parser.add_argument("--beir-work", type=Path, required=True)
    parser.add_argument(
        "--variants", default="", help="groups besides today's: fusion, rerank, prf, context"
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--encoder",
        type=Path,
        help="an ONNX variant of the model's export (qa.bench.quantize) to build and search"
        " with instead of the model's own encoder; use fresh index folders",
    )
    parser.add_argument("--openvino", action="store_true", help="run --encoder by OpenVINO")
    args = parser.parse_args()

    home = load_settings(overrides={"model": args.model, "index": args.home_index}, cwd=REPO)
    builder = encoder_option(args) or load_embedder(args.model)
    build_index(home, builder)
    dataset = beir.load_beir(args.beir)
    outside = home.replace(corpus=args.beir_work / "corpus", index=args.beir_work / "index")
    doc_of = beir.write_corpus(dataset, outside.corpus)
    build_index(outside, builder)
    embedder = encoder_option(args) or load_query_embedder(args.model, home.index)
    questions = evaluation.load_reference_set(REPO / "eval" / "questions.jsonl")
    snapshots = {
        "home": IndexStore(home.index).load(),
        "outside": IndexStore(outside.index).load(),
    }
    caches: dict[str, dict[str, Any]] = {"home": {}, "outside": {}}
    results = []
    for variant in variants(g for g in args.variants.split(",") if g):
        row: dict[str, Any] = {"variant": variant.name}
        for place, settings in (("home", home), ("outside", outside)):
            snapshot = with_context(snapshots[place], embedder, variant.context, caches[place])
            searcher = VariantSearcher(settings, snapshot, embedder, variant)
            if place == "home":
                row["home"] = home_figures(searcher, questions)
            else:
                row["outside"] = beir_figures(searcher, dataset, doc_of)
            if searcher.rerank_seconds:
                ms = sorted(1000 * s for s in searcher.rerank_seconds)
                row[f"{place}_rerank_ms"] = {
                    "median": round(statistics.median(ms), 1),
                    "p95": round(ms[int(0.95 * (len(ms) - 1))], 1),
                }
        results.append(row)
        print(json.dumps(row), flush=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
