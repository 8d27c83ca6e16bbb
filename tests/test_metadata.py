"""Title, organisation, kind and date: read from what the document states, else from its
file name; and the organisations a question names."""

from __future__ import annotations

import csv
import datetime
import json
from pathlib import Path

import pytest

from qa.corpus import DocumentError, load_corpus
from qa.corpus.dates import date_from_name, date_from_text, find_dates, partial_iso
from qa.corpus.files import read_sidecar
from qa.corpus.metadata import Metadata, Overrides, extract_metadata
from qa.corpus.organisations import (
    mentions_other,
    organisation_key,
    organisation_name,
    organisations_in,
    others_in,
)
from qa.types import Document, DocumentKind

from .conftest import (
    CABINET_2020,
    CABINET_2024,
    ILACS,
    NEWS_2020,
    OTHER_COUNCIL,
    SCRUTINY_2017,
    SCRUTINY_2019,
    SHIPPED_CORPUS,
    write_corpus,
)

INSPECTION = DocumentKind.INSPECTION_REPORT
COUNCIL_REPORT = DocumentKind.COUNCIL_REPORT


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


# --- the acceptance table: every shipped, fixture and ILACS document ------------------------------

# (folder, file, title, organisation, kind, date). ILACS reports are dated by the last day of
# the inspection (their text states no publication date); reports.csv is checked below too.
TABLE = [
    ("corpus", CABINET_2020, "Findings from Ofsted Inspection of Croydon's Early Help and Children's Social Care Services", "Croydon", COUNCIL_REPORT, "2020-03-23"),
    ("corpus", CABINET_2024, "Outcome of the Ofsted Inspection - Local Authority Children's Services", "Croydon", COUNCIL_REPORT, "2024-12-04"),
    ("corpus", NEWS_2020, "Ofsted inspection rates Croydon children’s services ‘Good’", "Croydon", DocumentKind.NEWS, "2020-03"),
    ("corpus", SCRUTINY_2017, "Update on the Response to the OFSTED Inspection of Children's Services", "Croydon", DocumentKind.MINUTES, "2017"),
    # Not "Seventh and final Ofsted monitoring visit letter", a bullet of its summary: the
    # report states no title, only its brief ("To review and consider ...").
    ("corpus", SCRUTINY_2019, "Early Help and Children’s Social Care Performance trends June – November 2019", "Croydon", COUNCIL_REPORT, "2019"),
    ("other_council", "northmoor-2023-reinspection.txt", "Outcome of the 2023 inspection of children's services", "Northmoor", COUNCIL_REPORT, "2023-03-21"),
    ("other_council", "northmoor-inspection-children-services.html", "Inspection of Northmoor County Council children's social care services", "Northmoor", INSPECTION, "2021-06-14"),
    ("other_council", "northmoor-scrutiny-progress-update.md", "Children's Scrutiny Committee: progress since the 2021 inspection", "Northmoor", COUNCIL_REPORT, "2022-11-09"),
    ("ilacs", "50004449.pdf", "Oxfordshire County Council: Inspection of local authority children’s services", "Oxfordshire", INSPECTION, "2018-04-20"),
    ("ilacs", "50035108.pdf", "City of Bradford Metropolitan District Council: Inspection of children’s social care services", "Bradford", INSPECTION, "2018-09-28"),
    ("ilacs", "50074949.pdf", "West Sussex County Council: Inspection of local authority children’s services", "West Sussex", INSPECTION, "2019-03-08"),
    ("ilacs", "50074950.pdf", "South Gloucestershire: Inspection of children’s social care services", "South Gloucestershire", INSPECTION, "2019-03-15"),
    ("ilacs", "50083968.pdf", "Hampshire County Council: Inspection of local authority children’s services", "Hampshire", INSPECTION, "2019-05-03"),
    ("ilacs", "50149056.pdf", "London Borough of Croydon: Inspection of children’s social care services", "Croydon", INSPECTION, "2020-02-14"),
    ("ilacs", "50176759.pdf", "Inspection of Sutton local authority children’s services", "Sutton", INSPECTION, "2021-12-10"),
    ("ilacs", "50200026.pdf", "Inspection of West Northamptonshire local authority children’s services", "West Northamptonshire", INSPECTION, "2022-10-14"),
    ("ilacs", "50206434.pdf", "Inspection of City of Bradford Metropolitan Borough Council local authority children’s services", "Bradford", INSPECTION, "2022-12-02"),
    ("ilacs", "50216276.pdf", "Inspection of West Sussex local authority children’s services", "West Sussex", INSPECTION, "2023-03-24"),
    ("ilacs", "50243682.pdf", "Inspection of Oxfordshire local authority children’s services", "Oxfordshire", INSPECTION, "2024-02-23"),
    ("ilacs", "50253183.pdf", "Inspection of Hampshire local authority children’s services", "Hampshire", INSPECTION, "2024-06-14"),
    ("ilacs", "50253185.pdf", "Inspection of South Gloucestershire local authority children’s services", "South Gloucestershire", INSPECTION, "2024-06-14"),
    ("ilacs", "50263391.pdf", "Inspection of Croydon local authority children’s services", "Croydon", INSPECTION, "2024-10-25"),
    ("ilacs", "50283346.pdf", "Inspection of London Borough of Sutton local authority children’s services", "Sutton", INSPECTION, "2025-06-20"),
    ("ilacs", "50302265.pdf", "Inspection of Bradford Children and Families Trust", "Bradford", INSPECTION, "2026-01-23"),
    ("ilacs", "50306547.pdf", "Inspection of West Northamptonshire local authority children’s services", "West Northamptonshire", INSPECTION, "2026-05-22"),
]  # fmt: skip


