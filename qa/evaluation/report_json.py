"""Reports as JSON files, written and read field by field (the edge of :mod:`.report`).

The file keeps every figure of a report, so ``--compare`` can set any earlier report,
of either kind, beside a new one; reading names the file and the field of any damage.

Example::

    write_json(report, Path("reports/eval.json"))
    assert read_report(Path("reports/eval.json")) == report
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from qa.evaluation.reference import QuestionType
from qa.evaluation.report import (
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
    published,
)
from qa.types import Choice, Mode

REPORT_FORMAT = 1
_T = TypeVar("_T")
_C = TypeVar("_C", bound=Choice)


class ReportError(ValueError):
    """A report file that cannot be read back; the message names the file and the field."""


# --- writing


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


def _mode_json(summary: ModeSummary) -> dict[str, Any]:
    flags = summary.low_confidence
    return {
        "metrics": {t.type: dict(t.metrics) for t in summary.types},
        "questions": {t.type: t.questions for t in summary.types},
        "low_confidence": None if flags is None else _low_confidence_json(flags),
        "latency_ms": {
            "median": summary.latency.median_ms,
            "p95": summary.latency.p95_ms,
            "queries": summary.latency.queries,
        },
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


def report_json(report: Report) -> dict[str, Any]:
    """The JSON form of a report; both kinds share the shape of ``modes``."""
    if isinstance(report, BeirReport):
        return {
            "format": REPORT_FORMAT,
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
    return {
        "format": REPORT_FORMAT,
        "kind": "reference",
        "created_at": report.created_at,
        "questions_file": report.questions_file,
        "index_version": report.index_version,
        "model": report.model,
        "k": report.k,
        "metric_names": list(report.metric_names),
        "modes": {s.mode.value: _mode_json(s) for s in report.modes},
        "unreachable_evidence": list(report.unreachable),
        "questions": {
            q.id: {
                "type": q.type.value,
                "modes": {o.mode.value: _outcome_json(o) for o in q.outcomes},
            }
            for q in report.questions
        },
    }


def write_json(report: Report, path: Path) -> None:
    text = json.dumps(report_json(report), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


# --- reading


class _Fields:
    """One JSON object of a report file, read field by field.

    A missing or mistyped field raises ReportError naming the file and the field's path
    (``modes.hybrid.latency_ms.median``), so a damaged report says where it is damaged.
    """

    def __init__(self, value: object, file: Path, place: str) -> None:
        if not isinstance(value, dict):
            raise ReportError(f"{file}: {place or 'the file'} must be a JSON object")
        self._value: dict[str, object] = value
        self._file = file
        self._place = place

    def _where(self, key: str) -> str:
        return f"{self._place}.{key}" if self._place else key

    def error(self, key: str, wanted: str) -> ReportError:
        return ReportError(f"{self._file}: field {self._where(key)!r} must be {wanted}")

    def maybe(self, key: str, kind: type[_T]) -> _T | None:
        """The field ``key`` as ``kind``, or None where it is null or absent."""
        return None if self._value.get(key) is None else self.value(key, kind)

    def value(self, key: str, kind: type[_T]) -> _T:
        """The field ``key`` as ``kind`` (an int is a float too, a bool is no int)."""
        value = self._value.get(key)
        accepted = (int, float) if kind is float else (kind,)
        if not isinstance(value, accepted) or (isinstance(value, bool) and kind is not bool):
            raise self.error(key, f"of type {kind.__name__}")
        return kind(value)  # type: ignore[call-arg]

    def names(self) -> list[str]:
        """The names of the fields of this object, in file order."""
        return list(self._value)

    def object(self, key: str) -> _Fields:
        return _Fields(self.value(key, dict), self._file, self._where(key))

    def optional_object(self, key: str) -> _Fields | None:
        value = self.maybe(key, dict)
        return None if value is None else _Fields(value, self._file, self._where(key))

    def items(self, key: str, kinds: tuple[type, ...]) -> list[Any]:
        """The list ``key``, every item an instance of one of ``kinds`` (NoneType for null)."""
        items = self.value(key, list)
        if any(not isinstance(item, kinds) or isinstance(item, bool) for item in items):
            raise self.error(key, "a list of " + " or ".join(k.__name__ for k in kinds))
        return items

    def objects(self, key: str) -> list[_Fields]:
        where = self._where(key)
        return [
            _Fields(v, self._file, f"{where}[{n}]") for n, v in enumerate(self.items(key, (dict,)))
        ]

    def numbers(self) -> dict[str, float]:
        """Every field of this object, each a number (metrics by name)."""
        return {key: self.value(key, float) for key in self._value}

    def member(self, key: str, kind: type[_C]) -> _C:
        """The string field ``key`` as a member of the enum ``kind``."""
        return self._member(kind, self.value(key, str), key)

    def mode_named(self, name: str) -> Mode:
        """The field ``name`` as a retrieval mode: reports key each mode's object by its name."""
        return self._member(Mode, name, name)

    def _member(self, kind: type[_C], text: str, key: str) -> _C:
        try:
            return kind.from_str(text)
        except ValueError as error:
            raise ReportError(f"{self._file}: field {self._where(key)!r} {error}") from None


