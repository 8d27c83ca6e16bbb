"""Searcher: ranked, cited passages from one index version, with filters and modes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import qa.search
from qa.citation import cite
from qa.index.build import build_index
from qa.index.embedders import Embedder, HashingEmbedder
from qa.pipeline.answer import extract_answer
from qa.render.json import answer_record
from qa.render.terminal import format_answer
from qa.search import ANSWER_PASSAGES, Searcher
from qa.settings import Settings
from qa.types import AnswerSentence, Filters, Hit

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


def test_the_answer_weighs_only_the_best_passages_whatever_k(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = {
        f"panel-{n:02}.txt": f"Panel report {n}\n\nThe adoption panel met {n + 3} times"
        f" and approved {n + 9} adopters.\n"
        for n in range(3 * ANSWER_PASSAGES)
    }
    write_corpus(settings.corpus, reports)
    build_index(settings, HashingEmbedder())
    searcher = Searcher.open(settings, HashingEmbedder())
    weighed: list[int] = []

    def counting(
        question: str, hits: Sequence[Hit], embedder: Embedder, **options: Any
    ) -> tuple[AnswerSentence, ...]:
        weighed.append(len(hits))
        return extract_answer(question, hits, embedder, **options)

    monkeypatch.setattr(qa.search, "extract_answer", counting)
    question = "How many adopters did the adoption panel approve?"
    few = searcher.search(question, k=2)
    best = searcher.search(question, k=ANSWER_PASSAGES)
    many = searcher.search(question, k=3 * ANSWER_PASSAGES)
    assert len(many.hits) == 3 * ANSWER_PASSAGES
    assert weighed == [2, ANSWER_PASSAGES, ANSWER_PASSAGES]
    assert few.sentences and many.sentences == best.sentences


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
    # No word of it is in the corpus (the hashing embedder scores shared words only).
    answer = searcher.search("volcanic eruptions in Iceland")
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


# --- several councils in one corpus --------------------------------------------------------------

# The passages that answer never name their council: only the report's cover does, as in
# real reports, so the organisation must come from the document.
COUNCILS = {
    name.lower() + ".txt": (
        f"Inspection of {name} local authority children's services\n\n"
        "Inspection dates: 3 to 14 March 2025\n\n"
        "Lead inspector: A. Inspector, His Majesty's Inspector\n\n"
        "What needs to improve?\n\n"
        f"1. Foster carers are recruited steadily and {detail}. Leaders know their service"
        " well and plan for the children who need it most.\n\n"
        "2. Care leavers live in suitable accommodation and have personal advisers who"
        " keep in touch and help them to find work, training or education.\n"
    )
    for name, detail in (
        ("Bradford", "matched quickly with children"),
        ("Sutton", "trained every month by the service"),
        ("Hampshire", "supported by a dedicated team"),
    )
}


@pytest.fixture
def councils(tmp_path: Path) -> Searcher:
    corpus = write_corpus(tmp_path / "corpus", COUNCILS)
    settings = Settings(corpus=corpus, index=tmp_path / "index", chunk_size=200, chunk_overlap=20)
    build_index(settings, HashingEmbedder())
    return Searcher.open(settings, HashingEmbedder())


@pytest.mark.parametrize("council", ["Bradford", "Sutton", "Hampshire"])
def test_a_question_naming_a_council_finds_that_councils_report_first(
    councils: Searcher, council: str
) -> None:
    for question in (
        f"How are care leavers housed in {council}?",
        f"Where do {council}'s care leavers live, and do they have personal advisers?",
    ):
        hits = councils.search(question, k=3).hits
        assert "Care leavers live in suitable accommodation" in hits[0].chunk.text
        assert council not in hits[0].chunk.text
        assert hits[0].chunk.source == f"{council.lower()}.txt", question


def test_the_organisation_filter_returns_only_that_councils_passages(councils: Searcher) -> None:
    only = Filters(organisations=frozenset({"Sutton"}))
    hits = councils.search("care leavers accommodation personal advisers", k=5, filters=only).hits
    assert hits and {h.chunk.source for h in hits} == {"sutton.txt"}
    assert councils.snapshot.organisations == {"Bradford", "Sutton", "Hampshire"}


def test_the_named_councils_passages_outrank_the_same_words_from_another_council(
    tmp_path: Path,
) -> None:
    """Without chunk context only the organisation boost can tell two councils' identical
    passages apart; the named council's comes first."""
    corpus = write_corpus(tmp_path / "corpus", COUNCILS)
    settings = Settings(
        corpus=corpus,
        index=tmp_path / "index",
        chunk_size=200,
        chunk_overlap=20,
        chunk_context=False,
    )
    build_index(settings, HashingEmbedder())
    searcher = Searcher.open(settings, HashingEmbedder())
    plain = Searcher(settings.replace(organisation_boost=0.0), searcher.snapshot, searcher.embedder)
    firsts_without_boost = set()
    for council in ("Bradford", "Sutton", "Hampshire"):
        question = f"{council}: care leavers suitable accommodation advisers"
        leavers = [h for h in searcher.search(question, k=5).hits if "Care leavers" in h.chunk.text]
        assert leavers[0].chunk.source == f"{council.lower()}.txt"
        unboosted = [h for h in plain.search(question, k=5).hits if "Care leavers" in h.chunk.text]
        firsts_without_boost.add(unboosted[0].chunk.source)
    assert len(firsts_without_boost) == 1  # without it, the same council wins every question


def test_a_question_naming_a_council_is_answered_from_that_councils_report(
    tmp_path: Path,
) -> None:
    """Two councils' reports word their lead inspector alike; the answer quotes the named one."""

    def report(council: str, inspector: str) -> str:
        return (
            f"Inspection of {council} local authority children's services\n\n"
            "Inspection dates: 3 to 14 June 2024\n\n"
            f"Lead inspector: {inspector}, His Majesty's Inspector\n\n"
            "Judgement | Grade\n\nOverall effectiveness | Good\n\n"
            "Leaders know their services well and the inspection found steady progress.\n"
        )

    corpus = write_corpus(
        tmp_path / "corpus",
        {
            "eastbrook.txt": report("Eastbrook", "Alice Marsh"),
            "westfield.txt": report("Westfield", "Brian Holt"),
        },
    )
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    build_index(settings, HashingEmbedder())
    searcher = Searcher.open(settings, HashingEmbedder())
    for council, inspector in (("Westfield", "Brian Holt"), ("Eastbrook", "Alice Marsh")):
        answer = searcher.search(f"Who was the lead inspector of {council} in 2024?")
        assert inspector in answer.sentences[0].text, (council, answer.sentences)
        assert {h.organisation for h in answer.hits} == {"Eastbrook", "Westfield"}


def test_who_led_the_latest_inspection_is_answered_from_the_cover_naming_the_inspector(
    two_councils: Searcher,
) -> None:
    question = "Who led Ofsted's most recent inspection of children's services in Croydon?"
    answer = two_councils.search(question)
    assert answer.sentences[0].text.startswith("Lead inspector: Christine Kennet")
    # the lift is what brings it: the passage shares fewer words with the question than others
    plain = Searcher.open(replace(two_councils.settings, role_holder_boost=0.0))
    unlifted = plain.search(question)
    assert not any(s.text.startswith("Lead inspector") for s in unlifted.sentences)


def test_who_led_an_inspection_no_passage_names_the_inspector_of_says_so(
    two_councils: Searcher,
) -> None:
    answer = two_councils.search("Who led the most recent inspection of Northmoor?")
    assert answer.low_confidence
    assert "No passage found names anyone in the role asked about" in answer.missing[-1]
