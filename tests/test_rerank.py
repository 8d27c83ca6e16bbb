"""The optional cross-encoder stage: it reorders the top of the fused ranking, only there."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from qa.pipeline.rerank import load_cross_encoder, rerank

TEXTS = {
    1: "The council spent its budget on roads.",
    2: "Twelve new foster carers were recruited this year.",
    3: "Knife crime among young people rose.",
    4: "Foster carers receive a weekly allowance.",
    5: "The adoption panel met eleven times.",
}


class WordOverlap:
    """A stand-in cross-encoder: the number of question words in the passage."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def scores(self, question: str, passages: Sequence[str]) -> np.ndarray:
        self.seen.extend(passages)
        words = set(question.lower().split())
        return np.array(
            [len(words & set(p.lower().rstrip(".").split())) for p in passages], dtype=np.float32
        )


def fused(rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(rows, np.int64), np.linspace(1.0, 0.5, len(rows))


def test_the_reranked_rows_follow_the_cross_encoder_scores() -> None:
    rows, scores = rerank(
        fused([1, 3, 2, 5, 4]), "foster carers recruited", TEXTS.__getitem__, WordOverlap(), 5
    )
    assert rows.tolist()[:2] == [2, 4]
    assert list(scores) == sorted(scores, reverse=True)


def test_only_the_first_depth_rows_are_read_and_the_rest_keep_their_order_below() -> None:
    scorer = WordOverlap()
    rows, scores = rerank(
        fused([1, 3, 2, 5, 4]), "foster carers recruited", TEXTS.__getitem__, scorer, 3
    )
    assert scorer.seen == [TEXTS[1], TEXTS[3], TEXTS[2]]
    assert rows.tolist() == [2, 1, 3, 5, 4]
    assert scores[2] > scores[3]


def test_weight_zero_keeps_the_fused_order() -> None:
    ranking = fused([1, 3, 2, 5, 4])
    rows, _ = rerank(
        ranking, "foster carers recruited", TEXTS.__getitem__, WordOverlap(), 5, weight=0.0
    )
    assert rows.tolist() == [1, 3, 2, 5, 4]


def test_an_empty_ranking_is_returned_as_it_is() -> None:
    empty = (np.zeros(0, np.int64), np.zeros(0))
    rows, _ = rerank(empty, "anything", TEXTS.__getitem__, WordOverlap(), 10)
    assert len(rows) == 0


@pytest.mark.slow
def test_the_bundled_cross_encoder_ranks_the_answering_passage_first() -> None:
    scorer = load_cross_encoder()
    passages = [TEXTS[1], TEXTS[3], TEXTS[2], TEXTS[5]]
    logits = scorer.scores("How many foster carers did the council recruit?", passages)
    assert logits.shape == (4,)
    assert int(np.argmax(logits)) == 2
    # Batched pairs of different lengths score as one pair at a time, up to the INT8 model's
    # dynamic quantisation (its activation scales depend on the whole batch): 0.3 here on
    # logits of about 10, while padding read as text would move them by whole units.
    question = "How many foster carers did the council recruit?"
    alone = [scorer.scores(question, [p])[0] for p in passages]
    np.testing.assert_allclose(logits, alone, atol=0.5)
    assert np.argsort(logits).tolist() == np.argsort(alone).tolist()