@pytest.fixture(scope="module")
def loaded_documents() -> dict[str, dict[str, Document]]:
    """Each folder of the table as the product reads it (``load_corpus``), loaded once."""
    folders = {"corpus": SHIPPED_CORPUS, "other_council": OTHER_COUNCIL}
    if (ILACS / "reports").is_dir():
        folders["ilacs"] = ILACS / "reports"
    loaded = {}
    for name, folder in folders.items():
        corpus = load_corpus(folder)
        assert not corpus.errors, corpus.errors
        loaded[name] = {document.source: document for document in corpus.documents}
    return loaded


def read_as_product(document: Document) -> Metadata:
    """Organisation and kind as ``read_document`` reads them: same text, same title."""
    return extract_metadata(document.source, document.text, stated_title=document.title)


@pytest.mark.parametrize(
    ("folder", "name", "title", "organisation", "kind", "date"),
    [
        pytest.param(*row, id=row[1], marks=[pytest.mark.slow] if row[0] == "ilacs" else [])
        for row in TABLE
    ],
)
def test_title_organisation_kind_and_date_are_read_from_each_document(
    loaded_documents: dict[str, dict[str, Document]],
    folder: str,
    name: str,
    title: str,
    organisation: str,
    kind: DocumentKind,
    date: str,
) -> None:
    if folder not in loaded_documents:
        pytest.skip(f"the ILACS reports are not at {ILACS / 'reports'}")
    document = loaded_documents[folder][name]
    metadata = read_as_product(document)
    assert (document.title, metadata.organisation, metadata.kind, document.date) == (
        title,
        organisation,
        kind,
        date,
    )


def test_the_table_agrees_with_the_ilacs_facts_file() -> None:
    if not (ILACS / "reports.csv").is_file():
        pytest.skip(f"the ILACS facts file is not at {ILACS / 'reports.csv'}")
    with (ILACS / "reports.csv").open(encoding="utf-8") as handle:
        facts = {row["file"]: row for row in csv.DictReader(handle)}
    rows = [row for row in TABLE if row[0] == "ilacs"]
    assert {row[1] for row in rows} == set(facts)
    for _, name, _, organisation, _, date in rows:
        end = datetime.datetime.strptime(facts[name]["inspection_end_date"], "%d/%m/%Y")
        assert organisation_key(organisation) == organisation_key(facts[name]["local_authority"])
        assert date == end.date().isoformat()


# --- rules, on invented documents ----------------------------------------------------------------

COVER_LINES = [
    "Inspection of London Borough of",
    "Sutton local authority children’s",
    "services",
    "Inspection dates: 16 June to 20 June 2025",
    "Lead inspector: A Name, His Majesty’s Inspector",
    "Judgement Grade",
]


