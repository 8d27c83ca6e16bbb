"""BM25 scores exactly as rank_bm25 defines them, and a tokenizer that keeps numbers meaningful."""

from __future__ import annotations

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from qa.chunking import chunk_document
from qa.index.lexical import BM25Index, tokenize, top_k
from qa.types import Document

QUERIES = [
    "homeless 16 and 17 year olds",
    "Who was the lead inspector?",
    "out of hours service emergency duty team",
    "£22.2m investment in early help",
    "permanent workforce 80%",
    "care leavers care leavers care leavers accommodation",  # repeated terms count each time
    "children children children",
    "Ofsted Ofsted inspection inspection judgement",
    "Barbara Peacock executive director",
    "Tara Geere",
    "regional adoption agency Adopt London South",
    "unaccompanied asylum-seeking children",
    "seventh monitoring visit letter",
    "ASYE social workers newly qualified",
    "Transitional Action Plan Independent Chair",
    "practice people performances partnerships platforms",
    "what needs to improve",
    "requires improvement to be good",
    "Alisa Flemming cabinet member",
    "virtual school personal education plans",
    "private fostering Disclosure and Barring Service checks",
    "general election December 2019 publication delayed",
    "Lunar House immigration",
    "staff morale demoralised",
    "£2.2 million budget",
    "Croydon's children's services",
    "the of and to",  # stop words only: no score anywhere
    "zzzz unknownterm",  # not in the vocabulary
    "",
    "2020 2020 2024",
    "pre-proceedings Public Law Outline escalation",
]


@pytest.fixture(scope="module")
def shipped_rows(shipped_documents: dict[str, Document]) -> list[list[str]]:
    return [tokenize(c.text) for d in shipped_documents.values() for c in chunk_document(d)]


def test_scores_equal_rank_bm25_on_the_shipped_corpus(shipped_rows: list[list[str]]) -> None:
    index = BM25Index.build(shipped_rows)
    reference = BM25Okapi(shipped_rows)
    assert index.size == len(shipped_rows)
    for query in QUERIES:
        tokens = tokenize(query)
        expected = reference.get_scores(tokens)
        np.testing.assert_allclose(
            index.scores(tokens), expected, rtol=1e-6, atol=1e-6, err_msg=query
        )


def test_repeated_query_terms_raise_the_score(shipped_rows: list[list[str]]) -> None:
    index = BM25Index.build(shipped_rows)
    once = index.scores(tokenize("care leavers"))
    thrice = index.scores(tokenize("care leavers care leavers care leavers"))
    np.testing.assert_allclose(thrice, 3 * once, rtol=1e-5)


def test_common_terms_get_the_epsilon_floor_like_rank_bm25() -> None:
    # "council" is in 3 of 4 rows: its plain idf is negative and is floored as in rank_bm25.
    rows = [["council", "adoption"], ["council", "fostering"], ["council", "youth"], ["school"]]
    index = BM25Index.build(rows)
    for term in ("council", "adoption", "school"):
        np.testing.assert_allclose(
            index.scores([term]), BM25Okapi(rows).get_scores([term]), atol=1e-6
        )
    assert (index.scores(["council"])[:3] > 0).all()


def test_top_rows_are_the_best_positive_scores_ties_by_row() -> None:
    rows, scores = top_k(np.array([0.5, 2.0, 0.0, 2.0, 1.0, -1.0]), 3)
    assert rows.tolist() == [1, 3, 4]
    assert scores.tolist() == [2.0, 2.0, 1.0]
    rows, _ = top_k(np.array([0.0, 3.0, 0.0]), 10)
    assert rows.tolist() == [1]  # zero scores are not results


def test_allowed_rows_filter_results() -> None:
    index = BM25Index.build([["adoption"], ["adoption", "panel"], ["fostering"]])
    rows, _ = index.top(["adoption"], 10, allowed=np.array([False, True, True]))
    assert rows.tolist() == [1]


def test_empty_index_scores_nothing() -> None:
    index = BM25Index.build([])
    assert index.size == 0
    assert index.scores(["adoption"]).shape == (0,)


# --- tokenizer: what its docstring promises ------------------------------------------------------


def test_money_keeps_value_and_unit() -> None:
    assert tokenize("£22.2m") == ["22.2", "million"]
    assert tokenize("Investment of £22.2m") == tokenize("investment of 22.2 million")
    assert tokenize("£25million") == ["25", "million"]


def test_thousands_separators_are_dropped() -> None:
    assert tokenize("1,000 school-aged children") == tokenize("1000 school aged children")
    assert "1000" in tokenize("1,000")


def test_percent_sign_is_the_word_percent() -> None:
    assert tokenize("80%") == ["80", "percent"]
    assert tokenize("workforce to 80%") == tokenize("workforce to 80 percent")


def test_hyphenated_ages_match_spelled_out_ages() -> None:
    assert tokenize("16-and 17-year-olds") == ["16", "17", "year", "old"]
    assert tokenize("16-and 17-year-olds") == tokenize("16 and 17 year olds")


def test_possessives_and_case_are_folded() -> None:
    assert tokenize("children's") == ["children"]
    assert tokenize("Children’s") == tokenize("children")
    assert tokenize("COUNCIL Council council") == ["council"] * 3


def test_stemming_matches_word_forms() -> None:
    assert tokenize("inspections") == tokenize("inspection")
    assert tokenize("recommended recommendations") == tokenize("recommend recommendation")


def test_bm25_finds_the_homeless_teenagers_passage_in_either_spelling() -> None:
    rows = [
        tokenize("Services provided to homeless 16-and 17-year-olds."),
        tokenize("Children aged 16 and 17 years who present as homeless receive a rapid response."),
        tokenize("The adoption panel met eleven times."),
    ]
    index = BM25Index.build(rows)
    found, _ = index.top(tokenize("homeless 16 and 17 year olds"), 3)
    assert set(found.tolist()[:2]) == {0, 1}
    assert 2 not in found.tolist()
