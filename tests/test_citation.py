"""One citation for every place shown: a ranked passage, a recommendation, a progress sentence."""

from __future__ import annotations

from qa.citation import Citation, cite
from qa.features.recommendations import Evidence, Place, Recommendation
from qa.types import Chunk, Hit

REPORT_PLACE = Place("AREAS FOR IMPROVEMENT", "4.16", "3", 11305, 11374)
APPENDIX_PLACE = Place("What needs to improve?", None, "3", 20510, 20579)


def passage(section: str | None = "2. DETAIL", paragraph: str | None = "2.1–2.3") -> Hit:
    chunk = Chunk("notes/a.txt", 10, 40, "The panel met eleven times a year.", section, paragraph)
    return Hit(1, 0, chunk, "Cabinet Report", "2024-12-04", 0.5, 1, None)


def test_a_passage_is_cited_by_title_date_section_and_paragraph() -> None:
    citation = cite(passage())
    assert citation == Citation(
        "notes/a.txt", "Cabinet Report", "2024-12-04", "2. DETAIL", "2.1–2.3", 10, 40
    )
    assert citation.where == ("2. DETAIL", "para 2.1–2.3")
    assert citation.line() == "Cabinet Report, 4 December 2024, 2. DETAIL, para 2.1–2.3"


def test_a_place_without_section_or_date_is_cited_by_what_is_known() -> None:
    hit = passage(section=None, paragraph=None)
    undated = Hit(1, 0, hit.chunk, "Cabinet Report", None, 0.5, 1, None)
    assert cite(undated).where == ()
    assert cite(undated).line() == "Cabinet Report, undated"


def test_a_recommendation_printed_twice_is_cited_at_both_places() -> None:
    record = Recommendation(
        "inspection.txt", "Inspection of children's services", "2021-06-14",
        "Sufficiency of accommodation.", "improvement", (REPORT_PLACE, APPENDIX_PLACE),
    )  # fmt: skip
    citation = cite(record)
    assert citation.line() == (
        "Inspection of children's services, 14 June 2021, AREAS FOR IMPROVEMENT, para 4.16,"
        " item 3; What needs to improve?, item 3"
    )
    first, second = citation.places()
    assert (first.start, first.end, first.item) == (11305, 11374, "3")
    assert (
        second.line()
        == "Inspection of children's services, 14 June 2021, What needs to improve?, item 3"
    )
    assert first.also == second.also == ()


def test_a_progress_sentence_is_cited_at_its_paragraph() -> None:
    place = Place("Care leavers", "4.5", None, 700, 780)
    evidence = Evidence(
        "later.txt", "Later report", "2024", "Care leavers now have advisers.", place, 0.7
    )
    citation = cite(evidence)
    assert (citation.source, citation.start, citation.end) == ("later.txt", 700, 780)
    assert citation.line() == "Later report, 2024, Care leavers, para 4.5"
