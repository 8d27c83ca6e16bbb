"""Evaluation reports as a terminal reads them: compact tables of a whole run (pure).

Every function reads the typed records of :mod:`.report`, so a fresh run and a report
read back from its file print alike. Each retrieval figure is followed by its ratio to
the naive anchor on the same units (``0.784 ×0.99``); :mod:`.markdown` writes the same
figures, and more, into ``eval.md``.

Example::

    print(format_run(run))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from qa.evaluation.answers import ANSWER_MODE, KEY_TAGS, AnswerFigures, AnswerSummary
from qa.evaluation.metrics import OVERALL, missed_evidence
from qa.evaluation.records import RecordScore
from qa.evaluation.reference import Question
from qa.evaluation.report import (
    BeirReport,
    EvaluationRun,
    ModeSummary,
    PassageSummary,
    ReferenceReport,
    Report,
    TypeSummary,
    anchor_base,
    shortened,
)

RATIO_NOTE = "each figure ×its ratio to the naive anchor (RRF of BM25 and MiniLM on the same units)"


def fraction(part: int, whole: int) -> str:
    """``3/14 (21%)``, or a dash where there is nothing to count."""
    return f"{part}/{whole} ({part / whole:.0%})" if whole else "—"


def count(part: int, whole: int) -> str:
    """``3/14``, or a dash where there is nothing to count: the terminal's compact cell."""
    return f"{part}/{whole}" if whole else "—"


def metric_cell(
    value: float, base: Mapping[str, Mapping[str, float]], group: str, metric: str
) -> str:
    """A figure and its ratio to the same group's figure in ``base`` (the anchor's, see
    :func:`~.report.anchor_base`) where there is one and it is not 0: ``0.784 ×0.99``."""
    reference = base.get(group, {}).get(metric)
    return f"{value:.3f}" + (f" ×{value / reference:.2f}" if reference else "")


def flag_cells(summary: ModeSummary, missing: str) -> tuple[str, str]:
    """How often the low-confidence flag fired on unanswerable (wanted) and answerable questions."""
    flags = summary.low_confidence
    if flags is None:
        return missing, missing
    return (
        fraction(flags.unanswerable_flagged, flags.unanswerable),
        fraction(flags.answerable_flagged, flags.answerable),
    )


def _rows(
    label: str,
    groups: Sequence[TypeSummary],
    names: Sequence[str],
    base: Mapping[str, Mapping[str, float]],
    width: int,
) -> list[str]:
    return [
        f"{label:<13} {t.type:<24} {t.questions:>3} "
        + " ".join(f"{metric_cell(t.metrics[n], base, t.type, n):>{width}}" for n in names)
        for t in groups
    ]


def format_table(report: Report) -> str:
    """One part's retrieval table: mode × type (× anchor ratio), the anchor's own figures,
    the key tags in the answer mode, then low confidence and latency per mode."""
    names = report.metric_names
    base = anchor_base(report.anchor)
    width = 14 if report.anchor else 8
    lines = [f"{'mode':<13} {'type':<24} {'n':>3} " + " ".join(f"{n:>{width}}" for n in names)]
    for position, summary in enumerate(report.modes):
        if position:
            lines.append("")
        lines += _rows(summary.mode.value, summary.types, names, base, width)
    if report.anchor:
        lines.append("")
        for method in report.anchor:
            overall = [t for t in method.types if t.type == OVERALL]
            lines += _rows(f"anchor {method.method}", overall, names, {}, width)
    answering = next((s for s in report.modes if s.mode == ANSWER_MODE), None)
    tags = [t for t in answering.tags if t.type in KEY_TAGS] if answering else []
    if tags:
        tag_base = anchor_base(report.anchor, tags=True)
        lines += ["", *_rows(f"{ANSWER_MODE} tag", tags, names, tag_base, width)]
    flagged = any(summary.low_confidence for summary in report.modes)
    flag_header = f" {'low-conf unanswerable':>22} {'low-conf answerable':>20}" if flagged else ""
    lines += ["", f"{'mode':<8}{flag_header} {'median ms':>10} {'p95 ms':>8}"]
    for summary in report.modes:
        wanted, wrong = flag_cells(summary, "n/a")
        cells = f" {wanted:>22} {wrong:>20}" if flagged else ""
        latency = summary.latency
        lines.append(f"{summary.mode:<8}{cells} {latency.median_ms:>10.1f} {latency.p95_ms:>8.1f}")
    return "\n".join(lines)


ANSWER_COLUMNS = (
    "1st quote",
    "any quote",
    "answer ok",
    "periods",
    "flagged",
    "false flag",
    "right",
)


