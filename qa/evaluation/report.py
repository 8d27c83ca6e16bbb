"""The typed records of an evaluation report (their JSON is in :mod:`.report_json`).

One set of records serves ``qa eval`` (a :class:`ReferenceReport`), ``qa eval --beir``
(a :class:`BeirReport`) and ``--compare`` (either, read back from its file): per mode a
:class:`ModeSummary`, per question type a :class:`TypeSummary`, per question a
:class:`QuestionReport`.

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

from qa.evaluation.metrics import BEIR_METRICS, metric_names, percentile
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

    ``types`` are in display order, ``OVERALL`` last.
    """

    mode: Mode
    types: tuple[TypeSummary, ...]
    low_confidence: LowConfidence | None
    latency: Latency

    @property
    def metrics(self) -> dict[str, Mapping[str, float]]:
        """Per question type (and ``OVERALL``), the mean of each metric."""
        return {summary.type: summary.metrics for summary in self.types}


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
    """One reference question's outcome in every mode, in report order."""

    id: str
    type: QuestionType
    outcomes: tuple[QuestionOutcome, ...]

    def outcome(self, mode: Mode) -> QuestionOutcome | None:
        return next((o for o in self.outcomes if o.mode == mode), None)

    @property
    def failed(self) -> tuple[QuestionOutcome, ...]:
        """The modes whose top 5 passages miss some of the evidence."""
        return tuple(o for o in self.outcomes if o.missed)


@dataclass(frozen=True)
class ReferenceReport:
    """The outcome of one ``qa eval`` run over a reference set."""

    created_at: str
    questions_file: str
    index_version: str
    model: str
    k: int
    modes: tuple[ModeSummary, ...]
    unreachable: tuple[str, ...]
    questions: tuple[QuestionReport, ...]

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

    @property
    def metric_names(self) -> tuple[str, ...]:
        return BEIR_METRICS


Report = ReferenceReport | BeirReport
