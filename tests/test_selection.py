"""Choosing k distinct passages: time boost, sides of a comparison, duplicates folded."""

from __future__ import annotations

from qa.pipeline.select import Candidate, boost_in_time, containment, select
from qa.pipeline.timeframe import Side
from qa.text import shingles

OLD, NEW = Side("2020", 2020, 2020), Side("2024", 2024, 2024)


def candidates(*spec: tuple[int, str, int]) -> list[Candidate]:
    """(row, source, year) best first, scores falling from 1.0."""
    return [
        Candidate(row, 1.0 - i / 100, source, year) for i, (row, source, year) in enumerate(spec)
    ]


def never(a: int, b: int) -> bool:
    return False


def test_without_sides_the_order_is_the_fused_order() -> None:
    pool = candidates((7, "a", 2024), (3, "a", 2024), (9, "b", 2020))
    assert [s.row for s in select(pool, 2, is_duplicate=never)] == [7, 3]


def test_each_side_of_a_comparison_is_represented() -> None:
    pool = candidates(*[(row, "new.txt", 2024) for row in range(10)], (50, "old.txt", 2020))
    chosen = select(pool, 3, is_duplicate=never, sides=(OLD, NEW), side_quota=1)
    assert [s.row for s in chosen][:2] == [0, 50]  # best overall first, then the other side
    assert 50 in [s.row for s in chosen]


def test_sides_take_places_in_turn() -> None:
    pool = candidates(*[(row, "new.txt", 2024) for row in range(10)])
    pool += candidates(*[(row, "old.txt", 2020) for row in range(20, 30)])
    chosen = [s.row for s in select(pool, 4, is_duplicate=never, sides=(OLD, NEW), side_quota=3)]
    assert sum(row >= 20 for row in chosen) == 2
    assert sum(row < 20 for row in chosen) == 2


def test_other_rankings_give_a_side_the_passage_one_retriever_is_sure_of() -> None:
    pool = candidates(*[(row, "new.txt", 2024) for row in range(6)])
    dense_order = [5, 4, 3]
    chosen = select(
        pool, 3, is_duplicate=never, sides=(NEW,), side_quota=2, other_rankings=[dense_order]
    )
    assert [s.row for s in chosen][:2] == [0, 5]


def test_the_order_does_not_depend_on_k() -> None:
    pool = candidates(
        *[
            (row, "new.txt" if row % 3 else "old.txt", 2024 if row % 3 else 2020)
            for row in range(30)
        ]
    )
    ten = select(pool, 10, is_duplicate=never, sides=(OLD, NEW), side_quota=3)
    five = select(pool, 5, is_duplicate=never, sides=(OLD, NEW), side_quota=3)
    assert [s.row for s in ten][:5] == [s.row for s in five]


def test_a_duplicate_in_the_same_document_is_folded_and_cited() -> None:
    pool = candidates((1, "report.txt", 2024), (2, "report.txt", 2024), (3, "report.txt", 2024))
    chosen = select(pool, 2, is_duplicate=lambda a, b: {a, b} == {1, 2})
    assert [s.row for s in chosen] == [1, 3]
    assert chosen[0].duplicates == [2]


def test_duplicates_below_the_cut_are_still_cited() -> None:
    pool = candidates((1, "r.txt", 2024), (2, "r.txt", 2024), (3, "r.txt", 2024))
    chosen = select(pool, 1, is_duplicate=lambda a, b: {a, b} == {1, 3})
    assert chosen[0].duplicates == [3]


def test_the_same_text_in_two_documents_is_two_pieces_of_evidence() -> None:
    pool = candidates((1, "2020.txt", 2020), (2, "2024.txt", 2024))
    chosen = select(pool, 2, is_duplicate=lambda a, b: True)
    assert [s.row for s in chosen] == [1, 2]
    assert chosen[0].duplicates == []


def test_mmr_prefers_a_different_passage_to_a_near_copy() -> None:
    pool = candidates((1, "a", None), (2, "a", None), (3, "b", None))  # type: ignore[arg-type]
    similar = {frozenset({1, 2}): 0.99}
    chosen = select(
        pool,
        2,
        is_duplicate=never,
        similarity=lambda a, b: similar.get(frozenset({a, b}), 0.1),
        mmr_lambda=0.5,
    )
    assert [s.row for s in chosen] == [1, 3]


def test_time_boost_lifts_passages_of_the_named_period() -> None:
    pool = [Candidate(1, 1.0, "a", 2017), Candidate(2, 0.95, "b", 2020)]
    assert [c.row for c in boost_in_time(pool, (OLD,), 0.1)] == [2, 1]
    assert [c.row for c in boost_in_time(pool, (OLD,), 0.0)] == [1, 2]


def test_containment_spots_a_repeated_passage_but_not_a_heading() -> None:
    body = (
        "Inspectors found that children aged 16 and 17 who present as homeless receive an "
        "effective, rapid response and are placed in appropriate accommodation."
    )
    summary = "4.12 " + body + " This was described as a strength."
    assert containment(shingles(body), shingles(summary)) > 0.9
    assert (
        containment(shingles("Areas for improvement"), shingles(summary + " Areas for improvement"))
        == 0.0
    )
    other = "The out-of-hours service has lacked sufficient energy and its redesign is slow to take effect."
    assert containment(shingles(body), shingles(other)) < 0.1
