"""The typed records of an evaluation report (their JSON is in :mod:`.report_json`).

One run of ``qa eval`` is an :class:`EvaluationRun`: a :class:`ReferenceReport` for the
reference set and a :class:`BeirReport` per outside collection, each with its naive anchor
(:class:`AnchorSummary`). ``--compare`` reads any of them back from its file: per mode a
:class:`ModeSummary`, per question type (and tag) a :class:`TypeSummary`, per question a
:class:`QuestionReport`; answers and records have their own records
(:mod:`.answers`, :mod:`.records`).

Metrics and latencies are held as reports publish them (4 decimals; 0.01 ms) from the
moment a record is made, so a fresh run and its file read back print the same tables.
Similarities and rates are held as measured (the Markdown prints them to 3 and 2
decimals) and rounded to 4 decimals only in the file.

Example::

    hybrid = next(summary for summary in report.modes if summary.mode == Mode.HYBRID)
    print(hybrid.metrics[OVERALL]["R@5"])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qa.evaluation.anchor import AnchorMethod
from qa.evaluation.answers import AnswerOutcome, AnswerSummary
from qa.evaluation.metrics import BEIR_METRICS, OVERALL, metric_names, percentile
from qa.evaluation.records import RecordScore
from qa.evaluation.reference import QuestionType
from qa.text import normalise_space
from qa.types import Chunk, Mode

REPORT_MODES = (Mode.LEXICAL, Mode.DENSE, Mode.HYBRID)  # the order of every report's rows


def published(value: float) -> float:
    """A metric or similarity as reports publish it: 4 decimals."""
    return round(value, 4)


def published_metrics(metrics: Mapping[str, float]) -> dict[str, float]:
    return {name: published(value) for name, value in metrics.items()}


def shortened(text: str, width: int = 100) -> str:
    """The start of ``text`` on one line, enough to recognise a passage or a quote."""
    text = normalise_space(text)
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass(frozen=True)
class Latency:
    """Query latency of one mode in milliseconds."""

    median_ms: float
    p95_ms: float
    queries: int

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        return cls(
            round(percentile(seconds, 0.5) * 1000, 2),
            round(percentile(seconds, 0.95) * 1000, 2),
            len(seconds),
        )


@dataclass(frozen=True)
class LowConfidence:
    """How often the low-confidence flag fired: it should for unanswerable questions only.

    The median best similarities beside the threshold show where the threshold should be.
    """

    unanswerable_flagged: int
    unanswerable: int
    answerable_flagged: int
    answerable: int
    threshold: float
    unanswerable_similarity: float | None = None
    answerable_similarity: float | None = None

    @property
    def unanswerable_rate(self) -> float | None:
        return self.unanswerable_flagged / self.unanswerable if self.unanswerable else None

    @property
    def answerable_rate(self) -> float | None:
        return self.answerable_flagged / self.answerable if self.answerable else None


@dataclass(frozen=True)
class TypeSummary:
    """Mean metrics over the questions of one type, or of all of them (type ``OVERALL``)."""

    type: str
    questions: int
    metrics: Mapping[str, float]


@dataclass(frozen=True)
class ModeSummary:
    """Aggregates of one retrieval mode; ``low_confidence`` is None where the mode never sets it.

    ``types`` are in display order, ``OVERALL`` last; ``tags`` the same means over the
    questions of each tag (empty for BEIR and for reports written before tags).
    """

    mode: Mode
    types: tuple[TypeSummary, ...]
    low_confidence: LowConfidence | None
    latency: Latency
    tags: tuple[TypeSummary, ...] = ()

    @property
    def metrics(self) -> dict[str, Mapping[str, float]]:
        """Per question type (and ``OVERALL``), the mean of each metric."""
        return {summary.type: summary.metrics for summary in self.types}


@dataclass(frozen=True)
class AnchorSummary:
    """The naive anchor's figures on the same units, per method (see :mod:`.anchor`)."""

    method: AnchorMethod
    types: tuple[TypeSummary, ...]
    tags: tuple[TypeSummary, ...] = ()

    @property
    def metrics(self) -> dict[str, Mapping[str, float]]:
        return {summary.type: summary.metrics for summary in self.types}


def anchor_base(
    anchor: Sequence[AnchorSummary], tags: bool = False
) -> Mapping[str, Mapping[str, float]]:
    """The anchor fusion's figures per question type (or, with ``tags``, per tag): what every
    ratio of a part is taken to; empty where the part has no anchor."""
    fusion = next((a for a in anchor if a.method == AnchorMethod.RRF), None)
    if fusion is None:
        return {}
    return {t.type: t.metrics for t in (fusion.tags if tags else fusion.types)}


