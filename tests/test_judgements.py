"""Judgements read from documents: every grade a report states, in each form it states it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.chunking import chunk_document
from qa.features.judgements.extract import Form, Grade, extract_judgements, read_grade
from qa.types import Document

from .conftest import CABINET_2020, CABINET_2024, NEWS_2020, SCRUTINY_2017, SCRUTINY_2019

REPO = Path(__file__).resolve().parents[1]


def judgements_of(document: Document) -> list[tuple[str, Grade, int | None]]:
    return [
        (j.aspect, j.grade, j.year) for j in extract_judgements(document, chunk_document(document))
    ]


@pytest.mark.parametrize(
    ("text", "grade"),
    [
        ("Good", Grade.GOOD),
        ("**'Requires improvement to be good'**", Grade.REQUIRES_IMPROVEMENT),
        ("requires improvement", Grade.REQUIRES_IMPROVEMENT),
        ("‘Inadequate’.", Grade.INADEQUATE),
        ("good quality", None),
        ("Grade", None),
    ],
)
def test_a_grade_is_read_only_when_the_text_is_exactly_a_grade(
    text: str, grade: Grade | None
) -> None:
    assert read_grade(text) == grade


def test_a_table_row_a_heading_and_a_list_line_of_one_grade_are_one_record_citing_all(
    shipped_documents: dict[str, Document],
) -> None:
    document = shipped_documents[CABINET_2024]
    records = extract_judgements(document, chunk_document(document))
    care = next(
        j for j in records if j.aspect == "The experiences and progress of children in care"
    )
    assert care.grade == Grade.GOOD
    assert [p.form for p in care.places] == [Form.TABLE, Form.HEADING, Form.LIST]
    for place in care.places:
        assert "children in care" in document.text[place.start : place.end]
    heading = care.places[1]
    assert document.text[heading.start : heading.end] == (
        "The experiences and progress of children in care: good"
    )


def test_the_shipped_reports_grades_match_the_gold_records(
    shipped_documents: dict[str, Document],
) -> None:
    """Every grade eval/judgements.jsonl records in a table, heading or list is found with its
    aspect, grade and inspection year."""
    gold = [json.loads(line) for line in (REPO / "eval" / "judgements.jsonl").open()]
    structured = [g for g in gold if any(c["form"] != "prose" for c in g["citations"])]
    assert len(structured) >= 9
    for record in structured:
        found = judgements_of(shipped_documents[record["document"]])
        assert (
            record["aspect"],
            Grade.from_str(record["grade"]),
            int(record["inspection"][:4]),
        ) in found, record


def test_a_grade_stated_in_prose_names_the_inspection_it_belongs_to(
    shipped_documents: dict[str, Document],
) -> None:
    assert ("children's services", Grade.INADEQUATE, 2017) in judgements_of(
        shipped_documents[CABINET_2020]
    )
    news = judgements_of(shipped_documents[NEWS_2020])
    assert ("Croydon children’s services", Grade.GOOD, 2020) in news
    assert any(grade == Grade.INADEQUATE and year == 2017 for _, grade, year in news)


def test_good_in_ordinary_prose_is_not_a_grade(shipped_documents: dict[str, Document]) -> None:
    document = shipped_documents[CABINET_2024]
    for judgement in extract_judgements(document, chunk_document(document)):
        for place in judgement.places:
            assert "good quality" not in document.text[place.start : place.end]
    assert judgements_of(shipped_documents[SCRUTINY_2017]) == []
    assert judgements_of(shipped_documents[SCRUTINY_2019]) == [
        ("children’s services", Grade.INADEQUATE, 2017)
    ]
