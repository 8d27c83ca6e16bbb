"""Recommendation tracking on the shipped corpus and on a second, invented council's reports.

The second corpus (tests/fixtures/other_council) is three reports of "Northmoor County
Council" in other layouts (HTML with "Areas for development", a markdown scrutiny update
whose "Recommendation" is a committee decision, a plain-text report with "(a) (b) (c)")
with outcomes written into it: one item repeated, two reported as improved, one never
mentioned again, two new.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import qa.index.embedders
from qa.chunking import chunk_document
from qa.citation import cite
from qa.cli import main
from qa.corpus import load_corpus
from qa.features.recommendations import (
    DECISION,
    IMPROVEMENT,
    Recommendation,
    TrackedRecommendation,
    extract_recommendations,
    snapshot_recommendations,
    track_recommendations,
)
from qa.features.recommendations.stage import asks_about_recommendations
from qa.features.recommendations.track import item_parts
from qa.index.build import build_index
from qa.index.embedders import Embedder, HashingEmbedder, load_embedder
from qa.index.store import IndexStore
from qa.render.terminal import format_recommendations
from qa.search import Searcher
from qa.settings import BUNDLED_MODEL, Settings
from qa.types import Chunk, Document, Status

from .conftest import (
    CABINET_2020,
    CABINET_2024,
    NEWS_2020,
    OTHER_COUNCIL,
    SCRUTINY_2017,
    SCRUTINY_2019,
    SHIPPED_CORPUS,
)

NORTHMOOR_2021 = "northmoor-inspection-children-services.html"
NORTHMOOR_2022 = "northmoor-scrutiny-progress-update.md"
NORTHMOOR_2023 = "northmoor-2023-reinspection.txt"


def loaded(root: Path) -> tuple[dict[str, Document], list[Chunk]]:
    corpus = load_corpus(root)
    assert not corpus.errors, corpus.errors
    documents = {d.source: d for d in corpus.documents}
    return documents, [c for d in corpus.documents for c in chunk_document(d)]


def items(document: Document) -> list[Recommendation]:
    return extract_recommendations(document, chunk_document(document))


def document(text: str, source: str = "report.txt") -> Document:
    return Document(source, "A report", "2022-01-10", "hash", "text", text=text)


def status_of(tracked: list[TrackedRecommendation], start: str) -> TrackedRecommendation:
    found = [t for t in tracked if t.recommendation.text.lower().startswith(start.lower())]
    assert len(found) == 1, f"{start!r}: {[t.recommendation.text for t in tracked]}"
    return found[0]


@pytest.fixture(scope="module")
def model() -> Embedder:
    return load_embedder(BUNDLED_MODEL)


# Extraction on the shipped corpus


def test_news_report_lists_four_areas_after_its_lead_in(
    shipped_documents: dict[str, Document],
) -> None:
    news = shipped_documents[NEWS_2020]
    found = items(news)
    assert [r.text for r in found] == [
        "The quality of written plans for children in need, children in care and care leavers.",
        "Services provided to homeless 16-and 17-year-olds.",
        "Services for care leavers, particularly the range of suitable accommodation,"
        " responses to emotional health needs and preparation for independence.",
        "Placement sufficiency for children in care and accommodation for care leavers.",
    ]
    assert {r.kind for r in found} == {IMPROVEMENT}
    assert [r.places[0].item for r in found] == ["1", "2", "3", "4"]
    for record in found:
        place = record.places[0]
        assert news.text[place.start : place.end] == record.text
        assert record.date == news.date == "2020-03"


def test_2024_items_are_one_record_citing_the_report_and_its_appendix(
    shipped_documents: dict[str, Document],
) -> None:
    cabinet = shipped_documents[CABINET_2024]
    found = [r for r in items(cabinet) if r.kind == IMPROVEMENT]
    assert [r.text for r in found] == [
        "Services to children out of hours.",
        "Consistency of practitioners for children and families.",
        "Sufficiency of accommodation for children in care and care leavers.",
        "Waiting time for early help support.",
    ]
    for number, record in enumerate(found, start=1):
        report, appendix = record.places
        assert (report.section, report.paragraph, report.item) == (
            "AREAS FOR IMPROVEMENT",
            "4.16",
            str(number),
        )
        assert (appendix.section, appendix.item) == ("What needs to improve?", str(number))
        assert report.start < appendix.start
        for place in record.places:
            assert cabinet.text[place.start : place.end] == record.text
    assert "para 4.16, item 3; What needs to improve?, item 3" in cite(found[2]).line()


def test_progress_against_earlier_recommendations_is_not_a_new_list(
    shipped_documents: dict[str, Document],
) -> None:
    # "4.11 Good progress was reported against the recommendations for improvement ...:"
    texts = " ".join(r.text for r in items(shipped_documents[CABINET_2024]))
    assert "homeless" not in texts
    assert "quality of plans" not in texts


def test_cabinet_decisions_are_kept_apart_from_inspection_findings(
    shipped_documents: dict[str, Document],
) -> None:
    decisions_2020 = items(shipped_documents[CABINET_2020])
    assert [(r.kind, r.places[0].paragraph) for r in decisions_2020] == [
        (DECISION, "1.1."),
        (DECISION, "1.2."),
    ]
    decisions_2024 = [r for r in items(shipped_documents[CABINET_2024]) if r.kind == DECISION]
    assert [r.places[0].paragraph for r in decisions_2024] == ["2.1", "2.2"]
    assert decisions_2024[0].text.startswith("Note and consider the outcome")


@pytest.mark.parametrize("source", [SCRUTINY_2017, SCRUTINY_2019])
def test_reports_without_recommendation_lists_yield_none(
    shipped_documents: dict[str, Document], source: str
) -> None:
    # Both have bullet lists ("The Plan was based on four key areas:", "The visit focused on
    # two areas:") that are not recommendations.
    assert items(shipped_documents[source]) == []


def test_decisions_are_not_tracked(shipped_documents: dict[str, Document]) -> None:
    documents = [shipped_documents[CABINET_2020], shipped_documents[CABINET_2024]]
    chunks = [c for d in documents for c in chunk_document(d)]
    tracked = track_recommendations(documents, chunks, HashingEmbedder())
    assert len(tracked) == 4
    assert all(t.recommendation.kind == IMPROVEMENT for t in tracked)


# Extraction rules on small documents


def test_a_list_under_an_unrelated_heading_is_not_taken() -> None:
    text = (
        "FOSTERING RECRUITMENT\n\n"
        "The service recruited twelve carers this year, more than in any year since 2015.\n\n"
        "- Carers receive a weekly allowance.\n"
        "- Training is offered every month.\n\n"
        "The panel met eleven times and approved fourteen households to foster:\n\n"
        "1. Six households in the north of the borough.\n"
        "2. Eight households in the south.\n"
    )
    assert items(document(text)) == []


def test_a_list_under_a_recommendations_heading_is_taken_after_its_introduction() -> None:
    text = (
        "Review of the youth offending service\n\n"
        "RECOMMENDATIONS\n\n"
        "The review team found a committed service with several gaps in its practice.\n\n"
        "(i) Assessments should be completed within 15 working days.\n"
        "(ii) Every young person should have a named worker,\n"
        "    including in the summer holidays.\n\n"
        "NEXT STEPS\n\n"
        "- A plan will be written by the service manager.\n"
    )
    found = items(document(text))
    assert [(r.text, r.places[0].item) for r in found] == [
        ("Assessments should be completed within 15 working days.", "i"),
        (
            "Every young person should have a named worker, including in the summer holidays.",
            "ii",
        ),
    ]


def test_a_list_announced_as_progress_is_not_a_recommendation_list() -> None:
    text = (
        "Update on the improvement plan\n\n"
        "Good progress was made on the areas for development identified last year:\n\n"
        "- Supervision is now monthly in every team.\n"
        "- Health assessments are now timely.\n"
    )
    assert items(document(text)) == []


# Extraction on the second corpus


def test_other_council_items_in_html_markdown_and_lettered_layouts() -> None:
    documents, _ = loaded(OTHER_COUNCIL)
    inspection = items(documents[NORTHMOOR_2021])
    assert documents[NORTHMOOR_2021].date == "2021-06-14"
    assert [(r.kind, r.places[0].section, r.places[0].item) for r in inspection] == [
        (IMPROVEMENT, "Areas for development", str(n)) for n in range(1, 5)
    ]
    assert inspection[3].text.startswith("The identification and assessment of young carers")

    update = items(documents[NORTHMOOR_2022])
    assert [(r.kind, r.places[0].item) for r in update] == [(DECISION, "a"), (DECISION, "b")]

    reinspection = items(documents[NORTHMOOR_2023])
    assert [(r.kind, r.places[0].item) for r in reinspection] == [
        (IMPROVEMENT, "a"),
        (IMPROVEMENT, "b"),
        (IMPROVEMENT, "c"),
    ]
    assert reinspection[0].text == (
        "placement moves for children in care, and the number of children placed a long way"
        " from the county"
    ), "the ';' joining one item to the next is not part of the item"
    first = reinspection[0].places[0]
    assert first.section == "SECTION B - RECOMMENDATIONS"
    assert documents[NORTHMOOR_2023].text[first.start : first.end] == reinspection[0].text


# Linking and statuses with the real model


def tracked_as_expected(
    root: Path, model: Embedder, expected: dict[str, str]
) -> tuple[dict[str, Document], list[TrackedRecommendation]]:
    """Track the corpus at ``root`` and check each item's status (items named by how they start)."""
    documents, chunks = loaded(root)
    tracked = track_recommendations(list(documents.values()), chunks, model)
    assert {start: status_of(tracked, start).status for start in expected} == expected
    return documents, tracked