def _read_mode(modes: _Fields, name: str) -> ModeSummary:
    summary = modes.object(name)
    metrics, counts = summary.object("metrics"), summary.object("questions")
    flags = summary.optional_object("low_confidence")
    latency = summary.object("latency_ms")
    return ModeSummary(
        mode=modes.mode_named(name),
        types=tuple(
            TypeSummary(group, counts.value(group, int), metrics.object(group).numbers())
            for group in metrics.names()
        ),
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
    )


def _read_outcome(outcomes: _Fields, name: str) -> QuestionOutcome:
    outcome = outcomes.object(name)
    return QuestionOutcome(
        mode=outcomes.mode_named(name),
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


def _read_question(questions: _Fields, qid: str) -> QuestionReport:
    question = questions.object(qid)
    outcomes = question.object("modes")
    return QuestionReport(
        qid,
        question.member("type", QuestionType),
        tuple(_read_outcome(outcomes, name) for name in outcomes.names()),
    )


def _read_per_query(modes: _Fields, name: str) -> dict[str, dict[str, float]]:
    """A BEIR mode's metrics of each query."""
    per_query = modes.object(name).object("per_query")
    return {qid: per_query.object(qid).numbers() for qid in per_query.names()}


def read_report(path: Path) -> Report:
    """A report written earlier by ``qa eval`` or ``qa eval --beir``, for ``--compare``."""
    try:
        fields = _Fields(json.loads(path.read_text(encoding="utf-8")), path, "")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReportError(f"cannot read report {path} ({error})") from error
    if fields.value("format", int) != REPORT_FORMAT:
        raise fields.error("format", str(REPORT_FORMAT))
    modes = fields.object("modes")
    summaries = tuple(_read_mode(modes, name) for name in modes.names())
    kind = fields.value("kind", str)
    if kind == "beir":
        counts = fields.object("counts")
        return BeirReport(
            created_at=fields.value("created_at", str),
            dataset=fields.value("dataset", str),
            split=fields.value("split", str),
            model=fields.value("model", str),
            documents=counts.value("documents", int),
            indexed_documents=counts.value("indexed_documents", int),
            chunks=counts.value("chunks", int),
            queries=counts.value("queries", int),
            index_seconds=fields.value("index_seconds", float),
            modes=summaries,
            per_query={
                modes.mode_named(name): _read_per_query(modes, name) for name in modes.names()
            },
        )
    if kind != "reference":
        raise fields.error("kind", "'reference' or 'beir'")
    questions = fields.object("questions")
    return ReferenceReport(
        created_at=fields.value("created_at", str),
        questions_file=fields.value("questions_file", str),
        index_version=fields.value("index_version", str),
        model=fields.value("model", str),
        k=fields.value("k", int),
        modes=summaries,
        unreachable=tuple(fields.items("unreachable_evidence", (str,))),
        questions=tuple(_read_question(questions, qid) for qid in questions.names()),
    )
