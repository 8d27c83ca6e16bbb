"""Reports as JSON files: each record written field by field, and a file read back by
format (the edge of :mod:`.report`; a part's fields are read in :mod:`.report_reader`).

A file holds one :class:`~.report.EvaluationRun` (format 2: its parts, one per reference
set or BEIR dataset) with every figure, so ``--compare`` can set any earlier report beside
a new one. Files of format 1 (one reference or BEIR report each, written before the runs
were joined) are read as a run of one part. Fields measured later (tags, anchor, answers,
records) are written only when measured, so an older report reads back exactly as it was.

Example::

    write_json(run, Path("reports/eval.json"))
    assert read_report(Path("reports/eval.json")) == run
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from qa.evaluation.anchor import ANCHOR_DESCRIPTION
from qa.evaluation.answers import AnswerFigures, AnswerSummary
from qa.evaluation.json_fields import Fields, ReportError
from qa.evaluation.report import (
    AnchorSummary,
    BeirReport,
    EvaluationRun,
    LowConfidence,
    ModeSummary,
    QuestionOutcome,
    QuestionReport,
    Report,
    TypeSummary,
    published,
)
from qa.evaluation.report_reader import read_part

REPORT_FORMAT = 2
PART_FORMAT = 1  # the format of a file holding one part, as written before runs were joined


def _optional(value: float | None) -> float | None:
    """A rate or similarity as the file keeps it (4 decimals), or None."""
    return None if value is None else published(value)


def _low_confidence_json(flags: LowConfidence) -> dict[str, Any]:
    return {
        "unanswerable_flagged": flags.unanswerable_flagged,
        "unanswerable": flags.unanswerable,
        "answerable_flagged": flags.answerable_flagged,
        "answerable": flags.answerable,
        "unanswerable_rate": _optional(flags.unanswerable_rate),
        "answerable_rate": _optional(flags.answerable_rate),
        "threshold": flags.threshold,
        "unanswerable_median_similarity": _optional(flags.unanswerable_similarity),
        "answerable_median_similarity": _optional(flags.answerable_similarity),
    }


def _groups_json(types: tuple[TypeSummary, ...], tags: tuple[TypeSummary, ...]) -> dict[str, Any]:
    """Metrics and question counts per type, and per tag where tags were measured."""
    record: dict[str, Any] = {
        "metrics": {t.type: dict(t.metrics) for t in types},
        "questions": {t.type: t.questions for t in types},
    }
    if tags:
        record["tag_metrics"] = {t.type: dict(t.metrics) for t in tags}
        record["tag_questions"] = {t.type: t.questions for t in tags}
    return record


def _mode_json(summary: ModeSummary) -> dict[str, Any]:
    flags = summary.low_confidence
    return {
        **_groups_json(summary.types, summary.tags),
        "low_confidence": None if flags is None else _low_confidence_json(flags),
        "latency_ms": {
            "median": summary.latency.median_ms,
            "p95": summary.latency.p95_ms,
            "queries": summary.latency.queries,
        },
    }


def _anchor_json(anchor: tuple[AnchorSummary, ...]) -> dict[str, Any]:
    return {
        "description": ANCHOR_DESCRIPTION,
        "methods": {a.method.value: _groups_json(a.types, a.tags) for a in anchor},
    }


def _answers_json(answers: AnswerSummary) -> dict[str, Any]:
    def figures(group: AnswerFigures) -> dict[str, int]:
        return {key: value for key, value in asdict(group).items() if key != "group"}

    return {
        "mode": answers.mode.value,
        "types": {f.group: figures(f) for f in answers.types},
        "tags": {f.group: figures(f) for f in answers.tags},
    }


def _outcome_json(outcome: QuestionOutcome) -> dict[str, Any]:
    return {
        "ranks": list(outcome.ranks),
        "metrics": dict(outcome.metrics),
        "low_confidence": outcome.low_confidence,
        "best_similarity": _optional(outcome.best_similarity),
        "missed_in_top5": outcome.missed,
        "top": [
            {"source": p.source, "paragraph": p.paragraph, "start": p.start, "text": p.text}
            for p in outcome.top
        ],
    }


def _question_json(question: QuestionReport) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": question.type.value,
        "modes": {o.mode.value: _outcome_json(o) for o in question.outcomes},
    }
    if question.tags:
        record["tags"] = list(question.tags)
    if question.answer is not None:
        record["answer"] = {**asdict(question.answer), "uncovered": list(question.answer.uncovered)}
    return record


def part_json(report: Report) -> dict[str, Any]:
    """The JSON form of one part; both kinds share the shape of ``modes``."""
    record: dict[str, Any]
    if isinstance(report, BeirReport):
        record = {
            "kind": "beir",
            "created_at": report.created_at,
            "dataset": report.dataset,
            "split": report.split,
            "model": report.model,
            "counts": {
                "documents": report.documents,
                "indexed_documents": report.indexed_documents,
                "chunks": report.chunks,
                "queries": report.queries,
            },
            "index_seconds": report.index_seconds,
            "metric_names": list(report.metric_names),
            "modes": {
                s.mode.value: {
                    **_mode_json(s),
                    "per_query": {q: dict(m) for q, m in report.per_query[s.mode].items()},
                }
                for s in report.modes
            },
        }
    else:
        record = {
            "kind": "reference",
            "created_at": report.created_at,
            "questions_file": report.questions_file,
            "index_version": report.index_version,
            "model": report.model,
            "k": report.k,
            "metric_names": list(report.metric_names),
            "modes": {s.mode.value: _mode_json(s) for s in report.modes},
            "unreachable_evidence": list(report.unreachable),
            "questions": {q.id: _question_json(q) for q in report.questions},
        }
        if report.answers is not None:
            record["answers"] = _answers_json(report.answers)
        if report.records:
            record["records"] = [
                {**asdict(score), "misses": list(score.misses)} for score in report.records
            ]
    if report.anchor:
        record["anchor"] = _anchor_json(report.anchor)
    return record


def run_json(run: EvaluationRun) -> dict[str, Any]:
    """The JSON form of a whole ``qa eval`` run."""
    return {
        "format": REPORT_FORMAT,
        "kind": "run",
        "created_at": run.created_at,
        "skipped": list(run.skipped),
        "parts": [part_json(part) for part in run.parts],
    }


def write_json(run: EvaluationRun, path: Path) -> None:
    text = json.dumps(run_json(run), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def read_report(path: Path) -> EvaluationRun:
    """A report written earlier by ``qa eval`` (any format), for ``--compare``."""
    try:
        record = Fields(json.loads(path.read_text(encoding="utf-8")), path, "")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReportError(f"cannot read report {path} ({error})") from error
    version = record.value("format", int)
    if version == PART_FORMAT:
        part = read_part(record)
        return EvaluationRun(part.created_at, (part,))
    if version != REPORT_FORMAT:
        raise record.error("format", f"{PART_FORMAT} or {REPORT_FORMAT}")
    if record.value("kind", str) != "run":
        raise record.error("kind", "'run'")
    return EvaluationRun(
        record.value("created_at", str),
        tuple(read_part(part) for part in record.objects("parts")),
        tuple(record.items("skipped", (str,))),
    )
