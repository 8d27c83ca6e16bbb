"""Answer-level measures and records against gold, on tiny hand-made answers and records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.evaluation import records
from qa.evaluation.answers import (
    AnswerOutcome,
    answer_figures,
    judge_answer,
    summarise_answers,
)
from qa.evaluation.metrics import OVERALL, covers, first_cover_ranks
from qa.evaluation.reference import (
    Evidence,
    Question,
    QuestionType,
    Quote,
    ReferenceSetError,
    load_reference_set,
)
from qa.features.judgements.extract import Form, Grade, Judgement, Place
from qa.features.recommendations import Recommendation, TrackedRecommendation
from qa.types import Answer, AnswerSentence, Chunk, Document, Status

ROOT = Path(__file__).resolve().parents[1]

GOOD = Evidence(
    "report.txt",
    "Overall effectiveness: good",
    period="2024",
    alternatives=(Quote("cabinet.txt", "Overall effectiveness – 'Good'"),),
)
INADEQUATE = Evidence("old.txt", "judged services as inadequate", period="2017")


def sentence(source: str, text: str, rank: int = 1) -> AnswerSentence:
    return AnswerSentence(text, rank, source, 0, len(text))


def answer(*sentences: AnswerSentence, low: bool = False, missing: tuple[str, ...] = ()) -> Answer:
    return Answer("?", (), low_confidence=low, sentences=sentences, missing=missing)


def grade_question(**fields: object) -> Question:
    values: dict[str, object] = {
        "answer": ("good",),
        "answer_excludes": ("requires improvement", "inadequate"),
    }
    values.update(fields)
    kind = QuestionType.JUDGEMENT
    return Question("q", "What grade in 2024?", kind, (GOOD,), **values)  # type: ignore[arg-type]


def test_a_first_sentence_holding_the_quote_is_right_first_and_anywhere() -> None:
    outcome = judge_answer(
        grade_question(),
        answer(
            sentence("report.txt", "Overall   effectiveness: good."),
            sentence("report.txt", "Leaders know their services well."),
        ),
    )
    assert (outcome.first_quote, outcome.any_quote, outcome.answer_right, outcome.right) == (
        True,
        True,
        True,
        True,
    )
    assert outcome.first_sentence == "Overall effectiveness: good." and outcome.sentences == 2


def test_a_quote_in_a_later_sentence_counts_anywhere_but_not_first() -> None:
    outcome = judge_answer(
        grade_question(answer=()),
        answer(
            sentence("report.txt", "Inspection of the local authority"),
            sentence("report.txt", "Overall effectiveness: good"),
        ),
    )
    assert (outcome.first_quote, outcome.any_quote) == (False, True)
    assert outcome.answer_right is None and outcome.right is False  # right = first quote here


def test_an_alternative_quote_counts_for_answers_and_for_retrieval() -> None:
    stated = sentence("cabinet.txt", "Overall effectiveness – 'Good'")
    assert judge_answer(grade_question(), answer(stated)).first_quote
    passages = [
        Chunk("other.txt", 0, 30, "Overall effectiveness – 'Good'", None, None),
        Chunk("cabinet.txt", 0, 30, "Overall effectiveness – 'Good'", None, None),
    ]
    assert not covers(passages[0], GOOD) and covers(passages[1], GOOD)
    assert first_cover_ranks(passages, [GOOD]) == (2,)  # the item counts once, at rank 2


def test_a_quote_holds_mid_sentence_whatever_the_case_of_its_first_letter() -> None:
    """A gold quote starting a sentence ("Children aged 16 and 17 ...") is the same words in
    the report's other statement of the fact ("Inspectors found that children aged 16 ...")."""
    homeless = Evidence("report.txt", "Children aged 16 and 17 years who present as homeless")
    question = Question("q", "How good is the homeless service?", QuestionType.CURRENT, (homeless,))
    found = "Inspectors found that children aged 16 and  17 years who present as homeless receive"
    assert judge_answer(question, answer(sentence("report.txt", found))).first_quote
    assert covers(Chunk("report.txt", 0, len(found), found, None, None), homeless)
    other = "Inspectors found that children aged 16 and 17 years who are homeless receive"
    assert not judge_answer(question, answer(sentence("report.txt", other))).any_quote


def test_the_quote_must_come_from_its_own_document() -> None:
    moved = sentence("elsewhere.txt", "Overall effectiveness: good")
    assert not judge_answer(grade_question(), answer(moved)).any_quote


