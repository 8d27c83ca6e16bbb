"""A report part read back from its JSON, field by field (the reading side of
:mod:`.report_json`, which opens the file and tells its format).

Each record of :mod:`.report` is rebuilt from the fields :mod:`.report_json` wrote for it,
through :class:`~.json_fields.Fields`, so a damaged or hand-edited file raises a
:class:`~.json_fields.ReportError` naming the file and the field rather than comparing wrong
figures. Fields measured later (tags, anchor, answers, records) are optional here: a report
written before they existed reads back as it was.

Example::

    part = read_part(Fields(json.loads(path.read_text()), path, ""))  # format 1: one part
"""

from __future__ import annotations

from dataclasses import fields

from qa.evaluation.anchor import AnchorMethod
from qa.evaluation.answers import AnswerFigures, AnswerOutcome, AnswerSummary
from qa.evaluation.json_fields import Fields
from qa.evaluation.records import RecordScore
from qa.evaluation.reference import QuestionType
from qa.evaluation.report import (
    AnchorSummary,
    BeirReport,
    Latency,
    LowConfidence,
    ModeSummary,
    PassageSummary,
    QuestionOutcome,
    QuestionReport,
    ReferenceReport,
    Report,
    TypeSummary,
)
from qa.types import Mode


def _read_groups(record: Fields) -> tuple[tuple[TypeSummary, ...], tuple[TypeSummary, ...]]:
    def groups(metrics_key: str, counts_key: str) -> tuple[TypeSummary, ...]:
        if not record.has(metrics_key):
            return ()
        metrics, counts = record.object(metrics_key), record.object(counts_key)
        return tuple(
            TypeSummary(group, counts.value(group, int), metrics.object(group).numbers())
            for group in metrics.names()
        )

    return groups("metrics", "questions"), groups("tag_metrics", "tag_questions")


def _read_mode(modes: Fields, name: str) -> ModeSummary:
    summary = modes.object(name)
    types, tags = _read_groups(summary)
    flags = summary.optional_object("low_confidence")
    latency = summary.object("latency_ms")
    return ModeSummary(
        mode=modes.member_named(name, Mode),
        types=types,
        low_confidence=None
        if flags is None
        else LowConfidence(
            flags.value("unanswerable_flagged", int),
            flags.value("unanswerable", int),
            flags.value("answerable_flagged", int),
            flags.value("answerable", int),
            flags.value("threshold", float),
            flags.maybe("unanswerable_median_similarity", float),
            flags.maybe("answerable_median_similarity", float),
        ),
        latency=Latency(
            latency.value("median", float),
            latency.value("p95", float),
            latency.value("queries", int),
        ),
        tags=tags,
    )


def _read_anchor(part: Fields) -> tuple[AnchorSummary, ...]:
    if not part.has("anchor"):
        return ()
    methods = part.object("anchor").object("methods")
    return tuple(
        AnchorSummary(methods.member_named(name, AnchorMethod), *_read_groups(methods.object(name)))
        for name in methods.names()
    )


def _read_answers(part: Fields) -> AnswerSummary | None:
    answers = part.optional_object("answers")
    if answers is None:
        return None
    counts = [f.name for f in fields(AnswerFigures) if f.name != "group"]

    def figures(groups: Fields) -> tuple[AnswerFigures, ...]:
        return tuple(
            AnswerFigures(name, *(groups.object(name).value(c, int) for c in counts))
            for name in groups.names()
        )

    return AnswerSummary(
        answers.member("mode", Mode),
        figures(answers.object("types")),
        figures(answers.object("tags")),
    )


def _read_answer(question: Fields) -> AnswerOutcome | None:
    answer = question.optional_object("answer")
    if answer is None:
        return None
    return AnswerOutcome(
        sentences=answer.value("sentences", int),
        first_sentence=answer.value("first_sentence", str),
        first_quote=answer.value("first_quote", bool),
        any_quote=answer.value("any_quote", bool),
        answer_right=answer.maybe("answer_right", bool),
        periods_complete=answer.maybe("periods_complete", bool),
        uncovered=tuple(answer.items("uncovered", (str,))),
        flagged=answer.value("flagged", bool),
        right=answer.value("right", bool),
    )


def _read_outcome(outcomes: Fields, name: str) -> QuestionOutcome:
    outcome = outcomes.object(name)
    return QuestionOutcome(
        mode=outcomes.member_named(name, Mode),
        ranks=tuple(outcome.items("ranks", (int, type(None)))),
        metrics=outcome.object("metrics").numbers(),
        low_confidence=outcome.value("low_confidence", bool),
        best_similarity=outcome.maybe("best_similarity", float),
        missed=outcome.maybe("missed_in_top5", int),
        top=tuple(
            PassageSummary(
                p.value("source", str),
                p.maybe("paragraph", str),
                p.value("start", int),
                p.value("text", str),
            )
            for p in outcome.objects("top")
        ),
    )


def _read_question(questions: Fields, qid: str) -> QuestionReport:
    question = questions.object(qid)
    outcomes = question.object("modes")
    return QuestionReport(
        qid,
        question.member("type", QuestionType),
        tuple(_read_outcome(outcomes, name) for name in outcomes.names()),
        tuple(question.items("tags", (str,))) if question.has("tags") else (),
        _read_answer(question),
    )


def _read_records(part: Fields) -> tuple[RecordScore, ...]:
    if not part.has("records"):
        return ()
    return tuple(
        RecordScore(
            score.value("kind", str),
            score.value("gold_file", str),
            score.value("gold", int),
            score.value("found", int),
            score.maybe("status_right", int),
            score.value("extra", int),
            tuple(score.items("misses", (str,))),
        )
        for score in part.objects("records")
    )


def _read_per_query(modes: Fields, name: str) -> dict[str, dict[str, float]]:
    """A BEIR mode's metrics of each query."""
    per_query = modes.object(name).object("per_query")
    return {qid: per_query.object(qid).numbers() for qid in per_query.names()}


def read_part(part: Fields) -> Report:
    """One reference or BEIR part, as :func:`.report_json.part_json` wrote it."""
    modes = part.object("modes")
    summaries = tuple(_read_mode(modes, name) for name in modes.names())
    kind = part.value("kind", str)
    if kind == "beir":
        counts = part.object("counts")
        return BeirReport(
            created_at=part.value("created_at", str),
            dataset=part.value("dataset", str),
            split=part.value("split", str),
            model=part.value("model", str),
            documents=counts.value("documents", int),
            indexed_documents=counts.value("indexed_documents", int),
            chunks=counts.value("chunks", int),
            queries=counts.value("queries", int),
            index_seconds=part.value("index_seconds", float),
            modes=summaries,
            per_query={
                modes.member_named(name, Mode): _read_per_query(modes, name)
                for name in modes.names()
            },
            anchor=_read_anchor(part),
        )
    if kind != "reference":
        raise part.error("kind", "'reference' or 'beir'")
    questions = part.object("questions")
    return ReferenceReport(
        created_at=part.value("created_at", str),
        questions_file=part.value("questions_file", str),
        index_version=part.value("index_version", str),
        model=part.value("model", str),
        k=part.value("k", int),
        modes=summaries,
        unreachable=tuple(part.items("unreachable_evidence", (str,))),
        questions=tuple(_read_question(questions, qid) for qid in questions.names()),
        anchor=_read_anchor(part),
        answers=_read_answers(part),
        records=_read_records(part),
    )