@pytest.mark.slow
def test_shipped_corpus_statuses(model: Embedder) -> None:
    expected = {
        "The quality of written plans": Status.ADDRESSED,
        "Services provided to homeless": Status.ADDRESSED,
        # repeated in part: its accommodation concern is a 2024 area again (eval/README.md)
        "Services for care leavers": Status.REPEATED,
        "Placement sufficiency": Status.REPEATED,
        "Services to children out of hours": Status.NEW,
        "Consistency of practitioners": Status.NEW,
        "Sufficiency of accommodation": Status.REPEATED,
        "Waiting time for early help": Status.NEW,
    }
    documents, tracked = tracked_as_expected(SHIPPED_CORPUS, model, expected)
    assert [t.recommendation.source for t in tracked] == [NEWS_2020] * 4 + [CABINET_2024] * 4

    placement = status_of(tracked, "Placement sufficiency")
    sufficiency = status_of(tracked, "Sufficiency of accommodation")
    leavers = status_of(tracked, "Services for care leavers")
    assert [link.recommendation for link in placement.later] == [sufficiency.recommendation]
    assert [(link.recommendation, link.part) for link in leavers.later] == [
        (sufficiency.recommendation, "the range of suitable accommodation")
    ]
    assert leavers.evidence is None  # no "addressed" on a sentence about personal advisers
    assert [link.recommendation for link in sufficiency.earlier] == [
        placement.recommendation,
        leavers.recommendation,
    ]
    assert all(not t.later and not t.earlier for t in tracked if t.status != Status.REPEATED)

    for start in ("The quality of written plans", "Services provided to homeless"):
        evidence = status_of(tracked, start).evidence
        assert evidence is not None and evidence.source == CABINET_2024
        cabinet = documents[CABINET_2024].text
        assert cabinet[evidence.place.start : evidence.place.end] == evidence.text
    plans = status_of(tracked, "The quality of written plans").evidence
    assert plans is not None and plans.text == (
        "The quality of plans for children and young people has improved."
    )
    assert plans.place.paragraph == "4.13"
    homeless = status_of(tracked, "Services provided to homeless").evidence
    assert homeless is not None and "present as homeless" in homeless.text