def test_an_excluded_grade_in_the_first_sentence_makes_the_answer_wrong() -> None:
    wrong = sentence("report.txt", "Help and protection: requires improvement to be good")
    outcome = judge_answer(grade_question(), answer(wrong))
    assert outcome.answer_right is False and outcome.right is False
    assert judge_answer(grade_question(), answer()).answer_right is False  # nothing said


def test_a_comparison_needs_a_sentence_for_every_period() -> None:
    change = Question(
        "c",
        "How did the grade change since 2017?",
        QuestionType.JUDGEMENT,
        (INADEQUATE, GOOD),
        periods=("2017", "2024"),
        tags=("judgement_change",),
    )
    both = judge_answer(
        change,
        answer(
            sentence("old.txt", "In 2017 Ofsted judged services as inadequate."),
            sentence("cabinet.txt", "Overall effectiveness – 'Good'"),
        ),
    )
    assert both.periods_complete is True and both.uncovered == () and both.right
    one = judge_answer(change, answer(sentence("report.txt", "Overall effectiveness: good")))
    assert one.periods_complete is False and one.uncovered == ("2017",) and not one.right


def test_unanswerable_questions_are_right_when_flagged_and_a_silent_answer_is_not_a_flag() -> None:
    unanswerable = Question(
        "u", "What happened in 2022?", QuestionType.UNANSWERABLE, (), missing=("2022",)
    )
    assert judge_answer(unanswerable, answer(low=True)).right
    # A note beside an answer (a period the corpus lacks among several asked) is not a refusal:
    # only an answer that says the corpus cannot answer counts as flagged.
    noted = answer(
        sentence("report.txt", "Overall effectiveness: good"),
        missing=("No document in the corpus is dated 2022.",),
    )
    assert not judge_answer(unanswerable, noted).flagged
    silent = judge_answer(unanswerable, answer())
    assert not silent.flagged and not silent.right
    falsely = judge_answer(grade_question(), answer(low=True))
    assert falsely.flagged and not falsely.right


def test_figures_count_each_measure_over_its_own_questions() -> None:
    unanswerable = Question(
        "u", "2022?", QuestionType.UNANSWERABLE, (), tags=("year_without_report",)
    )
    judged = [
        (
            grade_question(),
            judge_answer(
                grade_question(), answer(sentence("report.txt", "Overall effectiveness: good"))
            ),
        ),
        (grade_question(), judge_answer(grade_question(), answer(low=True))),
        (unanswerable, judge_answer(unanswerable, answer(low=True))),
    ]
    overall = answer_figures(OVERALL, judged)
    assert (overall.answerable, overall.first_quote, overall.with_answer, overall.answer_right) == (
        2,
        1,
        2,
        1,
    )
    assert (overall.unanswerable, overall.flagged, overall.falsely_flagged) == (1, 1, 1)
    assert (overall.right, overall.questions, overall.comparisons) == (2, 3, 0)
    summary = summarise_answers(judged)
    assert [f.group for f in summary.types] == ["judgement", "unanswerable", OVERALL]
    assert [(f.group, f.flagged, f.unanswerable) for f in summary.tags] == [
        ("year_without_report", 1, 1)
    ]


# --- reference fields


def test_the_optional_fields_are_read_and_malformed_ones_named(tmp_path: Path) -> None:
    good = {
        "id": "q1",
        "question": "Grade?",
        "type": "judgement",
        "evidence": [
            {
                "document": "a.txt",
                "quote": "Good",
                "period": "2024",
                "alternatives": [{"document": "b.txt", "quote": "rated good"}],
            }
        ],
        "answer": ["good"],
        "answer_excludes": ["inadequate"],
        "periods": ["2024"],
        "tags": ["judgement_change"],
    }
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(good) + "\n", encoding="utf-8")
    (question,) = load_reference_set(path)
    assert question.evidence[0].quotes == (Quote("a.txt", "Good"), Quote("b.txt", "rated good"))
    assert (question.answer, question.periods, question.tags) == (
        ("good",),
        ("2024",),
        ("judgement_change",),
    )
    broken = {**good, "id": "q2", "answer": "good", "periods": ["2020"]}
    item = {"document": "a.txt", "quote": "Good", "alternatives": [{"quote": "no document"}]}
    broken["evidence"] = [item]
    path.write_text(json.dumps(broken) + "\n", encoding="utf-8")
    with pytest.raises(ReferenceSetError) as error:
        load_reference_set(path)
    message = str(error.value)
    assert "q2: 'answer' must be a list of non-empty strings" in message
    assert "q2: periods ['2020'] tag no evidence item" in message
    assert "every alternative needs 'document' and a non-empty 'quote'" in message


