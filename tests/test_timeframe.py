"""Time phrases in questions become periods of the corpus's document dates."""

from __future__ import annotations

import pytest

from qa.pipeline.timeframe import Timeframe, read_timeframe

CORPUS_YEARS = (2017, 2019, 2020, 2024)


def labels(question: str) -> list[str]:
    return [side.label for side in read_timeframe(question).sides(CORPUS_YEARS)]


@pytest.mark.parametrize(
    ("question", "sides", "comparison"),
    [
        ("What did inspectors find in 2020?", ["2020"], False),
        ("Who led the October 2024 inspection?", ["2024"], False),
        ("How did the judgement change between 2020 and 2024?", ["2020", "2024"], True),
        ("Compare the grades in 2020 and 2024.", ["2020", "2024"], True),
        ("What changed from 2017 to 2020?", ["2017", "2020"], True),
        ("Is accommodation still a weakness since 2020?", ["2020", "2024"], True),
        ("By how much has staffing grown since 2017?", ["2017", "2024"], True),
        ("What came of the 2020 recommendation on emotional health?", ["2020", "2024"], True),
        (
            "Who led the service across the 2017, 2020 and 2024 inspections?",
            ["2017", "2020", "2024"],
            True,
        ),
        ("What has improved since the last inspection?", ["2020", "2024"], True),
        ("What is the latest judgement?", ["2024"], False),
        ("What was the most recent inspection's overall grade?", ["2024"], False),
        ("What happened before 2019?", ["2017–2019"], False),
        ("What were the priorities from 2020 onwards?", ["2020–2024"], False),
    ],
)
def test_questions_resolve_to_periods_of_the_corpus(
    question: str, sides: list[str], comparison: bool
) -> None:
    assert labels(question) == sides
    assert read_timeframe(question).comparison is comparison


def test_financial_years_name_both_years_but_one_period_mention() -> None:
    timeframe = read_timeframe("How much was spent in 2019/20?")
    assert timeframe.years == (2019, 2020)
    assert not timeframe.comparison


def test_numbers_that_are_not_years_are_ignored() -> None:
    for question in (
        "How much is £2020 in total?",
        "Were 2019.5 hours recorded?",
        "What share was 2024%?",
        "How many of the 12,2020 cases?",
    ):
        assert read_timeframe(question).years == (), question


def test_a_question_without_time_has_no_sides() -> None:
    timeframe = read_timeframe("Which recommendations did inspectors make?")
    assert timeframe == Timeframe()
    assert not timeframe.any
    assert timeframe.sides(CORPUS_YEARS) == ()


def test_still_without_a_year_is_not_a_comparison_of_periods() -> None:
    assert not read_timeframe("Is the out-of-hours service still weak?").comparison


def test_relative_times_follow_the_corpus_not_the_clock() -> None:
    assert [s.label for s in read_timeframe("the latest report").sides((2001, 2003))] == ["2003"]
    since_last = read_timeframe("What changed since the previous inspection?")
    assert [s.label for s in since_last.sides((2001, 2003, 2009))] == ["2003", "2009"]
    assert read_timeframe("the latest report").sides(()) == ()


def test_a_side_holds_the_years_of_its_period() -> None:
    (side,) = read_timeframe("What happened before 2019?").sides(CORPUS_YEARS)
    assert side.holds(2017) and side.holds(2019)
    assert not side.holds(2020)
    assert not side.holds(None)