@pytest.mark.parametrize(
    "cover",
    [
        "\n".join(COVER_LINES),  # pypdf: one printed line per line
        "\n\n".join(COVER_LINES),  # blank lines between
        " ".join(COVER_LINES[:3]) + "\n" + "\n".join(COVER_LINES[3:]),  # the title on one line
    ],
)
def test_inspection_cover_reads_the_same_however_its_lines_are_broken(cover: str) -> None:
    metadata = extract_metadata("50283346.pdf", cover + "\n\nBody text of the report.\n")
    assert metadata == Metadata(
        title="Inspection of London Borough of Sutton local authority children’s services",
        date="2025-06-20",
        organisation="Sutton",
        kind=INSPECTION,
    )


def test_older_cover_joins_the_council_above_its_generic_heading() -> None:
    text = (
        "1\n\nHampshire County Council\n\nInspection of local authority children’s services\n\n"
        "Inspection dates: 29 April 2019 to 3 May 2019\n\nLead inspector: A Name\n"
    )
    metadata = extract_metadata("50083968.pdf", text)
    assert metadata.title == (
        "Hampshire County Council: Inspection of local authority children’s services"
    )
    assert metadata.organisation == "Hampshire"
    assert metadata.date == "2019-05-03"  # the end of the range, not its start


def test_cover_beats_a_pdf_title_left_over_from_a_template() -> None:
    text = "Inspection of Bradford local authority children’s services\nInspection dates: 1 to 5 May 2023\n"
    assert (
        extract_metadata("x.pdf", text, stated_title="Wakefield standard inspection report").title
        == "Inspection of Bradford local authority children’s services"
    )


def test_a_bullet_is_never_a_title() -> None:
    text = (
        "BRIEF FOR THE COMMITTEE:\n\n"
        "This report provides an update, including:\n"
        "\uf0b7 Performance trends across services\n"
        "\uf0b7 Seventh and final Ofsted monitoring visit letter\n\n"
        "2. DETAIL\n"
    )
    assert extract_metadata("scrutiny-2019.txt", text).title == "Scrutiny 2019"


def test_a_report_without_a_title_is_titled_by_its_stated_purpose() -> None:
    text = (
        "PURPOSE OF REPORT:\nTo update members on the progress of the fostering\n"
        "recruitment campaign.\n\n1. SUMMARY\n"
    )
    assert (
        extract_metadata("report.txt", text).title
        == "The progress of the fostering recruitment campaign"
    )


LETTER = """Ofsted
Piccadilly Gate
Manchester M1 2WD

14 December 2019

Jane Smith
Director of Children's Services
Croydon Council

Dear Jane

Monitoring visit to Croydon children’s services

This letter summarises the findings of the monitoring visit to Croydon.

Yours sincerely

A Name
Her Majesty’s Inspector
"""


def test_letter_is_titled_by_its_subject_line_and_dated_by_its_date_line() -> None:
    assert extract_metadata("20191213.pdf", LETTER) == Metadata(
        title="Monitoring visit to Croydon children’s services",
        date="2019-12-14",
        organisation="Croydon",
        kind=DocumentKind.LETTER,
    )


def test_minutes_are_told_by_what_the_committee_did() -> None:
    text = (
        "Agenda item\n\nFostering update\n\nThe Committee heard that carers were recruited. "
        "Members asked about training. The Committee noted the report.\n"
    )
    assert extract_metadata("minutes.txt", text).kind == DocumentKind.MINUTES


def test_a_text_with_no_known_conventions_is_other_and_about_no_organisation() -> None:
    metadata = extract_metadata("note.txt", "Notes on a visit\n\nWe met three families.\n")
    assert (metadata.kind, metadata.organisation) == (DocumentKind.OTHER, None)


def test_organisation_is_the_authority_named_most_on_the_first_pages() -> None:
    text = (
        "LONDON BOROUGH OF SUTTON\n\nREPORT TO: Cabinet\n\n"
        "Sutton's children are safer. Our peers in Croydon Council and Merton Council agree.\n"
    )
    assert extract_metadata("report.txt", text).organisation == "Sutton"