# --- records against gold


def document(source: str, text: str) -> Document:
    return Document(source, "Title", "2024-10", "hash", "text", text=text)


def judgement(
    source: str, aspect: str, grade: Grade, inspection: str, start: int, end: int
) -> Judgement:
    return Judgement(
        source,
        "A report",
        inspection,
        aspect,
        grade,
        inspection,
        (Place(None, None, None, None, start, end, Form.HEADING),),
    )


def test_a_judgement_is_found_by_grade_year_and_aspect_or_by_where_it_is_stated() -> None:
    text = "The experiences and progress of children who need help and\nprotection: good\n"
    documents = {"r.pdf": document("r.pdf", text)}
    gold = [
        records.GoldJudgement(
            "r.pdf",
            "The experiences and progress of children who need help and protection",
            "Good",
            2024,
            ("protection: good",),
        ),
        records.GoldJudgement(
            "r.pdf", "Overall effectiveness", "Good", 2024, ("Overall effectiveness Good",)
        ),
        records.GoldJudgement(
            "r.pdf",
            "The experiences and progress of children in care",
            "Requires improvement to be good",
            2024,
            ("not in the text",),
        ),
    ]
    in_care = judgement("r.pdf", "Children in  care", Grade.REQUIRES_IMPROVEMENT, "2024", 0, 3)
    # The heading is split over two lines: the record's aspect is not the gold one, but it
    # states the grade where the gold quote is.
    fragment = judgement("r.pdf", "Children needing support", Grade.GOOD, "2024-10", 59, 75)
    wrong_year = judgement("r.pdf", "Overall effectiveness", Grade.GOOD, "2020-02", 0, 10)
    found = [fragment, wrong_year, in_care]
    score = records.score_judgements(gold, found, documents, "gold.jsonl")
    assert (score.gold, score.found, score.extra) == (3, 2, 1)
    assert score.misses == ("r.pdf: Overall effectiveness — Good (2024)",)
    assert score.status_right is None


def test_a_recommendation_is_found_by_its_text_and_scored_on_its_status() -> None:
    def tracked(text: str, status: Status) -> TrackedRecommendation:
        item = Recommendation("r.txt", "Report", "2020-03", text, "improvement", ())
        return TrackedRecommendation(item, status, (), (), None)

    gold = [
        records.GoldRecommendation("r1", "r.txt", "The quality of written plans.", "addressed"),
        records.GoldRecommendation("r2", "r.txt", "Services for care leavers.", "repeated"),
        records.GoldRecommendation("r3", "r.txt", "Waiting time for early help.", "new"),
    ]
    found = [
        tracked("the quality of written   plans", Status.ADDRESSED),
        tracked("Services for care leavers.", Status.NOT_MENTIONED),
        tracked("A decision to note the report.", Status.NEW),
    ]
    score = records.score_recommendations(gold, found, "gold.jsonl")
    assert (score.gold, score.found, score.status_right, score.extra) == (3, 2, 1, 1)
    assert any(m.startswith("r2: status not mentioned later, gold repeated") for m in score.misses)
    assert any(m.startswith("r3 r.txt") for m in score.misses)


def test_the_shipped_gold_files_read_in_both_forms() -> None:
    home = records.read_gold_judgements(ROOT / "eval" / "judgements.jsonl")
    ilacs = records.read_gold_judgements(ROOT / "eval" / "ilacs" / "judgements.jsonl")
    assert (len(home), len(ilacs)) == (16, 75)
    assert home[0].year == 2020 and home[0].quotes and ilacs[0].year == 2018
    items = records.read_gold_recommendations(ROOT / "eval" / "recommendations.jsonl")
    assert [i.id for i in items] == [f"r0{n}" for n in range(1, 9)]  # improvements only


def test_a_broken_gold_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "judgements.jsonl"
    path.write_text('{"document": "a.txt", "grade": "Good"}\n', encoding="utf-8")
    with pytest.raises(records.GoldFileError, match=r"judgements.jsonl:1: needs document, aspect"):
        records.read_gold_judgements(path)


def test_an_outcome_is_a_frozen_record() -> None:
    outcome = AnswerOutcome(0, "", False, False, None, None, (), True, True)
    with pytest.raises(AttributeError):
        outcome.right = False  # type: ignore[misc]
