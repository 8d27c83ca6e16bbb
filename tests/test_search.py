"""Searcher: ranked, cited passages from one index version, with filters and modes."""

from __future__ import annotations

import pytest

from qa.citation import cite
from qa.index.build import build_index
from qa.index.embedders import HashingEmbedder
from qa.render.json import answer_record
from qa.render.terminal import format_answer
from qa.search import Filters, Searcher
from qa.settings import Settings

from .conftest import write_corpus


@pytest.fixture
def searcher(settings: Settings) -> Searcher:
    write_corpus(
        settings.corpus,
        {
            "adoption.txt.meta.json": '{"date": "2021-06-30"}',
            "fostering.md.meta.json": '{"date": "2019"}',
        },
    )
    build_index(settings, HashingEmbedder())
    return Searcher.open(settings, HashingEmbedder())


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_each_mode_finds_the_right_document_first(searcher: Searcher, mode: str) -> None:
    hits = searcher.search("knife crime youth offending team", mode=mode).hits
    assert hits[0].chunk.source == "reports/youth.txt"
    assert hits[0].rank == 1


def test_hits_are_ranked_cited_passages(searcher: Searcher) -> None:
    answer = searcher.search("adoption panel approved adopters", k=3)
    assert answer.question == "adoption panel approved adopters"
    assert 1 <= len(answer.hits) <= 3
    assert [h.rank for h in answer.hits] == list(range(1, len(answer.hits) + 1))
    assert [h.score for h in answer.hits] == sorted((h.score for h in answer.hits), reverse=True)
    best = answer.hits[0]
    assert "approved fourteen adopters" in best.chunk.text
    document = searcher.snapshot.documents[best.chunk.source]
    assert best.chunk.text == document.text[best.chunk.start : best.chunk.end]
    assert best.title == "Adoption Panel Annual Report"
    assert best.date == "2021-06-30"
    assert (
        cite(best).line() == "Adoption Panel Annual Report, 30 June 2021, 1. SUMMARY, para 1.1–1.2"
    )
    assert best.lexical_rank == 1
    assert best.dense_rank is not None


def test_k_limits_the_number_of_passages(searcher: Searcher) -> None:
    assert len(searcher.search("the council children", k=1).hits) == 1
    assert len(searcher.search("the council children").hits) <= searcher.settings.top_k


def test_filter_by_document(searcher: Searcher) -> None:
    only = Filters(sources=frozenset({"fostering.md"}))
    hits = searcher.search("adoption panel approved adopters", filters=only).hits
    assert hits and {h.chunk.source for h in hits} == {"fostering.md"}


def test_filter_by_year_drops_undated_documents(searcher: Searcher) -> None:
    hits = searcher.search("adoption fostering youth", k=10, filters=Filters(year_from=2020)).hits
    assert {h.chunk.source for h in hits} == {"adoption.txt"}
    hits = searcher.search("adoption fostering youth", k=10, filters=Filters(year_to=2019)).hits
    assert {h.chunk.source for h in hits} == {"fostering.md"}
    assert searcher.search("adoption", filters=Filters(year_from=2030)).hits == ()


def test_lexical_mode_has_no_dense_evidence_and_no_confidence_flag(searcher: Searcher) -> None:
    answer = searcher.search("foster carers", mode="lexical")
    assert all(h.dense_rank is None for h in answer.hits)
    assert answer.low_confidence is False
    assert answer.best_similarity is None


def test_unrelated_question_is_flagged_low_confidence(searcher: Searcher) -> None:
    answer = searcher.search("quantum chromodynamics lattice gauge")
    assert answer.low_confidence
    related = searcher.search("The adoption panel met eleven times and approved fourteen adopters.")
    assert not related.low_confidence
    assert related.best_similarity is not None
    assert related.best_similarity >= searcher.settings.min_similarity


def test_unknown_mode_is_refused(searcher: Searcher) -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        searcher.search("adoption", mode="magic")


def test_empty_question_returns_no_passages(searcher: Searcher) -> None:
    assert searcher.search("   ").hits == ()


def test_weighted_fusion_setting_is_used(settings: Settings) -> None:
    build_index(settings, HashingEmbedder())
    for fusion in ("rrf", "weighted"):
        searcher = Searcher.open(settings.replace(fusion=fusion), HashingEmbedder())
        hits = searcher.search("knife crime youth offending").hits
        assert hits[0].chunk.source == "reports/youth.txt"
    rrf = Searcher.open(settings.replace(fusion="rrf"), HashingEmbedder()).search("adoption")
    assert rrf.hits[0].score == pytest.approx(2 / 61)  # first in both rankings, k = 60


# --- output --------------------------------------------------------------------------------------


def test_answer_record_follows_the_documented_schema(searcher: Searcher) -> None:
    record = answer_record(searcher.search("foster carers allowance", k=2))
    assert record["question"] == "foster carers allowance"
    assert isinstance(record["low_confidence"], bool)
    (first, *_) = record["passages"]
    assert first["source"] == "fostering.md"
    assert first["rank"] == 1
    assert first["date"] == "2019"
    assert (
        first["text"]
        == searcher.snapshot.documents["fostering.md"].text[first["start"] : first["end"]]
    )


def test_terminal_text_shows_citation_passage_and_ranks(searcher: Searcher) -> None:
    text = format_answer(searcher.search("knife crime youth offending", k=1))
    assert text.startswith("Question: knife crime youth offending\n")
    assert "[1] Youth Offending Service Review (undated)" in text
    assert "2. DETAIL · para 2.1 · reports/youth.txt chars" in text
    assert "Knife crime among young people rose" in text
    assert "lexical #1" in text


def test_terminal_text_for_no_passages() -> None:
    from qa.types import Answer

    assert format_answer(Answer("anything", ())) == "No passages found for: anything"
