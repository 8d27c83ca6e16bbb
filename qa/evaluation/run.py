"""Running a reference set through a :class:`~qa.search.Searcher` in every mode (``qa eval``).

Each question is searched once per mode, the passages are scored against its evidence
(:mod:`.metrics`), and the results are reduced to a :class:`~.report.ReferenceReport`.
Only retrieval is timed: the extractive answer is timed by ``qa ask -v``.

Example::

    questions = load_reference_set(Path("eval/questions.jsonl"))
    report = evaluate(searcher, questions, k=10)
    print(format_table(report))
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from qa.evaluation.metrics import (
    OVERALL,
    SHOWN_PASSAGES,
    evidence_metrics,
    first_cover_ranks,
    mean_by_group,
    missed_evidence,
)
from qa.evaluation.reference import Question, QuestionType, normalise_space
from qa.evaluation.report import (
    REPORT_MODES,
    Latency,
    LowConfidence,
    ModeSummary,
    PassageSummary,
    QuestionOutcome,
    QuestionReport,
    ReferenceReport,
    TypeSummary,
    published_metrics,
)
from qa.types import Answer, Chunk, Mode

if TYPE_CHECKING:
    from qa.search import Searcher


@dataclass(frozen=True)
class QuestionResult:
    """What one mode retrieved for one question, as measured (with its time and passages)."""

    question: Question
    mode: Mode
    ranks: tuple[int | None, ...]
    top: tuple[Chunk, ...]
    low_confidence: bool
    best_similarity: float | None
    seconds: float
    metrics: Mapping[str, float]

    def outcome(self) -> QuestionOutcome:
        """The entry a report keeps of this result."""
        missed = missed_evidence(self.question.evidence, self.ranks)
        return QuestionOutcome(
            mode=self.mode,
            ranks=self.ranks,
            metrics=published_metrics(self.metrics),
            low_confidence=self.low_confidence,
            best_similarity=self.best_similarity,
            missed=len(missed) if self.question.answerable else None,
            top=tuple(PassageSummary.of(chunk) for chunk in self.top),
        )


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarise(mode: Mode, results: Sequence[QuestionResult], threshold: float) -> ModeSummary:
    """Aggregate one mode's results: metrics by type, low-confidence counts, latency."""
    answerable = [r for r in results if r.question.answerable]
    unanswerable = [r for r in results if not r.question.answerable]
    metrics = mean_by_group(
        {r.question.id: r.metrics for r in answerable},
        {r.question.id: r.question.type.value for r in answerable},
        [t.value for t in QuestionType if t != QuestionType.UNANSWERABLE],
    )
    types = tuple(
        TypeSummary(
            group,
            sum(1 for r in answerable if group in (OVERALL, r.question.type)),
            published_metrics(means),
        )
        for group, means in metrics.items()
    )
    flags = None
    if mode != Mode.LEXICAL:  # the searcher computes the flag from the dense similarity only
        flags = LowConfidence(
            sum(r.low_confidence for r in unanswerable),
            len(unanswerable),
            sum(r.low_confidence for r in answerable),
            len(answerable),
            threshold,
            _median(r.best_similarity for r in unanswerable),
            _median(r.best_similarity for r in answerable),
        )
    return ModeSummary(mode, types, flags, Latency.of([r.seconds for r in results]))


def unreachable_evidence(chunks: Iterable[Chunk], questions: Sequence[Question]) -> tuple[str, ...]:
    """Evidence no passage of the index contains (the chunker split the quote): never findable."""
    by_source: dict[str, list[str]] = {}
    for chunk in chunks:
        by_source.setdefault(chunk.source, []).append(normalise_space(chunk.text))
    missing = []
    for question in questions:
        for item in question.evidence:
            quote = normalise_space(item.quote)
            if not any(quote in text for text in by_source.get(item.document, [])):
                missing.append(f"{question.id}: {item.document}: {item.quote[:80]!r}")
    return tuple(missing)


def _search_all(
    searcher: Searcher,
    questions: Sequence[Question],
    mode: Mode,
    k: int,
    progress: Callable[[int], Any] | None,
) -> list[QuestionResult]:
    """Every question searched in ``mode`` after one untimed warm-up, scored against its evidence."""
    if questions:
        searcher.search(questions[0].question, k=k, mode=mode, extract=False)
    answers: list[tuple[Question, Answer, float]] = []
    for question in questions:
        started = time.perf_counter()
        answer = searcher.search(question.question, k=k, mode=mode, extract=False)
        answers.append((question, answer, time.perf_counter() - started))
        if progress is not None:
            progress(1)
    ranks = {q.id: first_cover_ranks([h.chunk for h in a.hits], q.evidence) for q, a, _ in answers}
    metrics = evidence_metrics({qid: r for qid, r in ranks.items() if r}, k)
    return [
        QuestionResult(
            q,
            mode,
            ranks[q.id],
            tuple(h.chunk for h in a.hits[:SHOWN_PASSAGES]),
            a.low_confidence,
            a.best_similarity,
            seconds,
            metrics.get(q.id, {}),
        )
        for q, a, seconds in answers
    ]


def evaluate(
    searcher: Searcher,
    questions: Sequence[Question],
    k: int = 10,
    modes: Sequence[Mode] = REPORT_MODES,
    questions_file: str = "",
    progress: Callable[[int], Any] | None = None,
) -> ReferenceReport:
    """Search every question in every mode and score the passages against the evidence."""
    if k < SHOWN_PASSAGES:
        raise ValueError(f"k must be at least {SHOWN_PASSAGES}, got {k}")
    by_mode = {mode: _search_all(searcher, questions, mode, k, progress) for mode in modes}
    snapshot = searcher.snapshot
    return ReferenceReport(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        questions_file=questions_file,
        index_version=snapshot.version,
        model=searcher.settings.model,
        k=k,
        modes=tuple(
            summarise(mode, results, searcher.settings.min_similarity)
            for mode, results in by_mode.items()
        ),
        unreachable=unreachable_evidence(snapshot.chunks, questions),
        questions=tuple(
            QuestionReport(
                question.id,
                question.type,
                tuple(results[position].outcome() for results in by_mode.values()),
            )
            for position, question in enumerate(questions)
        ),
    )
