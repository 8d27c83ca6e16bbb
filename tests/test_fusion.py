"""Combining the lexical and the dense ranking into one."""

from __future__ import annotations

import numpy as np
import pytest

from qa.pipeline.fusion import (
    distribution_based_score_fusion,
    fuse,
    reciprocal_rank_fusion,
    weighted_score_fusion,
)
from qa.types import Fusion


def ranking(rows: list[int], scores: list[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    scores = scores if scores is not None else [float(len(rows) - i) for i in range(len(rows))]
    return np.asarray(rows, dtype=np.int64), np.asarray(scores, dtype=np.float64)


def test_rrf_sums_reciprocal_ranks() -> None:
    rows, scores = reciprocal_rank_fusion([ranking([10, 20, 30]), ranking([20, 40])], k=60)
    assert rows.tolist() == [20, 10, 40, 30]
    expected = {20: 1 / 62 + 1 / 61, 10: 1 / 61, 40: 1 / 62, 30: 1 / 63}
    assert scores.tolist() == pytest.approx([expected[r] for r in rows.tolist()])


def test_rrf_prefers_a_row_both_retrievers_like_over_one_ranked_first_by_one() -> None:
    lexical = ranking([1, 2, 3, 4])
    dense = ranking([5, 6, 2, 7])
    rows, _ = reciprocal_rank_fusion([lexical, dense], k=60)
    assert rows[0] == 2


def test_rrf_ignores_scores_only_ranks_count() -> None:
    a = reciprocal_rank_fusion([ranking([1, 2], [100.0, 0.001]), ranking([3])])
    b = reciprocal_rank_fusion([ranking([1, 2], [0.6, 0.5]), ranking([3])])
    assert a[0].tolist() == b[0].tolist()
    np.testing.assert_allclose(a[1], b[1])


def test_rrf_ties_are_broken_by_row_number() -> None:
    # Row 9 is first in one ranking and row 4 first in the other: equal fused scores.
    rows, scores = reciprocal_rank_fusion([ranking([9, 1]), ranking([4, 2])], k=60)
    assert scores[0] == scores[1]
    assert rows.tolist() == [4, 9, 1, 2]
    # Same inputs in the other order give the same result: deterministic.
    again, _ = reciprocal_rank_fusion([ranking([4, 2]), ranking([9, 1])], k=60)
    assert again.tolist() == rows.tolist()


def test_rrf_k_damps_the_first_ranks() -> None:
    # Row 2 is fourth in both rankings; rows 1 and 3 are first in one each.
    lists = [ranking([1, 10, 11, 2]), ranking([3, 12, 13, 2])]
    assert reciprocal_rank_fusion(lists, k=1)[0][0] == 1  # small k: a first place wins (1/2 > 2/5)
    assert reciprocal_rank_fusion(lists, k=60)[0][0] == 2  # k=60: agreement wins (2/64 > 1/61)


def test_rrf_weights_scale_each_ranking() -> None:
    rows, _ = reciprocal_rank_fusion([ranking([1]), ranking([2])], k=60, weights=[1.0, 2.0])
    assert rows.tolist() == [2, 1]


def test_rrf_of_nothing_is_empty() -> None:
    rows, scores = reciprocal_rank_fusion([ranking([]), ranking([])])
    assert rows.size == 0 and scores.size == 0


def test_weighted_fusion_normalises_each_ranking_to_0_1() -> None:
    # BM25 scores in the tens and cosine similarities below 1 become comparable.
    lexical = ranking([1, 2, 3], [30.0, 20.0, 10.0])
    dense = ranking([3, 2], [0.9, 0.5])
    rows, scores = weighted_score_fusion([lexical, dense], [0.5, 0.5])
    fused = dict(zip(rows.tolist(), scores.tolist(), strict=True))
    assert fused[1] == pytest.approx(0.5 * 1.0)  # best lexical, absent from dense
    assert fused[2] == pytest.approx(0.5 * 0.5 + 0.5 * 0.0)  # middle lexical, worst dense
    assert fused[3] == pytest.approx(0.5 * 0.0 + 0.5 * 1.0)
    assert rows.tolist() == [1, 3, 2]  # 1 and 3 tie at 0.5: lower row first


def test_weighted_fusion_weights_decide_between_retrievers() -> None:
    lexical = ranking([1, 2], [10.0, 1.0])
    dense = ranking([2, 1], [0.9, 0.1])
    assert weighted_score_fusion([lexical, dense], [0.8, 0.2])[0][0] == 1
    assert weighted_score_fusion([lexical, dense], [0.2, 0.8])[0][0] == 2


def test_weighted_fusion_single_result_or_equal_scores_count_fully() -> None:
    rows, scores = weighted_score_fusion(
        [ranking([7], [3.0]), ranking([8, 9], [0.4, 0.4])], [0.5, 0.5]
    )
    assert dict(zip(rows.tolist(), scores.tolist(), strict=True)) == pytest.approx(
        {7: 0.5, 8: 0.5, 9: 0.5}
    )
    assert rows.tolist() == [7, 8, 9]


def test_weighted_fusion_skips_an_empty_ranking() -> None:
    rows, scores = weighted_score_fusion([ranking([]), ranking([3, 1], [0.8, 0.2])], [0.5, 0.5])
    assert rows.tolist() == [3, 1]
    assert scores.tolist() == pytest.approx([0.5, 0.0])


def test_dbsf_sums_scores_normalised_by_mean_and_three_standard_deviations() -> None:
    # Lexical: mean 2, std sqrt(2/3), so 0 is at 2 - 3*0.8165 = -0.449 and the span is 4.899.
    # Dense: mean 0.7, std 0.2, so 0 is at 0.1 and the span is 1.2.
    lexical = ranking([1, 2, 3], [3.0, 2.0, 1.0])
    dense = ranking([3, 4], [0.9, 0.5])
    rows, scores = distribution_based_score_fusion([lexical, dense])
    assert rows.tolist() == [3, 1, 2, 4]
    expected = {
        3: (1 + 0.44949) / 4.89898 + (0.9 - 0.1) / 1.2,
        1: (3 + 0.44949) / 4.89898,
        2: 0.5,
        4: (0.5 - 0.1) / 1.2,
    }
    assert scores.tolist() == pytest.approx([expected[r] for r in rows.tolist()], abs=1e-5)


def test_dbsf_a_ranking_of_equal_scores_adds_nothing() -> None:
    rows, scores = distribution_based_score_fusion(
        [ranking([1, 2], [4.0, 4.0]), ranking([2, 3], [0.9, 0.1])]
    )
    assert rows.tolist() == [2, 3, 1]
    assert scores[-1] == 0.0


def test_dbsf_of_nothing_is_empty() -> None:
    rows, scores = distribution_based_score_fusion([ranking([]), ranking([])])
    assert len(rows) == len(scores) == 0


@pytest.mark.parametrize(
    ("method", "first"), [(Fusion.WEIGHTED, 1), (Fusion.RRF, 2), (Fusion.DBSF, 2)]
)
def test_fuse_applies_the_method_the_setting_names(method: Fusion, first: int) -> None:
    # Weighted fusion (lexical weight 0.9) follows the lexical top; RRF and DBSF reward
    # row 2, which both retrievers rank well.
    lexical = ranking([1, 2, 3], [10.0, 9.0, 1.0])
    dense = ranking([4, 2, 5], [0.9, 0.8, 0.1])
    rows, _ = fuse(method, lexical, dense, lexical_weight=0.9, rrf_k=60)
    assert rows[0] == first