@pytest.mark.parametrize(
    ("written", "display"),
    [
        ("London Borough of Croydon", "Croydon"),
        ("LONDON BOROUGH OF CROYDON", "Croydon"),
        ("City of Bradford Metropolitan District Council", "Bradford"),
        ("Bradford Children and Families Trust", "Bradford"),
        ("NORTHMOOR COUNTY COUNCIL", "Northmoor"),
        ("West Sussex County Council", "West Sussex"),
        ("Royal Borough of Kingston upon Thames", "Kingston upon Thames"),
        ("Isle of Wight Council", "Isle of Wight"),
        ("STOKE-ON-TRENT CITY COUNCIL", "Stoke-on-Trent"),
        ("Brighton & Hove City Council", "Brighton & Hove"),
        ("the Council", None),
    ],
)
def test_organisation_names_drop_the_type_of_authority(written: str, display: str | None) -> None:
    assert organisation_name(written) == display


def test_organisation_key_matches_every_spelling_of_one_council() -> None:
    spellings = ["Brighton & Hove", "Brighton and Hove City Council", "BRIGHTON & HOVE'S"]
    assert {organisation_key(name) for name in spellings} == {"brighton and hove"}


KNOWN = ["Bradford", "West Sussex", "Sutton", "West Northamptonshire", "Northamptonshire"]


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("How did Bradford's judgement change?", ("Bradford",)),
        ("What do Sutton’s care leavers say about their accommodation?", ("Sutton",)),
        ("Compare help and protection in west sussex and in Bradford", ("West Sussex", "Bradford")),
        ("Is the City of Bradford Metropolitan District Council improving?", ("Bradford",)),
        ("What did inspectors find in West Northamptonshire?", ("West Northamptonshire",)),
        ("Which councils were judged inadequate?", ()),
        ("What did Suttonford residents say?", ()),  # a word that merely contains a name
    ],
)
def test_organisations_named_in_a_question(question: str, named: tuple[str, ...]) -> None:
    assert organisations_in(question, KNOWN) == named


@pytest.mark.parametrize(
    ("question", "others"),
    [
        ("What grades did North Northamptonshire receive?", ("North Northamptonshire",)),
        ("How was Northamptonshire County Council judged in 2019?", ("Northamptonshire",)),
        ("Has East Sussex improved as much as West Sussex?", ("East Sussex",)),
        ("Has West Sussex improved?", ()),  # a known organisation
        ("West Sussex has improved?", ()),  # at the start of the question too
        ("Did Croydon Council improve?", ()),  # shares no word with a known one
        ("What did Ofsted say about Bradford Children and Families Trust?", ()),
    ],
)
def test_places_spelled_like_a_known_organisation_are_told_apart(
    question: str, others: tuple[str, ...]
) -> None:
    known = ["Bradford", "West Sussex", "West Northamptonshire"]
    assert others_in(question, known) == others


@pytest.mark.parametrize(
    ("text", "mentioned"),
    [
        ("The predecessor authority, Northamptonshire County Council, was inadequate.", True),
        ("Services in West Northamptonshire have improved.", False),  # the known council
        ("The trust works for West Northamptonshire and North Northamptonshire.", False),
        ("NORTHAMPTONSHIRE\nCounty Council's services were judged in 2019.", True),
    ],
)
def test_a_passage_mentions_a_place_only_outside_the_known_organisations_names(
    text: str, mentioned: bool
) -> None:
    assert mentions_other(text, ["Northamptonshire"], ["West Northamptonshire"]) is mentioned


def test_sidecar_overrides_organisation_and_kind_in_their_normal_forms(tmp_path: Path) -> None:
    root = write_corpus(
        tmp_path,
        {
            "letter.txt": "Some text.\n",
            "letter.txt.meta.json": json.dumps(
                {"organisation": "London Borough of Sutton", "kind": "Letter"}
            ),
        },
    )
    overrides = read_sidecar(root / "letter.txt")
    assert overrides == Overrides(organisation="Sutton", kind=DocumentKind.LETTER)
    metadata = extract_metadata("letter.txt", LETTER, overrides=overrides)
    assert (metadata.organisation, metadata.kind) == ("Sutton", DocumentKind.LETTER)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"kind": "memo"}', "kind must be one of 'inspection report'"),
        ('{"organisation": "The Council"}', "organisation must name a council or body"),
        ('{"organisation": 7}', "organisation must name a council or body"),
    ],
)
def test_sidecar_with_an_unknown_kind_or_organisation_says_why(
    tmp_path: Path, content: str, reason: str
) -> None:
    root = write_corpus(tmp_path, {"a.txt": "Text.\n", "a.txt.meta.json": content})
    with pytest.raises(DocumentError, match=reason):
        read_sidecar(root / "a.txt")
