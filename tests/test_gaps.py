"""What a question names that the corpus does not hold is said, and the answer is flagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.index.build import build_index
from qa.index.embedders import HashingEmbedder
from qa.search import Searcher
from qa.settings import Settings

from .conftest import write_corpus

REPORTS = {
    "review-2019.txt": "Annual Fostering Review\n\nDATE: 12 June 2019\n\n1. Foster carers were recruited and trained by the team.\n",
    "inspection-2022.txt": "Inspection of Northmoor local authority children's services\n\nInspection dates: 21 November to 2 December 2022\n\n1. Foster carers were recruited quickly and stayed.\n",
    "review-2024.txt": "Annual Fostering Review\n\nDATE: 4 December 2024\n\n1. Foster carers were supported by a new hub.\n",
}


@pytest.fixture
def searcher(tmp_path: Path) -> Searcher:
    settings = Settings(corpus=write_corpus(tmp_path / "corpus", REPORTS), index=tmp_path / "index")
    build_index(settings, HashingEmbedder())
    return Searcher.open(settings, HashingEmbedder())


def test_a_year_no_document_is_dated_is_said_with_the_closest_dates_and_flagged(
    searcher: Searcher,
) -> None:
    answer = searcher.search("How were foster carers recruited in 2021?")
    assert answer.missing == (
        "No document in the corpus is dated 2021; the closest are from 12 June 2019 and"
        " 2 December 2022.",
    )
    assert answer.low_confidence and answer.sentences == ()


def test_an_inspection_report_dated_weeks_before_a_year_holds_it(searcher: Searcher) -> None:
    """An inspection ending in December 2022 is published in 2023: "in 2023" finds it; a
    council paper dated December 2024 was published then, so 2025 is still missing."""
    answer = searcher.search("How were foster carers recruited in 2023?")
    assert answer.missing == ()
    assert not answer.low_confidence
    assert (
        searcher.search("How were foster carers recruited in 2025?")
        .missing[0]
        .startswith("No document in the corpus is dated 2025")
    )


def test_a_name_no_document_mentions_is_said_and_flagged(searcher: Searcher) -> None:
    answer = searcher.search("How were foster carers recruited in Lambeth?")
    assert answer.missing == ("No document in the corpus mentions Lambeth.",)
    assert answer.low_confidence
    assert not searcher.search("How were foster carers recruited by the Team?").missing


def test_a_comparison_with_one_period_missing_still_answers_the_other(searcher: Searcher) -> None:
    answer = searcher.search("How did recruitment of foster carers change between 2016 and 2024?")
    assert answer.missing[0].startswith("No document in the corpus is dated 2016; the closest is")
    assert not answer.low_confidence