def answer_cells(figures: AnswerFigures) -> tuple[str, ...]:
    """The counts of :data:`ANSWER_COLUMNS` for one group."""
    return (
        count(figures.first_quote, figures.answerable),
        count(figures.any_quote, figures.answerable),
        count(figures.answer_right, figures.with_answer),
        count(figures.periods_complete, figures.comparisons),
        count(figures.flagged, figures.unanswerable),
        count(figures.falsely_flagged, figures.answerable),
        count(figures.right, figures.questions),
    )


def format_answers(answers: AnswerSummary, all_tags: bool = False) -> str:
    """The answer-level table: per type, overall, then the key tags (or every tag)."""
    header = f"{'answers (' + answers.mode + ')':<28} {'n':>3} " + " ".join(
        f"{c:>10}" for c in ANSWER_COLUMNS
    )
    tags = [f for f in answers.tags if all_tags or f.group in KEY_TAGS]
    rows = [(f.group, f) for f in answers.types] + [(f"tag {f.group}", f) for f in tags]
    return "\n".join(
        [header]
        + [
            f"{label:<28} {f.questions:>3} " + " ".join(f"{c:>10}" for c in answer_cells(f))
            for label, f in rows
        ]
    )


def record_line(score: RecordScore) -> str:
    """``judgements: 14/16 found, 2 extra`` (recommendations add the statuses right)."""
    status = (
        f", status right {score.status_right}/{score.found}"
        if score.status_right is not None
        else ""
    )
    return f"{score.kind}: {score.found}/{score.gold} found{status}, {score.extra} extra"


def format_part(report: Report) -> str:
    """Everything the terminal shows of one part."""
    if isinstance(report, BeirReport):
        head = (
            f"BEIR {report.dataset} ({report.split}): {report.queries} queries,"
            f" {report.indexed_documents}/{report.documents} documents"
            f" in {report.chunks} chunks"
        )
    else:
        head = (
            f"Reference set {report.questions_file}: {len(report.questions)} questions,"
            f" index {report.index_version}, k = {report.k}"
        )
    blocks = [head + (f"; {RATIO_NOTE}" if report.anchor else ""), format_table(report)]
    if isinstance(report, ReferenceReport):
        if report.answers is not None:
            blocks.append(format_answers(report.answers))
        if report.records:
            blocks.append("records vs gold: " + "; ".join(record_line(s) for s in report.records))
    return "\n\n".join(blocks)


def format_run(run: EvaluationRun) -> str:
    """The terminal report of a whole run: each part, then what was skipped."""
    blocks = [format_part(part) for part in run.parts]
    blocks += [f"skipped {reason}" for reason in run.skipped]
    return "\n\n".join(blocks)


def passage_line(rank: int, passage: PassageSummary, markdown: bool) -> str:
    where = passage.source + (f" ¶{passage.paragraph}" if passage.paragraph else "")
    text = passage.text.replace("|", "\\|") if markdown else passage.text
    return f"{rank}. {where}: {text}"


def format_failures(
    report: ReferenceReport, questions: Sequence[Question], markdown: bool = False
) -> str:
    """Each answerable question whose top 5 passages miss evidence, per failing mode.

    ``questions`` are the reference set the report was run on: the report keeps only
    question ids, ranks and the top passages, the set gives the wording and the quotes.
    """
    by_id = {question.id: question for question in questions}
    bullet, indent = ("- ", "  ") if markdown else ("", "    ")
    lines: list[str] = []
    for failing in report.failures():
        question = by_id[failing.id]
        modes = ", ".join(outcome.mode for outcome in failing.failed)
        if markdown:
            lines += [f"### {question.id} ({question.type}) — missed by {modes}", ""]
            lines += [f"> {question.question}", ""]
        else:
            lines.append(f"{question.id} ({question.type}) missed by {modes}: {question.question}")
        for outcome in failing.failed:
            mode = f"- **{outcome.mode}**" if markdown else f"  {outcome.mode}"
            lines.append(f"{mode}: evidence not in the top 5:")
            lines += [
                f"{indent}{bullet}{item.document}: “{shortened(item.quote, 120)}”"
                for item in missed_evidence(question.evidence, outcome.ranks)
            ]
            lines.append(f"{indent}{bullet}top 5 passages:")
            lines += [
                f"{indent}  {passage_line(rank, passage, markdown)}"
                for rank, passage in enumerate(outcome.top, start=1)
            ]
        lines.append("")
    return "\n".join(lines).rstrip()