@dataclass(frozen=True)
class PassageSummary:
    """A retrieved passage as a report keeps it: where it is and how it starts."""

    source: str
    paragraph: str | None
    start: int
    text: str

    @classmethod
    def of(cls, chunk: Chunk) -> PassageSummary:
        return cls(chunk.source, chunk.paragraph, chunk.start, shortened(chunk.text))


@dataclass(frozen=True)
class QuestionOutcome:
    """What one mode retrieved for one reference question.

    ``ranks`` holds, per evidence item, the rank of the first passage covering it;
    ``missed`` counts the items not in the top 5 (None for an unanswerable question).
    """

    mode: Mode
    ranks: tuple[int | None, ...]
    metrics: Mapping[str, float]
    low_confidence: bool
    best_similarity: float | None
    missed: int | None
    top: tuple[PassageSummary, ...]


@dataclass(frozen=True)
class QuestionReport:
    """One reference question's outcome in every mode, in report order, and how its answer
    measured (None in reports written before answers were measured)."""

    id: str
    type: QuestionType
    outcomes: tuple[QuestionOutcome, ...]
    tags: tuple[str, ...] = ()
    answer: AnswerOutcome | None = None

    def outcome(self, mode: Mode) -> QuestionOutcome | None:
        return next((o for o in self.outcomes if o.mode == mode), None)

    @property
    def failed(self) -> tuple[QuestionOutcome, ...]:
        """The modes whose top 5 passages miss some of the evidence."""
        return tuple(o for o in self.outcomes if o.missed)


@dataclass(frozen=True)
class ReferenceReport:
    """The outcome of one ``qa eval`` run over a reference set.

    ``anchor``, ``answers`` and ``records`` are empty (None) in reports written before
    they were measured, and ``records`` where the set has no gold record files.
    """

    created_at: str
    questions_file: str
    index_version: str
    model: str
    k: int
    modes: tuple[ModeSummary, ...]
    unreachable: tuple[str, ...]
    questions: tuple[QuestionReport, ...]
    anchor: tuple[AnchorSummary, ...] = ()
    answers: AnswerSummary | None = None
    records: tuple[RecordScore, ...] = ()

    @property
    def metric_names(self) -> tuple[str, ...]:
        return metric_names(self.k)

    def failures(self) -> tuple[QuestionReport, ...]:
        """The answerable questions whose top 5 passages miss evidence in some mode.

        In the order a reader going through the modes in turn meets them: by the first
        mode that misses them, then by their order in the reference set.
        """
        modes = [summary.mode for summary in self.modes]
        failing = [question for question in self.questions if question.failed]
        return tuple(sorted(failing, key=lambda question: modes.index(question.failed[0].mode)))


@dataclass(frozen=True)
class BeirReport:
    """The outcome of one ``qa eval --beir`` run; ``per_query`` holds each mode's query metrics."""

    created_at: str
    dataset: str
    split: str
    model: str
    documents: int
    indexed_documents: int
    chunks: int
    queries: int
    index_seconds: float
    modes: tuple[ModeSummary, ...]
    per_query: Mapping[Mode, Mapping[str, Mapping[str, float]]]
    anchor: tuple[AnchorSummary, ...] = ()

    @property
    def metric_names(self) -> tuple[str, ...]:
        return BEIR_METRICS


Report = ReferenceReport | BeirReport


@dataclass(frozen=True)
class EvaluationRun:
    """Everything one ``qa eval`` measured: the reference set's report (if run) and one report
    per outside collection, in that order; ``skipped`` says which were not run and why."""

    created_at: str
    parts: tuple[Report, ...]
    skipped: tuple[str, ...] = ()

    @property
    def reference(self) -> ReferenceReport | None:
        return next((p for p in self.parts if isinstance(p, ReferenceReport)), None)

    @property
    def beir(self) -> tuple[BeirReport, ...]:
        return tuple(p for p in self.parts if isinstance(p, BeirReport))


def part_name(report: Report) -> str:
    """How a report is named in tables and comparisons: its questions file or its dataset."""
    if isinstance(report, BeirReport):
        return f"BEIR {report.dataset}"
    return report.questions_file or "reference set"


def overall(summary: ModeSummary | AnchorSummary, metric: str) -> float:
    """The overall mean of ``metric``, 0 where absent."""
    return summary.metrics.get(OVERALL, {}).get(metric, 0.0)
