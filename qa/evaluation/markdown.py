"""The files of a run: ``eval.json``, ``eval.png`` and ``eval.md`` (the Markdown is pure).

``eval.md`` holds every figure of the run: per part the retrieval table with ratios to
the naive anchor, the anchor itself, the figures per tag, low confidence and latency, the
answer-level figures per type and tag, the records against gold, then the comparison with
an earlier run and, for the reference set, every retrieval failure and every answer that
is not right, with what the user read.

Example::

    write_reports(run, questions, Path("reports"), previous=read_report(Path("old.json")))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from qa.evaluation.anchor import ANCHOR_DESCRIPTION
from qa.evaluation.answers import AnswerSummary
from qa.evaluation.chart import write_chart
from qa.evaluation.compare import comparison_section
from qa.evaluation.metrics import OVERALL
from qa.evaluation.reference import Question
from qa.evaluation.render import (
    ANSWER_COLUMNS,
    answer_cells,
    flag_cells,
    format_failures,
    metric_cell,
    record_line,
)
from qa.evaluation.report import (
    BeirReport,
    EvaluationRun,
    ReferenceReport,
    Report,
    TypeSummary,
    anchor_base,
    shortened,
)
from qa.evaluation.report_json import write_json

NOT_COMPUTED = "n/a (not computed)"
ANSWER_DEFINITIONS = (
    "Answers in the mode shown (`qa.evaluation.answers` defines each measure): a sentence"
    " *holds* an evidence item when it is from the item's document and contains its quote"
    " or an alternative. 1st quote / any quote: the first / some sentence holds an item"
    " (of answerable questions). answer ok: the first sentence contains an `answer` string"
    " and no `answer_excludes` string. periods: every period of a comparison has a sentence"
    " holding an item of that period. flagged: the answer is `low_confidence` or carries a"
    " note of what the corpus does not hold (`Answer.missing`); wanted for unanswerable"
    " questions, a false flag for answerable ones. right: answer ok where `answer` is set,"
    " else periods where `periods` is set, else 1st quote; flagged for unanswerable."
)


def _metric_table(
    label: str,
    rows: Sequence[tuple[str, TypeSummary]],
    names: Sequence[str],
    base: Mapping[str, Mapping[str, float]],
) -> list[str]:
    """Rows of (first column, group) with each metric and its ratio to the group in ``base``."""
    lines = [
        f"| {label} | group | n | " + " | ".join(names) + " |",
        "|---|---|---:|" + "---:|" * len(names),
    ]
    for first, group in rows:
        bold = "**" if group.type == OVERALL else ""
        cells = [f"{bold}{metric_cell(group.metrics[n], base, group.type, n)}{bold}" for n in names]
        lines.append(
            f"| {first} | {bold}{group.type}{bold} | {group.questions} | "
            + " | ".join(cells)
            + " |"
        )
    return lines


def _flags_and_latency(report: Report) -> list[str]:
    lines = [
        "| mode | low confidence on unanswerable (wanted) | low confidence on answerable (wrong)"
        " | median latency | p95 latency |",
        "|---|---:|---:|---:|---:|",
    ]
    for summary in report.modes:
        wanted, wrong = flag_cells(summary, NOT_COMPUTED)
        lines.append(
            f"| {summary.mode} | {wanted} | {wrong} | {summary.latency.median_ms:.1f} ms"
            f" | {summary.latency.p95_ms:.1f} ms |"
        )
    for summary in report.modes:
        flags = summary.low_confidence
        if (
            flags
            and flags.unanswerable_similarity is not None
            and flags.answerable_similarity is not None
        ):
            lines.append(
                f"\n{summary.mode}: median best dense similarity"
                f" {flags.unanswerable_similarity:.3f}"
                f" for unanswerable and {flags.answerable_similarity:.3f} for answerable questions"
                f" (the flag fires below min_similarity = {flags.threshold})."
            )
    return lines


def _answers_table(answers: AnswerSummary) -> list[str]:
    lines = [
        f"| answers ({answers.mode}) | n | " + " | ".join(ANSWER_COLUMNS) + " |",
        "|---|---:|" + "---:|" * len(ANSWER_COLUMNS),
    ]
    rows = [(f.group, f) for f in answers.types] + [(f"tag `{f.group}`", f) for f in answers.tags]
    for label, figures in rows:
        cells = [cell if cell == "—" else _percent(cell) for cell in answer_cells(figures)]
        lines.append(f"| {label} | {figures.questions} | " + " | ".join(cells) + " |")
    return lines


def _percent(cell: str) -> str:
    """``3/14`` → ``3/14 (21%)``."""
    part, whole = (int(n) for n in cell.split("/"))
    return f"{cell} ({part / whole:.0%})"


def _retrieval_section(report: Report) -> list[str]:
    names = report.metric_names
    rows = [(s.mode.value, t) for s in report.modes for t in s.types]
    lines = ["", *_metric_table("mode", rows, names, anchor_base(report.anchor))]
    if report.anchor:
        lines += [
            "",
            f"Naive anchor on the same units ({ANCHOR_DESCRIPTION}); the figures above are"
            " followed by their ratio to its fusion (rrf).",
            "",
            *_metric_table(
                "anchor",
                [(f"anchor {a.method}", t) for a in report.anchor for t in a.types],
                names,
                {},
            ),
        ]
    tag_rows = [(s.mode.value, t) for s in report.modes for t in s.tags]
    if tag_rows:
        lines += [
            "",
            "Per tag (answerable questions):",
            "",
            *_metric_table("mode", tag_rows, names, anchor_base(report.anchor, tags=True)),
        ]
    return [*lines, "", *_flags_and_latency(report)]


def _reference_section(
    report: ReferenceReport, questions: Sequence[Question], chart: str | None
) -> list[str]:
    lines = [
        f"## Reference set `{report.questions_file}`",
        "",
        f"{report.created_at} · {len(report.questions)} questions"
        f" · index `{report.index_version}`"
        f" · model `{report.model}` · depth k = {report.k}",
        "",
        "A passage covers an evidence item when it is from the quoted document and contains"
        " the quote or one of its alternatives (whitespace collapsed). R@c: fraction of a"
        " question's evidence covered in the top c passages; MRR and nDCG count the rank of the"
        " first passage covering each item. Means over answerable questions.",
        *_retrieval_section(report),
    ]
    if chart:
        lines += ["", f"![Recall@5 per question type and MRR per mode]({chart})"]
    if report.answers is not None:
        lines += ["", "### Answers", "", ANSWER_DEFINITIONS, "", *_answers_table(report.answers)]
    if report.records:
        lines += ["", "### Records against gold", ""]
        for score in report.records:
            lines.append(f"- `{score.gold_file}`: {record_line(score)}")
            lines += [f"  - {shortened(miss, 160)}" for miss in score.misses]
    if report.unreachable:
        lines += [
            "",
            "### Evidence that no indexed passage contains",
            "",
            "The chunker split these quotes across passages, so no mode can find them:",
            "",
            *(f"- {item}" for item in report.unreachable),
        ]
    failures = format_failures(report, questions, markdown=True)
    lines += [
        "",
        f"### Retrieval failures ({len(report.failures())} questions)",
        "",
        failures or "Every answerable question has all its evidence in the top 5 in every mode.",
    ]
    return [*lines, *_answer_failures(report, questions)]


def _answer_failures(report: ReferenceReport, questions: Sequence[Question]) -> list[str]:
    """Each question whose answer is not right, with the first sentence the user read."""
    if report.answers is None:
        return []
    by_id = {question.id: question for question in questions}
    wrong = [(q, q.answer) for q in report.questions if q.answer is not None and not q.answer.right]
    lines = ["", f"### Answers not right ({len(wrong)} of {len(report.questions)})", ""]
    for entry, answer in wrong:
        question = by_id[entry.id]
        if not question.answerable:
            why = "not flagged"
        elif answer.answer_right is False:
            why = f"first sentence lacks {list(question.answer)}" + (
                f" or holds one of {list(question.answer_excludes)}"
                if question.answer_excludes
                else ""
            )
        elif answer.periods_complete is False:
            why = f"no sentence for {', '.join(answer.uncovered)}"
        else:
            why = "first sentence holds no gold quote"
        first = shortened(answer.first_sentence, 140).replace("|", "\\|") or "(no sentence)"
        where = f"{entry.id} ({entry.type})"
        lines.append(f"- {where}: {question.question} — {why}; first: “{first}”")
    return lines


def _beir_section(report: BeirReport) -> list[str]:
    return [
        f"## BEIR {report.dataset} ({report.split})",
        "",
        f"{report.created_at} · model `{report.model}` · {report.queries} queries ·"
        f" {report.indexed_documents} of {report.documents} documents indexed"
        f" in {report.chunks} chunks ({report.index_seconds:.0f} s)",
        "",
        "Each document ranks where its first passage does; the anchor ranks whole documents."
        " Metrics from ir_measures, mean over judged queries.",
        *_retrieval_section(report),
    ]


def format_markdown(
    run: EvaluationRun,
    questions: Sequence[Question] = (),
    previous: EvaluationRun | None = None,
    chart: str | None = None,
) -> str:
    """The eval.md report of a run; ``questions`` is the reference set the run used."""
    lines = ["# Evaluation", "", f"{run.created_at}"]
    lines += [f"- skipped {reason}" for reason in run.skipped]
    for part in run.parts:
        lines.append("")
        if isinstance(part, BeirReport):
            lines += _beir_section(part)
        else:
            lines += _reference_section(part, questions, chart)
    if previous is not None:
        lines += comparison_section(previous, run)
    return "\n".join(lines) + "\n"


def write_reports(
    run: EvaluationRun,
    questions: Sequence[Question],
    out: Path,
    previous: EvaluationRun | None = None,
) -> list[Path]:
    """Write eval.json, eval.png (with a reference set) and eval.md into ``out``; their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "eval.json"]
    write_json(run, paths[0])
    chart = None
    if run.reference is not None:
        paths.append(out / "eval.png")
        write_chart(run.reference, paths[-1])
        chart = paths[-1].name
    paths.append(out / "eval.md")
    paths[-1].write_text(format_markdown(run, questions, previous, chart), encoding="utf-8")
    return paths
