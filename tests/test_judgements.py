"""Judgements read from documents: every grade a report states, in each form it states it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.chunking import chunk_document
from qa.features.judgements.asked import aspect_coverage, distinctive_rows, main_clause
from qa.features.judgements.extract import Form, Grade, extract_judgements, read_grade
from qa.features.judgements.stage import graded_in
from qa.features.judgements.timeline import Entry, Row, direction
from qa.pipeline.timeframe import Side
from qa.search import Searcher
from qa.types import Document

from .conftest import (
    CABINET_2020,
    CABINET_2024,
    NEWS_2020,
    SCRUTINY_2017,
    SCRUTINY_2019,
)

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
    assert [p.form for p in care.places] == [Form.HEADING, Form.LIST, Form.TABLE]
    for place in care.places:
        assert "children in care" in document.text[place.start : place.end]
    quoted = care.places[0]  # a heading reads as a sentence; a table row needs its table
    assert document.text[quoted.start : quoted.end] == (
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


NORTHMOOR_TABLE = (
    "Judgement\tGrade\n"
    "The experiences and progress of children in care\tGood\n"
    "The experiences and progress of care leavers\tRequires improvement to be good\n"
)


@pytest.mark.parametrize(
    ("paper_date", "inspection_statement", "inspection"),
    [
        # The paper's prose names the day the inspection concluded, in the paper's year.
        (
            "2025-12-09",
            "1. The inspection which concluded on 14th November 2025 judged Northmoor's overall "
            "effectiveness as 'Good'.",
            "2025-11-14",
        ),
        # The report's "Inspection dates" line, copied into a paper of the following year.
        ("2026-01-09", "Inspection dates: 3 to 14 November 2025", "2025-11-14"),
        # Prose saying when the inspection ended, in no grade sentence and no field.
        (
            "2020-03-23",
            "1. Ofsted completed seven monitoring visits and a full re-inspection of "
            "Northmoor's services took place between 27th January and 14th February 2020.",
            "2020-02-14",
        ),
        ("2026-01-09", "1. The inspection concluded on 14th November 2025.", "2025-11-14"),
        # A monitoring visit is not the inspection; the table keeps the paper's date.
        (
            "2025-12-09",
            "1. Since the last inspection, the seventh monitoring visit concluded on 4 June 2025.",
            "2025-12-09",
        ),
        # Nor is an inspection of years before the paper's.
        ("2025-12-09", "1. The 2022 inspection concluded on 14 May 2022.", "2025-12-09"),
    ],
)
def test_a_grade_table_is_dated_as_the_inspection_its_document_says_it_was(
    paper_date: str, inspection_statement: str, inspection: str
) -> None:
    """A reader of the judgement table sees one inspection dated once, by the inspection,
    not by the paper reporting it; a grade of an earlier inspection keeps its own year."""
    text = (
        "Report to Cabinet\n\nOfsted inspection outcome\n\n"
        f"{inspection_statement}\n\n"
        "2. The Ofsted inspection in 2022 judged the service as 'Inadequate'.\n\n"
        f"{NORTHMOOR_TABLE}"
    )
    document = Document("cabinet.txt", "Inspection outcome", paper_date, "h", "txt", text=text)
    dated = {(j.aspect, j.inspection) for j in extract_judgements(document, [])}
    assert ("the service", "2022") in dated
    assert ("The experiences and progress of children in care", inspection) in dated
    assert ("The experiences and progress of care leavers", inspection) in dated


def test_good_in_ordinary_prose_is_not_a_grade(shipped_documents: dict[str, Document]) -> None:
    document = shipped_documents[CABINET_2024]
    for judgement in extract_judgements(document, chunk_document(document)):
        for place in judgement.places:
            assert "good quality" not in document.text[place.start : place.end]
    assert judgements_of(shipped_documents[SCRUTINY_2017]) == []
    assert judgements_of(shipped_documents[SCRUTINY_2019]) == [
        ("children’s services", Grade.INADEQUATE, 2017)
    ]


# --- across documents and dates, and the answers ---------------------------------------------


@pytest.mark.slow
def test_the_judgement_table_links_aspects_across_frameworks_and_names_the_change(
    real_searcher: Searcher,
) -> None:
    rows = {row.aspect: row for row in real_searcher.judgements.rows(real_searcher.snapshot)}
    help_row = rows["The experiences and progress of children who need help and protection"]
    assert [(e.year, e.grade) for e in help_row.entries] == [
        (2020, Grade.GOOD),
        (2024, Grade.REQUIRES_IMPROVEMENT),
    ]
    assert "Children in need of help and protection" in help_row.wordings
    assert direction(help_row.entries) == "declined"
    overall = rows["Overall effectiveness"]
    assert [(e.year, e.grade) for e in overall.entries][:2] == [
        (2017, Grade.INADEQUATE),
        (2020, Grade.GOOD),
    ]
    assert all(row.organisation == "Croydon" for row in rows.values())


@pytest.mark.slow
def test_a_question_about_a_grade_change_states_both_grades_oldest_first(
    real_searcher: Searcher,
) -> None:
    answer = real_searcher.search(
        "How did the judgement for children who need help and protection change between 2020"
        " and 2024?"
    )
    assert "Good (" in answer.statement and "Requires improvement to be good (" in answer.statement
    assert answer.statement.index("Good (") < answer.statement.index("Requires improvement")
    assert answer.statement.rstrip(".").endswith("declined")
    first, second = answer.sentences[:2]
    assert first.text == "Children in need of help and protection – 'Good'"
    assert second.text == (
        "The experiences and progress of children who need help and protection:"
        " requires improvement to be good"
    )
    for sentence in answer.sentences:
        hit = next(h for h in answer.hits if h.rank == sentence.rank)
        document = real_searcher.snapshot.documents[sentence.source]
        assert document.text[sentence.start : sentence.end] == sentence.text
        assert hit.chunk.start <= sentence.start and sentence.end <= hit.chunk.end


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "graded"),
    [
        ("Did help and protection improve between 2020 and 2024?", True),
        ("Has help and protection declined since 2020?", True),
        # A list of areas "for improvement", or of changes made, is not a grade's change.
        ("Was accommodation for care leavers flagged for improvement in 2020 and 2024?", False),
        ("What leadership and governance changes followed the 2017 Ofsted inspection?", False),
    ],
)
def test_a_change_of_a_graded_aspect_is_answered_from_grades_without_a_grade_word(
    real_searcher: Searcher, question: str, graded: bool
) -> None:
    answer = real_searcher.search(question)
    assert ("→" in answer.statement) is graded, answer.statement
    if graded:
        assert answer.statement.rstrip(".").endswith("declined")


@pytest.mark.parametrize(
    ("question", "kept"),
    [
        (
            "How overloaded were practitioners before the borough was judged failing?",
            "How overloaded were practitioners ",
        ),
        (
            "Once the borough climbs off the bottom grade, does the minister lift the order?",
            " does the minister lift the order?",
        ),
        (
            "What kind of inspection did Croydon need in order to get rid of its inadequate rating?",
            "What kind of inspection did Croydon need ",
        ),
        ("When was Croydon judged inadequate, and when did it get out of that rating?", None),
        ("How has the judgement for help and protection changed since 2020?", None),
    ],
)
def test_a_grade_word_in_a_scene_setting_clause_is_not_what_is_asked(
    question: str, kept: str | None
) -> None:
    clause = main_clause(question)
    if kept is None:
        assert "judge" in clause
    else:
        assert clause == kept


@pytest.mark.slow
def test_a_question_that_only_mentions_a_grade_is_answered_from_passages(
    real_searcher: Searcher,
) -> None:
    answer = real_searcher.search(
        "How overloaded were frontline practitioners during the decade of cuts before the "
        "borough was judged failing?"
    )
    assert answer.statement == ""
    assert all("effectiveness" not in s.text for s in answer.sentences)


@pytest.mark.parametrize(
    ("question", "statement", "quoted"),
    [
        ("How good is the service for homeless 16 and 17 year olds these days?", "", "homeless"),
        # "judge" introduces "how good ..."; the casework is not graded: the 2019 report answers
        (
            "Does the 2019 update to councillors judge how good the casework is?",
            "",
            "monitoring visit",
        ),
        (
            "How good are Croydon's children's services now?",
            "Croydon: Overall effectiveness: Good",
            "",
        ),
        (
            "How good is help and protection in Croydon?",
            "Croydon: The experiences and progress",
            "",
        ),
    ],
)
def test_how_good_asks_for_a_grade_only_of_something_graded(
    real_searcher: Searcher, question: str, statement: str, quoted: str
) -> None:
    answer = real_searcher.search(question)
    assert answer.statement.startswith(statement)
    if quoted:  # not graded: its passages answer, and nothing says the corpus lacks a grade
        assert not answer.low_confidence and not answer.missing
        assert any(quoted in " ".join(s.text.split()) for s in answer.sentences)


@pytest.mark.slow
def test_a_question_about_a_grade_without_a_year_gets_the_latest(real_searcher: Searcher) -> None:
    answer = real_searcher.search(
        "What did Ofsted judge the experiences and progress of care leavers?"
    )
    assert answer.sentences[0].text == "The experiences and progress of care leavers: good"
    assert "(25 October 2024)" in answer.statement  # the inspection's date, not the paper's


@pytest.mark.slow
def test_a_question_whether_a_grade_still_holds_quotes_the_latest_first(
    real_searcher: Searcher,
) -> None:
    answer = real_searcher.search("Is Croydon's children's social care still rated inadequate?")
    assert answer.statement.startswith("Croydon: Overall effectiveness: Inadequate (2017)")
    assert "Good (25 October 2024)" in answer.statement
    assert answer.statement.endswith(": improved.")
    assert answer.sentences[0].text == "Overall effectiveness – **'Good'**"
    assert answer.sentences[-1].source == "cabinet-2020-03-ofsted-inspection-findings.txt"


@pytest.mark.slow
def test_qa_judgements_lists_each_aspect_with_its_citations(
    real_searcher: Searcher, capsys: pytest.CaptureFixture[str]
) -> None:
    from qa.cli import main

    settings = real_searcher.settings
    flags = ["--corpus", str(settings.corpus), "--index", str(settings.index)]
    assert main(["judgements", "--json", *flags]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    help_record = next(r for r in records if "help and protection" in r["aspect"])
    assert [i["grade"] for i in help_record["inspections"]] == [
        "Good",
        "Requires improvement to be good",
    ]
    assert help_record["change"] == "declined"
    statement = help_record["inspections"][0]["statements"][0]
    text = real_searcher.snapshot.documents[statement["source"]].text
    assert "Good" in text[statement["start"] : statement["end"]]
    assert statement["citation"].startswith("Findings from Ofsted Inspection")


def row(organisation: str, wording: str, *entries: Entry) -> Row:
    return Row(organisation, wording, (wording,), entries)


def entry(grade: Grade, inspected: str) -> Entry:
    return Entry(grade, inspected, (), ())


def test_an_aspect_named_by_one_word_no_other_aspect_of_its_council_uses_is_found() -> None:
    rows = [
        row("Sutton", "Overall effectiveness"),
        row("Sutton", "The impact of leaders on social work practice with children and families"),
        row("Sutton", "The experiences and progress of children in care"),
        row("Bradford", "The impact of leaders on social work practice with children and families"),
        row("Bradford", "The experiences and progress of children in care"),
    ]
    question = "Did Sutton keep its outstanding grade for leadership at the 2025 inspection?"
    assert distinctive_rows(rows, [0, 1, 2], question) == [1]
    assert distinctive_rows(rows, [0, 1, 2, 3, 4], "How good is leadership?") == [1, 3]
    # "children" is in several aspects' wordings: it names none of them
    assert distinctive_rows(rows, [0, 1, 2], "How are children in Sutton doing?") == []
    # "children's social care" names the whole service, not the aspect of children in care
    question = "Is Sutton's children's social care still rated inadequate?"
    assert distinctive_rows(rows, [0, 1, 2], question) == []
    coverage = aspect_coverage(rows[:3], question)
    assert max(coverage) == 0.0


def test_a_year_is_graded_by_the_inspection_in_it_else_by_the_report_published_in_it() -> None:
    december = entry(Grade.INADEQUATE, "2022-12-02")
    later = entry(Grade.GOOD, "2024-05-10")
    in_2023 = Side("2023", 2023, 2023)
    assert graded_in(in_2023, [december, later]) == [december]  # published January 2023
    assert graded_in(Side("2022", 2022, 2022), [december, later]) == [december]
    march = entry(Grade.GOOD, "2023-03-20")
    assert graded_in(in_2023, [december, march]) == [march]  # inspected in 2023 comes first
    assert graded_in(Side("2021", 2021, 2021), [december, later]) == []


@pytest.mark.parametrize(
    ("question", "statement"),
    [
        (
            "Which councils were judged requires improvement to be good overall?",
            "Northmoor: Overall effectiveness: Requires improvement to be good (14 June 2021)",
        ),
        (
            "Which council went from inadequate to good for overall effectiveness?",
            "Croydon: Overall effectiveness: Inadequate (2017) [{}] → Good (14 February 2020)",
        ),
        (
            "Which local authorities had help and protection judged good at their latest "
            "inspection?",
            "Northmoor: The experiences and progress of children who need help and protection: "
            "Good (14 June 2021)",
        ),
    ],
)
def test_which_councils_were_given_a_grade_is_answered_with_those_councils_alone(
    two_councils: Searcher, question: str, statement: str
) -> None:
    answer = two_councils.search(question, k=10)
    assert not answer.low_confidence
    named = [line.split(":")[0] for line in answer.statement.split(". ") if line]
    assert named == [statement.split(":")[0]]  # one council: the other was not so graded
    before, _, after = statement.partition("[{}]")
    assert answer.statement.startswith(before)
    assert after in answer.statement
    # each grade is quoted from a passage shown
    assert all(s.rank <= len(answer.hits) for s in answer.sentences)


def test_which_councils_were_given_a_grade_none_was_says_so(two_councils: Searcher) -> None:
    answer = two_councils.search(
        "Which councils were judged inadequate at their latest inspection?"
    )
    assert answer.low_confidence
    assert answer.sentences == ()
    assert (
        "No organisation in the corpus was graded Inadequate for Overall effectiveness at its "
        "latest inspection." in answer.missing
    )


def test_every_councils_overall_grade_answers_a_question_naming_none(
    two_councils: Searcher,
) -> None:
    answer = two_councils.search("What was the overall effectiveness grade?", k=10)
    assert answer.statement.startswith("Croydon: Overall effectiveness:")
    assert "Northmoor: Overall effectiveness: Requires improvement to be good" in answer.statement


def test_a_place_spelled_like_a_council_of_the_corpus_gets_none_of_its_grades(
    two_councils: Searcher,
) -> None:
    answer = two_councils.search("What overall grade did North Northmoor get?", k=10)
    assert "Northmoor:" not in answer.statement
    assert answer.statement == ""
    # no passage names North Northmoor beside a grade: nothing is quoted, and the answer says so
    assert answer.low_confidence and not answer.sentences
    assert "No passage found states a grade given to North Northmoor." in answer.missing
