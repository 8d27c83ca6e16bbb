"""Quality gates outside the shipped corpus (slow): Medline, and the ilacs reports with their
reference set. Floors are today's measured figures minus a named tolerance, so a change that
makes things worse fails CI, and each figure is raised here when work lands.

The figures were measured on 2026-12-01 with ``qa eval`` (defaults: bundled
all-MiniLM-L6-v2, chunk size 1000 / overlap 150, weighted fusion 0.5, hybrid mode; the
answers and records remeasured after the answer work of issue 16):

    qa eval --beir-only                      # Medline, ../shared/beir/med
    qa eval --questions eval/ilacs/questions.jsonl --corpus /tmp/ilacs-corpus \\
        --copy-from ../shared/ilacs/reports --copy-from corpus --index /tmp/ilacs-index --no-beir

An acceptance target not met yet is a strict xfail (issue 15's Medline 0.83): when the
work meets it, its test passes, strict xfail fails the run, and the mark comes off (as it
did for issue 16's targets: on ilacs grade, lead-inspector and judgement-change answers at
least 90% right, here; on the reference set in tests/test_evaluation.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from qa.evaluation.answers import AnswerOutcome
from qa.evaluation.beir import evaluate_beir, load_beir
from qa.evaluation.metrics import OVERALL
from qa.evaluation.reference import Question, QuestionType, load_reference_set
from qa.evaluation.report import ReferenceReport
from qa.evaluation.run import evaluate
from qa.evaluation.suite import OUTSIDE_SETS, assemble_corpus
from qa.index.build import build_index
from qa.index.embedders import load_embedder
from qa.search import Searcher
from qa.settings import Settings
from qa.types import Mode

ROOT = Path(__file__).resolve().parents[1]
MEDLINE = (ROOT / OUTSIDE_SETS[0]).resolve()
ILACS_REPORTS = (ROOT / ".." / "shared" / "ilacs" / "reports").resolve()
ILACS_QUESTIONS = ROOT / "eval" / "ilacs" / "questions.jsonl"
DEFAULT_MODE = Mode.HYBRID  # the mode `qa ask` and the app search in

# --- Medline (issue 15: "CI fails if the default mode's nDCG@10 drops below the adopted
# figure minus 0.02"). The adopted figure is today's default; when the retrieval work adopts
# new defaults, put their measured figure here (and in the README's "How good is it").
# The naive anchor measured in the same run: BM25 0.694, MiniLM 0.787, RRF 0.791.
MEDLINE_NDCG_AT_10 = 0.783
MEDLINE_TOLERANCE = 0.02
MEDLINE_TARGET = 0.83  # issue 15's acceptance, not met: 0.782 on 2026-12-02

# --- ilacs: the 17 reports of ../shared/ilacs plus the 5 shipped files, 106 questions.
ILACS_TOLERANCE = 0.05  # about one question in the groups gated below (18 to 106 questions)
# Hybrid recall@5, overall and for the groups of at least 18 questions; smaller groups (2 to
# 7 questions) move by 0.14 or more with one question, so they are reported, not gated.
ILACS_RECALL_AT_5 = {
    OVERALL: 0.931,
    "fact": 0.926,
    "judgement": 1.0,
    "lead_inspector": 1.0,
    "passage_without_council": 0.950,
}
# Share of answers right (see qa.evaluation.answers): grade questions (judgement without
# judgement_change, and current tagged judgement: 25), lead inspector (18), questions whose
# gold passage never names the council (20), all 106; and the share of answerable
# questions whose answer holds a gold quote in some sentence (86 of 94; 2026-12-02, since
# quotes match whatever their case).
ILACS_ANSWERS_RIGHT = {
    "grade": 25 / 25,
    "lead_inspector": 18 / 18,
    "passage_without_council": 16 / 20,
}
ILACS_RIGHT_OVERALL = 94 / 106
ILACS_ANY_QUOTE = 86 / 94
ILACS_JUDGEMENTS_FOUND = 75 / 75  # of eval/ilacs/judgements.jsonl
ISSUE_16_TARGET = 0.9  # grade (25/25), lead-inspector (18/18), judgement-change (10/10) right


@pytest.fixture(scope="module")
def medline_ndcg(tmp_path_factory: pytest.TempPathFactory) -> float:
    """nDCG@10 of the default mode on Medline, on a fresh index of its documents."""
    if not (MEDLINE / "corpus.jsonl").is_file():
        pytest.skip(f"no Medline at {MEDLINE}")
    settings = Settings()
    embedder = load_embedder(settings.model, settings.batch_size)
    work = tmp_path_factory.mktemp("medline")
    report = evaluate_beir(load_beir(MEDLINE), settings, embedder, work, modes=(DEFAULT_MODE,))
    return float(report.modes[0].metrics[OVERALL]["nDCG@10"])


@pytest.mark.slow
def test_gate_medline_ndcg_at_10_in_the_default_mode_has_not_dropped(medline_ndcg: float) -> None:
    assert medline_ndcg >= MEDLINE_NDCG_AT_10 - MEDLINE_TOLERANCE, f"nDCG@10 {medline_ndcg:.3f}"


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="issue 15 target: Medline nDCG@10 0.83 in the default mode; 0.782 on 2026-12-02 "
    "(README: every measured alternative, the best without a loss at home 0.801)",
)
def test_target_medline_ndcg_at_10_reaches_issue_15s_figure(medline_ndcg: float) -> None:
    assert medline_ndcg >= MEDLINE_TARGET, f"nDCG@10 {medline_ndcg:.3f}"


@pytest.fixture(scope="module")
def ilacs(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReferenceReport, tuple[Question, ...]]:
    """The ilacs reference set run in the default mode on a fresh index of its corpus."""
    if not ILACS_REPORTS.is_dir():
        pytest.skip(f"no ilacs reports at {ILACS_REPORTS}")
    work = tmp_path_factory.mktemp("ilacs")
    assemble_corpus([ILACS_REPORTS, ROOT / "corpus"], work / "corpus")
    settings = Settings(corpus=work / "corpus", index=work / "index")
    embedder = load_embedder(settings.model, settings.batch_size)
    build = build_index(settings, embedder)
    assert build.errors == () and build.documents == 22
    questions = load_reference_set(ILACS_QUESTIONS)
    searcher = Searcher.open(settings)
    report = evaluate(searcher, questions, modes=(DEFAULT_MODE,), gold=ILACS_QUESTIONS.parent)
    return report, questions


def share(
    report: ReferenceReport,
    questions: tuple[Question, ...],
    member: Callable[[Question], bool],
    measure: Callable[[AnswerOutcome], bool],
) -> float:
    """The share of the questions for which ``member`` holds whose answer ``measure`` holds."""
    answers = {q.id: q.answer for q in report.questions}
    chosen = [answers[q.id] for q in questions if member(q)]
    assert chosen and all(a is not None for a in chosen)
    return sum(measure(a) for a in chosen if a is not None) / len(chosen)


def is_grade_question(question: Question) -> bool:
    """eval/ilacs/README.md: grade questions are judgement questions that are not about a
    change, and current questions tagged judgement."""
    if question.type == QuestionType.JUDGEMENT:
        return "judgement_change" not in question.tags
    return question.type == QuestionType.CURRENT and "judgement" in question.tags


def right(answer: AnswerOutcome) -> bool:
    return answer.right


@pytest.mark.slow
def test_gate_ilacs_retrieval_per_type_and_tag_has_not_dropped(
    ilacs: tuple[ReferenceReport, tuple[Question, ...]],
) -> None:
    (summary,) = ilacs[0].modes
    # A tag sharing a type's name (5 questions tagged "judgement") does not replace the type.
    recall = {t.type: t.metrics["R@5"] for t in (*summary.tags, *summary.types)}
    for group, floor in ILACS_RECALL_AT_5.items():
        assert recall[group] >= floor - ILACS_TOLERANCE, (group, recall)


@pytest.mark.slow
def test_gate_ilacs_answers_and_judgement_records_have_not_dropped(
    ilacs: tuple[ReferenceReport, tuple[Question, ...]],
) -> None:
    report, questions = ilacs
    measured = {
        "grade": share(report, questions, is_grade_question, right),
        "lead_inspector": share(report, questions, lambda q: "lead_inspector" in q.tags, right),
        "passage_without_council": share(
            report, questions, lambda q: "passage_without_council" in q.tags, right
        ),
    }
    for group, floor in ILACS_ANSWERS_RIGHT.items():
        assert measured[group] >= floor - ILACS_TOLERANCE, (group, measured)
    assert share(report, questions, lambda q: True, right) >= ILACS_RIGHT_OVERALL - ILACS_TOLERANCE
    anywhere = share(report, questions, lambda q: q.answerable, lambda a: a.any_quote)
    assert anywhere >= ILACS_ANY_QUOTE - ILACS_TOLERANCE
    (judgements,) = (s for s in report.records if s.kind == "judgements")
    assert judgements.found / judgements.gold >= ILACS_JUDGEMENTS_FOUND - ILACS_TOLERANCE


@pytest.mark.slow
def test_gate_ilacs_grade_lead_inspector_and_judgement_change_answers_reach_the_target(
    ilacs: tuple[ReferenceReport, tuple[Question, ...]],
) -> None:
    report, questions = ilacs
    for member in (
        is_grade_question,
        lambda q: "lead_inspector" in q.tags,
        lambda q: "judgement_change" in q.tags,
    ):
        assert share(report, questions, member, right) >= ISSUE_16_TARGET


@pytest.mark.slow
def test_gate_ilacs_questions_about_a_year_without_a_report_are_flagged(
    ilacs: tuple[ReferenceReport, tuple[Question, ...]],
) -> None:
    report, questions = ilacs
    flagged = share(
        report, questions, lambda q: "year_without_report" in q.tags, lambda a: a.flagged
    )
    assert flagged == 1.0
