"""Titles and dates: read from what the document states, else from its file name."""

from __future__ import annotations

import pytest

from qa.corpus.metadata import (
    date_from_name,
    date_from_text,
    extract_metadata,
    find_dates,
    partial_iso,
)
from qa.types import Document

from .conftest import CABINET_2020, CABINET_2024, NEWS_2020, SCRUTINY_2017, SCRUTINY_2019


def test_shipped_titles_and_dates(shipped_documents: dict[str, Document]) -> None:
    cabinet_2024 = shipped_documents[CABINET_2024]
    assert cabinet_2024.date == "2024-12-04"  # DATE OF DECISION, not the embargo date 3rd December
    assert (
        cabinet_2024.title
        == "Outcome of the Ofsted Inspection - Local Authority Children's Services"
    )

    cabinet_2020 = shipped_documents[CABINET_2020]
    assert cabinet_2020.date == "2020-03-23"  # REPORT TO: CABINET 23rd MARCH 2020
    assert cabinet_2020.title.startswith("Findings from Ofsted Inspection of Croydon's Early Help")

    news = shipped_documents[NEWS_2020]
    assert news.date == "2020-03"  # the article states no date; its file name does
    assert news.title == "Ofsted inspection rates Croydon children’s services ‘Good’"

    assert shipped_documents[SCRUTINY_2017].date == "2017"
    assert shipped_documents[SCRUTINY_2017].title == (
        "Update on the Response to the OFSTED Inspection of Children's Services"
    )
    assert shipped_documents[SCRUTINY_2019].date == "2019"


def test_year_property_follows_date(shipped_documents: dict[str, Document]) -> None:
    assert shipped_documents[CABINET_2024].year == 2024
    assert shipped_documents[NEWS_2020].year == 2020


def test_dated_header_field_beats_file_name() -> None:
    text = "REPORT TO:\tCABINET 23rd MARCH 2020\nSUBJECT:\tFindings of the inspection\n\nBody.\n"
    assert extract_metadata("report-2017-01.txt", text).date == "2020-03-23"


def test_field_labelled_date_beats_other_dated_fields() -> None:
    text = "REPORT TO:\tCABINET 23rd MARCH 2020\nDATE OF DECISION\t4th December 2024\n"
    assert date_from_text(text) == "2024-12-04"


def test_dates_in_running_text_are_not_header_dates() -> None:
    text = "Some Title Here For The Report\n\nThe inspection took place on 14th February 2020.\n"
    assert date_from_text(text) is None
    assert extract_metadata("undated.txt", text).date is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("board-2019-06-30.pdf", "2019-06-30"),
        ("reports/news-2020-03-rates-good.txt", "2020-03"),
        ("scrutiny-2017-update.txt", "2017"),
        ("minutes_2021_11.docx", "2021-11"),
        ("2020-13-report.txt", "2020"),  # no month 13: the year alone is still right
        ("no-date-here.txt", None),
        ("case-12345.txt", None),  # a number that is not a year
    ],
)
def test_date_from_file_name(name: str, expected: str | None) -> None:
    assert date_from_name(name) == expected


def test_find_dates_reads_the_forms_councils_write() -> None:
    found = [
        value for _, value in find_dates("On 4th December 2024, in March 2020, and on 2019-06-30.")
    ]
    assert found == ["2024-12-04", "2020-03", "2019-06-30"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [((2024, 2, 29), "2024-02-29"), ((2023, 2, 29), None), ((2020, 13), None), ((2020,), "2020")],
)
def test_partial_iso_rejects_impossible_dates(args: tuple[int, ...], expected: str | None) -> None:
    assert partial_iso(*args) == expected


def test_stated_title_wins_then_text_then_file_name() -> None:
    text = "# Heading In Text\n\nBody text.\n"
    assert extract_metadata("a-file.txt", text, stated_title="  PDF Title  ").title == "PDF Title"
    assert extract_metadata("a-file.txt", text, stated_title="   ").title == "Heading In Text"
    assert (
        extract_metadata("my_report-file.txt", "1.1 just a numbered line.\n").title
        == "My report file"
    )