@pytest.mark.slow
def test_other_council_statuses(model: Embedder) -> None:
    expected = {
        "The timeliness of initial health assessments": Status.ADDRESSED,
        "The stability of placements": Status.REPEATED,
        "The regularity and quality of supervision": Status.ADDRESSED,
        "The identification and assessment of young carers": Status.NOT_MENTIONED,
        "placement moves for children in care": Status.REPEATED,
        "the response to children at risk of exploitation": Status.NEW,
        "the timeliness of return home interviews": Status.NEW,
    }
    _, tracked = tracked_as_expected(OTHER_COUNCIL, model, expected)
    sources = [t.recommendation.source for t in tracked]
    assert sources == [NORTHMOOR_2021] * 4 + [NORTHMOOR_2023] * 3
    stability = status_of(tracked, "The stability of placements")
    assert [link.recommendation.source for link in stability.later] == [NORTHMOOR_2023]
    supervision = status_of(tracked, "The regularity and quality of supervision").evidence
    assert supervision is not None and supervision.text.startswith(
        "Supervision of social workers is regular"
    )
    # "the support [foster carers] receive ... has improved" is progress, but not on young carers
    assert status_of(tracked, "The identification and assessment").evidence is None


# Snapshot, table and command line (hashing embedder: shape, not linking quality)


