"""Questions across reports and years: both sides, side by side, duplicates folded, gaps said."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa.index.build import build_index
from qa.index.embedders import HashingEmbedder
from qa.render.json import answer_record
from qa.render.terminal import format_answer
from qa.search import Searcher
from qa.settings import Settings
from qa.types import AnswerSentence, Hit

from .conftest import CABINET_2024, NEWS_2020, write_corpus

REPEATED = (
    "Inspectors found that the fostering service recruits too few carers for teenagers, so "
    "older children wait months for a suitable placement and some are placed far from home."
)

DATED_CORPUS = {
    "inspection-2019.txt": (
        "Fostering Service Inspection\n\nDate of report: 12 June 2019\n\n"
        "1. FINDINGS\n\n"
        "1.1 The fostering service was judged requires improvement. Carers for teenagers are scarce.\n\n"
        "1.2 Respite care for disabled children is good and families praise it.\n"
    ),
    "inspection-2023.txt": (
        "Fostering Service Re-inspection\n\nDate of report: 3 October 2023\n\n"
        "1. SUMMARY\n\n"
        f"1.1 {REPEATED}\n\n"
        "1.2 The fostering service is now judged good overall.\n\n"
        "2. APPENDIX: INSPECTION LETTER\n\n"
        f"2.1 {REPEATED} Leaders have a plan to recruit more carers.\n\n"
        "2.2 Short breaks for disabled children remain strong.\n"
    ),
    "budget-2021.txt": (
        "Budget Monitoring Report\n\nDate of report: 1 February 2021\n\n"
        "1. FINANCE\n\n1.1 The leisure centre budget was overspent by two million pounds.\n"
    ),
}


@pytest.fixture
def searcher(tmp_path: Path) -> Searcher:
    settings = Settings(
        corpus=write_corpus(tmp_path / "corpus", DATED_CORPUS),
        index=tmp_path / "index",
        chunk_size=220,
        chunk_overlap=0,
        min_similarity=0.0,
    )
    build_index(settings, HashingEmbedder())
    return Searcher.open(settings, HashingEmbedder())


def test_a_comparison_returns_evidence_from_each_year_side_by_side(searcher: Searcher) -> None:
    answer = searcher.search("How did the fostering judgement change between 2019 and 2023?", k=3)
    assert answer.comparison
    sources = {h.chunk.source for h in answer.hits}
    assert {"inspection-2019.txt", "inspection-2023.txt"} <= sources
    assert [g.date for g in answer.groups] == sorted(g.date or "" for g in answer.groups)
    assert answer.missing == ()
    first, _ = answer.hits_by_document()[0]
    assert first.date == "2019-06-12"
    text = format_answer(answer)
    assert text.index("(12 June 2019) ==") < text.index("(3 October 2023) ==")


def test_a_side_without_documents_is_said_explicitly(searcher: Searcher) -> None:
    answer = searcher.search("Compare fostering in 2015 and 2023")
    assert answer.comparison
    note = "No document in the corpus is dated 2015; the closest is from 12 June 2019."
    assert answer.missing == (note,)
    assert f"Note: {note}" in format_answer(answer)
    assert answer_record(answer)["missing"] == [note]
    assert not answer.low_confidence, "2023 is in the corpus: that side is still answered"


def test_a_question_that_does_not_compare_is_ranked_as_before(searcher: Searcher) -> None:
    answer = searcher.search("leisure centre budget overspent")
    assert not answer.comparison
    assert answer.hits[0].chunk.source == "budget-2021.txt"
    text = format_answer(answer)
    assert "==" not in text, "one list by rank, not a block per document"
    assert text.index("[1] ") < text.index("[2] ")


def test_a_repeated_passage_is_one_hit_citing_both_places(searcher: Searcher) -> None:
    answer = searcher.search("too few carers for teenagers, older children wait months", k=5)
    repeats = [h for h in answer.hits if REPEATED in h.chunk.text]
    assert len(repeats) == 1
    (hit,) = repeats
    assert [REPEATED in d.chunk.text for d in hit.duplicates] == [True]
    assert {hit.chunk.paragraph, hit.duplicates[0].chunk.paragraph} == {"1.1", "2.1"}
    record = answer_record(answer)["passages"][hit.rank - 1]
    assert [place["paragraph"] for place in record["also_in"]] == [
        hit.duplicates[0].chunk.paragraph
    ]
    assert "also at:" in format_answer(answer)


def test_json_keeps_every_field_of_the_first_version(searcher: Searcher) -> None:
    record = answer_record(searcher.search("fostering in 2019 and 2023"))
    assert {"question", "passages", "low_confidence"} <= record.keys()
    first_version = {
        "rank", "source", "title", "date", "section", "paragraph", "start", "end", "text",
        "score", "bm25_rank", "dense_rank",
    }  # fmt: skip
    assert all(first_version <= passage.keys() for passage in record["passages"])
    assert {"answer", "comparison", "groups", "missing"} <= record.keys()
    ranks = [p["rank"] for p in record["passages"]]
    assert sorted(r for g in record["groups"] for r in g["passages"]) == sorted(ranks)


# --- the shipped corpus, real model -------------------------------------------------------------


def _verifiable(
    searcher: Searcher, answer_sentences: tuple[AnswerSentence, ...], hits: tuple[Hit, ...]
) -> None:
    by_rank = {h.rank: h for h in hits}
    for sentence in answer_sentences:
        document = searcher.snapshot.documents[sentence.source]
        assert document.text[sentence.start : sentence.end] == sentence.text
        cited = by_rank[sentence.rank].chunk
        assert cited.source == sentence.source
        assert cited.start <= sentence.start and sentence.end <= cited.end


@pytest.mark.slow
def test_recommendations_that_remained_are_quoted_from_both_reports(
    real_searcher: Searcher,
) -> None:
    answer = real_searcher.search(
        "Which recommendations from the 2020 inspection remained in 2024?"
    )
    assert answer.comparison
    quoted = {s.source: s.text for s in answer.sentences}
    assert quoted == {
        NEWS_2020: "Placement sufficiency for children in care and accommodation for care leavers.",
        CABINET_2024: "Sufficiency of accommodation for children in care and care leavers.",
    }
    _verifiable(real_searcher, answer.sentences, answer.hits)
    cited = {s.rank for s in answer.sentences}
    paragraphs = {h.chunk.paragraph for h in answer.hits if h.rank in cited}
    assert "4.16–4.17" in paragraphs  # the 2024 list, cited to its paragraph
    assert [g.date[:4] for g in answer.groups if g.date] == sorted(
        g.date[:4] for g in answer.groups if g.date
    )


@pytest.mark.slow
def test_how_many_recommendations_gives_each_reports_count_and_its_list(
    real_searcher: Searcher,
) -> None:
    answer = real_searcher.search(
        "How many recommendations for improvement did Ofsted make in 2020, and how many in 2024?",
        k=10,
    )
    statement = answer.statement
    assert statement.startswith("Items listed: Ofsted inspection rates Croydon")
    assert re.search(r"\(March 2020\) \[\d+\]: 4; .*\(4 December 2024\) \[\d+\]: 4\.$", statement)
    assert [s.source for s in answer.sentences] == [NEWS_2020, CABINET_2024]
    assert answer.sentences[0].text.startswith("Her report lists four areas which also need")
    assert answer.sentences[1].text.startswith("Inspectors made four recommendations for")
    _verifiable(real_searcher, answer.sentences, answer.hits)


@pytest.mark.slow
def test_a_recommendation_named_by_its_topic_is_answered_with_that_item_alone(
    real_searcher: Searcher,
) -> None:
    answer = real_searcher.search(
        "Did anything come of the 2020 recommendation about care leavers' emotional health needs?"
    )
    assert [s.text for s in answer.sentences][:1] == [
        "Services for care leavers, particularly the range of suitable accommodation, responses "
        "to emotional health needs and preparation for independence."
    ]
    assert not any("homeless" in s.text for s in answer.sentences)  # another 2020 item


@pytest.mark.slow
def test_recommendations_addressed_bring_their_items(real_searcher: Searcher) -> None:
    answer = real_searcher.search("Which areas for improvement from 2020 have been addressed?")
    texts = " ".join(s.text for s in answer.sentences)
    assert "homeless 16-and 17-year-olds" in texts
    assert "Placement sufficiency" not in texts  # repeated, not addressed
    # each addressed item comes with the later report's sentence on its progress
    assert "The quality of plans for children and young people has improved." in texts
    assert "present as homeless receive an effective, rapid response" in texts
    _verifiable(real_searcher, answer.sentences, answer.hits)


@pytest.mark.slow
def test_a_judgement_compared_across_inspections_has_both_years(real_searcher: Searcher) -> None:
    answer = real_searcher.search(
        "How did the judgement for help and protection change between 2020 and 2024?"
    )
    assert answer.comparison and answer.missing == ()
    years = {h.date[:4] for h in answer.hits if h.date}
    assert {"2020", "2024"} <= years
    assert len({s.source for s in answer.sentences}) >= 2  # one sentence from each side
    _verifiable(real_searcher, answer.sentences, answer.hits)


@pytest.mark.slow
def test_the_2024_summary_and_its_appendix_are_one_result(real_searcher: Searcher) -> None:
    answer = real_searcher.search(
        "What were Ofsted's four recommendations for improvement in 2024?"
    )
    sources_and_items = [
        h
        for h in answer.hits
        if "Sufficiency of accommodation for children in care" in h.chunk.text
    ]
    assert len(sources_and_items) == 1
    (hit,) = sources_and_items
    assert any("Sufficiency of accommodation" in d.chunk.text for d in hit.duplicates)
