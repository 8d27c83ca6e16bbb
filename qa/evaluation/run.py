"""Running a reference set through a :class:`~qa.search.Searcher` in every mode (``qa eval``).

Each question is searched once per mode, the passages are scored against its evidence
(:mod:`.metrics`), and the results are reduced to a :class:`~.report.ReferenceReport`.
In :data:`~.answers.ANSWER_MODE` each question is also asked as ``qa ask`` asks it (its
top k passages and the extractive answer) and the answer is scored (:mod:`.answers`); only
retrieval is timed (the answer is timed by ``qa ask -v``). Given an anchor, the naive
anchor ranks the same chunks (:mod:`.anchor`); given a folder of gold records, the index's
records are scored (:mod:`.records`).

Example::

    questions = load_reference_set(Path("eval/questions.jsonl"))
    chunks = [chunk.text for chunk in searcher.snapshot.chunks]
    report = evaluate(searcher, questions, k=10, anchor=Anchor.build(chunks, anchor_embedder()))
    print(format_table(report))
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from qa.evaluation.anchor import Anchor, AnchorMethod
from qa.evaluation.answers import ANSWER_MODE, AnswerOutcome, judge_answer, summarise_answers
from qa.evaluation.metrics import (
    OVERALL,
    SHOWN_PASSAGES,
    evidence_metrics,
    first_cover_ranks,
    holds,
    mean_by_group,
    missed_evidence,
)
from qa.evaluation.records import score_records
from qa.evaluation.reference import Question, QuestionType
from qa.evaluation.report import (
    REPORT_MODES,
    AnchorSummary,
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
    from pathlib import Path

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
    answer: AnswerOutcome | None = None

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


def type_summaries(
    questions: Sequence[Question], metrics: Mapping[str, Mapping[str, float]]
) -> tuple[tuple[TypeSummary, ...], tuple[TypeSummary, ...]]:
    """Mean metrics of the answerable questions per type (``OVERALL`` last) and per tag.

    ``metrics`` holds each answerable question's metrics by id.
    """
    answerable = [q for q in questions if q.answerable and q.id in metrics]
    means = mean_by_group(
        {q.id: metrics[q.id] for q in answerable},
        {q.id: q.type.value for q in answerable},
        [t.value for t in QuestionType if t != QuestionType.UNANSWERABLE],
    )
    types = tuple(
        TypeSummary(
            group,
            sum(1 for q in answerable if group in (OVERALL, q.type)),
            published_metrics(values),
        )
        for group, values in means.items()
    )
    tags: list[TypeSummary] = []
    for tag in dict.fromkeys(tag for q in answerable for tag in q.tags):
        members = [metrics[q.id] for q in answerable if tag in q.tags]
        names = list(members[0])
        values = {name: statistics.fmean(m[name] for m in members) for name in names}
        tags.append(TypeSummary(tag, len(members), published_metrics(values)))
    return types, tuple(tags)


def summarise(mode: Mode, results: Sequence[QuestionResult], threshold: float) -> ModeSummary:
    """Aggregate one mode's results: metrics by type and tag, low-confidence counts, latency."""
    answerable = [r for r in results if r.question.answerable]
    unanswerable = [r for r in results if not r.question.answerable]
    types, tags = type_summaries(
        [r.question for r in results], {r.question.id: r.metrics for r in answerable}
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
    return ModeSummary(mode, types, flags, Latency.of([r.seconds for r in results]), tags)


def unreachable_evidence(chunks: Iterable[Chunk], questions: Sequence[Question]) -> tuple[str, ...]:
    """Evidence no passage of the index contains, in any of its forms (the chunker split the
    quote): never findable."""
    by_source: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_source.setdefault(chunk.source, []).append(chunk)
    missing = []
    for question in questions:
        for item in question.evidence:
            sources = {quote.document for quote in item.quotes}
            candidates = [c for source in sources for c in by_source.get(source, [])]
            if not any(holds(c.source, c.text, item) for c in candidates):
                missing.append(f"{question.id}: {item.document}: {item.quote[:80]!r}")
    return tuple(missing)


def anchor_summaries(
    chunks: Sequence[Chunk],
    questions: Sequence[Question],
    k: int,
    anchor: Anchor,
) -> tuple[AnchorSummary, ...]:
    """The naive anchor's metrics per method on the index's own chunks (see :mod:`.anchor`)."""
    answerable = [q for q in questions if q.answerable]
    ranks: dict[AnchorMethod, dict[str, tuple[int | None, ...]]] = {m: {} for m in AnchorMethod}
    for question in answerable:
        for method, rows in anchor.rankings(question.question, k).items():
            ranks[method][question.id] = first_cover_ranks(
                [chunks[row] for row in rows], question.evidence
            )
    summaries = []
    for method, by_question in ranks.items():
        types, tags = type_summaries(questions, evidence_metrics(by_question, k))
        summaries.append(AnchorSummary(method, types, tags))
    return tuple(summaries)


def _search_all(
    searcher: Searcher,
    questions: Sequence[Question],
    mode: Mode,
    k: int,
    progress: Callable[[int], Any] | None,
) -> list[QuestionResult]:
    """Every question searched in ``mode`` after one untimed warm-up, scored against its evidence
    (and, in the answer mode, its answer too)."""
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
            _judged_answer(searcher, q) if mode == ANSWER_MODE else None,
        )
        for q, a, seconds in answers
    ]


def _judged_answer(searcher: Searcher, question: Question) -> AnswerOutcome:
    """The answer a user reads, as ``qa ask`` gives it (the settings' top k passages, not the
    evaluation depth, since the answer is built from the passages shown), scored."""
    answer = searcher.search(question.question, mode=ANSWER_MODE)
    return judge_answer(question, answer)


def evaluate(
    searcher: Searcher,
    questions: Sequence[Question],
    k: int = 10,
    modes: Sequence[Mode] = REPORT_MODES,
    questions_file: str = "",
    progress: Callable[[int], Any] | None = None,
    anchor: Anchor | None = None,
    gold: Path | None = None,
) -> ReferenceReport:
    """Search every question in every mode and score the passages against the evidence.

    ``anchor``, built on the index's chunks in their order, adds the naive anchor's figures;
    ``gold`` is the folder of gold record files to score the index's records by.
    """
    if k < SHOWN_PASSAGES:
        raise ValueError(f"k must be at least {SHOWN_PASSAGES}, got {k}")
    by_mode = {mode: _search_all(searcher, questions, mode, k, progress) for mode in modes}
    snapshot = searcher.snapshot
    anchored = anchor_summaries(list(snapshot.chunks), questions, k, anchor) if anchor else ()
    judged = [(r.question, r.answer) for r in by_mode.get(ANSWER_MODE, []) if r.answer is not None]
    answer_of = {question.id: outcome for question, outcome in judged}
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
                question.tags,
                answer_of.get(question.id),
            )
            for position, question in enumerate(questions)
        ),
        anchor=anchored,
        answers=summarise_answers(judged) if judged else None,
        records=score_records(searcher, gold) if gold is not None else (),
    )