@pytest.fixture
def other_council_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[str], Settings, HashingEmbedder]:
    """The second corpus indexed in tmp_path with a hashing model, which ``qa`` then loads."""
    settings = Settings(corpus=OTHER_COUNCIL, index=tmp_path / "index")
    embedder = HashingEmbedder()
    build_index(settings, embedder)
    monkeypatch.setattr(qa.index.embedders, "load_query_embedder", lambda *args, **kwargs: embedder)
    return ["--corpus", str(settings.corpus), "--index", str(settings.index)], settings, embedder


def test_cli_prints_each_report_with_statuses_and_citations(
    other_council_index: tuple[list[str], Settings, HashingEmbedder],
    capsys: pytest.CaptureFixture[str],
) -> None:
    flags, _, _ = other_council_index
    assert main(["recommendations", *flags]) == 0
    output = capsys.readouterr().out
    assert output.index("(14 June 2021)") < output.index("(21 March 2023)")
    assert (
        "cited: Inspection of Northmoor County Council children's social care services,"
        " 14 June 2021, Areas for development, item 4" in output
    )
    assert "SECTION B - RECOMMENDATIONS, item c" in output
    assert "note the progress made" not in output, "committee decisions are not listed"
    statuses = [line.split("  ")[0] for line in output.splitlines() if line[:1].islower()]
    assert len(statuses) == 7
    assert set(statuses) <= {Status.REPEATED, Status.ADDRESSED, Status.NEW, Status.NOT_MENTIONED}


def test_cli_json_has_one_record_per_item(
    other_council_index: tuple[list[str], Settings, HashingEmbedder],
    capsys: pytest.CaptureFixture[str],
) -> None:
    flags, _, _ = other_council_index
    assert main(["recommendations", "--json", *flags]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["source"] for r in records] == [NORTHMOOR_2021] * 4 + [NORTHMOOR_2023] * 3
    text = (OTHER_COUNCIL / NORTHMOOR_2023).read_text(encoding="utf-8")
    last = records[-1]
    assert (
        last["text"]
        == "the timeliness of return home interviews for children who have been missing."
    )
    assert last["date"] == "2023-03-21" and last["kind"] == IMPROVEMENT
    assert last["places"][0]["item"] == "c"
    assert text[last["places"][0]["start"] : last["places"][0]["end"]] == last["text"]
    assert {"status", "earlier", "later", "evidence"} <= set(last)


def test_snapshot_recommendations_are_computed_once_per_index_version(
    other_council_index: tuple[list[str], Settings, HashingEmbedder],
) -> None:
    _, settings, embedder = other_council_index
    snapshot = IndexStore(settings.index).load()
    first = snapshot_recommendations(snapshot, embedder)
    calls = embedder.calls
    assert snapshot_recommendations(snapshot, embedder) is first
    assert embedder.calls == calls


def test_a_corpus_over_the_tracking_limit_is_answered_without_waiting_for_tracking(
    other_council_index: tuple[list[str], Settings, HashingEmbedder],
) -> None:
    """Tracking embeds every item of the corpus: past track_up_to_documents a question about
    recommendations is answered by retrieval alone until the items have been tracked."""
    _, settings, embedder = other_council_index
    snapshot = IndexStore(settings.index).load()
    searcher = Searcher(settings.replace(track_up_to_documents=2), snapshot, embedder)
    question = "Which recommendations from 2021 remained in 2023?"
    calls = embedder.calls
    assert searcher.search(question, extract=False).hits
    assert embedder.calls == calls + 1, "only the question was embedded"
    assert snapshot_recommendations(snapshot, embedder, up_to_documents=2) == []

    tracked = snapshot_recommendations(snapshot, embedder)  # as the Recommendations tab does
    assert snapshot_recommendations(snapshot, embedder, up_to_documents=2) is tracked
    first = searcher.search(question, extract=False).hits[0].chunk
    assert any(
        t.recommendation.source == first.source
        and first.start <= t.recommendation.places[0].start < first.end
        for t in tracked
    ), "once tracked, the items are lifted to the top"


def test_a_corpus_over_the_limit_answers_grade_questions_without_waiting_for_judgements(
    other_council_index: tuple[list[str], Settings, HashingEmbedder],
) -> None:
    """Judgement records read every passage: past track_up_to_documents a grade question is
    answered from the passages until the records have been read (qa judgements, the app)."""
    _, settings, embedder = other_council_index
    snapshot = IndexStore(settings.index).load()
    searcher = Searcher(settings.replace(track_up_to_documents=2), snapshot, embedder)
    question = "How was Northmoor judged for overall effectiveness in 2021?"
    assert searcher.search(question).statement == ""
    assert searcher.judgements.rows(snapshot), "qa judgements reads them whatever the size"
    assert "Overall effectiveness" in searcher.search(question).statement


def test_an_empty_result_says_so() -> None:
    assert format_recommendations([]) == "No recommendations found in the corpus."


@pytest.mark.parametrize(
    ("item", "parts"),
    [
        (
            "Services for care leavers, particularly the range of suitable accommodation,"
            " responses to emotional health needs and preparation for independence.",
            [
                "the range of suitable accommodation",
                "responses to emotional health needs",
                "preparation for independence",
            ],
        ),
        # one concern after "including" is a detail, not a list of concerns
        (
            "The stability of placements for children in care, including the number of"
            " children who live far from Northmoor.",
            [],
        ),
        ("Waiting time for early help support.", []),
    ],
)
def test_an_item_listing_several_concerns_is_split_into_them(item: str, parts: list[str]) -> None:
    assert item_parts(item)[1] == parts


def test_one_councils_items_are_never_repeated_or_addressed_by_anothers_report(
    two_councils: Searcher,
) -> None:
    snapshot = two_councils.snapshot
    organisation = {source: entry.organisation for source, entry in snapshot.catalog.items()}
    tracked = snapshot_recommendations(snapshot, two_councils.embedder)
    northmoor = [t for t in tracked if organisation[t.recommendation.source] == "Northmoor"]
    assert northmoor
    for item in northmoor:
        linked = [link.recommendation.source for link in (*item.earlier, *item.later)]
        evidence = [item.evidence.source] if item.evidence else []
        assert {organisation[source] for source in (*linked, *evidence)} <= {"Northmoor"}
    answer = two_councils.search("What did Ofsted ask Northmoor to improve?", k=10)
    assert answer.sentences
    assert {organisation[s.source] for s in answer.sentences} == {"Northmoor"}


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("Which recommendations from the 2020 inspection remained in 2024?", True),
        ("Which of the improvement areas in the 2024 report are new?", True),
        ("What did Ofsted ask Sutton to improve?", True),
        ("Was the response to children who go missing an area for improvement?", True),
        ("Was pre-proceedings work flagged for improvement in 2018 and again in 2024?", True),
        ("Has the shortage of accommodation been fixed since Ofsted raised it in 2020?", True),
        ("Who raised the question of funding at the meeting?", False),
        # the response to the recommendations is what is asked: the council's papers say it
        ("What did the council say it would do in response to Ofsted's recommendations?", False),
        ("How does the council plan to respond to the recommendations?", False),
        ("How many children were in care in 2024?", False),
    ],
)
def test_questions_about_what_reports_asked_to_improve_are_told_apart(
    question: str, asks: bool
) -> None:
    assert asks_about_recommendations(question) is asks


@pytest.mark.slow
def test_what_came_of_an_item_quotes_it_and_a_sentence_of_the_later_report(
    real_searcher: Searcher,
) -> None:
    answer = real_searcher.search(
        "Did anything come of the 2020 recommendation about care leavers' emotional health needs?"
    )
    sources = [s.source for s in answer.sentences]
    assert "responses to emotional health needs" in " ".join(answer.sentences[0].text.split())
    assert sources[-1] == "cabinet-2024-12-ofsted-inspection-outcome.txt"
    later = [s.text for s in answer.sentences[1:] if s.source == sources[-1]]
    assert any("emotional health needs" in text for text in later), later  # the item's topic
    # a question about what is new in the later report gets nothing filled in for the earlier
    new = real_searcher.search("Which of the 2024 report's improvement areas are new since 2020?")
    assert new.sentences
    assert all(s.source == "cabinet-2024-12-ofsted-inspection-outcome.txt" for s in new.sentences)
