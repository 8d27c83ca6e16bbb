"""Evaluation reports as people read them: terminal tables, Markdown and a chart.

Every function reads the typed records of :mod:`.report`, so a fresh run and a report
read back from its file render alike. Only :func:`write_reports` and
:func:`write_beir_reports` touch the disk.

Example::

    print(format_table(report))
    write_reports(report, questions, Path("reports"))
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.evaluation.compare import comparison_section
from qa.evaluation.metrics import OVERALL, missed_evidence
from qa.evaluation.reference import Question, QuestionType
from qa.evaluation.report import (
    BeirReport,
    ModeSummary,
    PassageSummary,
    ReferenceReport,
    Report,
    shortened,
)
from qa.evaluation.report_json import write_json
from qa.types import Mode

MODE_COLOURS = {Mode.LEXICAL: "#4C72B0", Mode.DENSE: "#DD8452", Mode.HYBRID: "#55A868"}
NOT_COMPUTED = "n/a (not computed)"


def fraction(part: int, whole: int) -> str:
    """``3/14 (21%)``, or a dash where there is nothing to count."""
    return f"{part}/{whole} ({part / whole:.0%})" if whole else "—"


def _flag_cells(summary: ModeSummary, missing: str) -> tuple[str, str]:
    """How often the low-confidence flag fired on unanswerable (wanted) and answerable questions."""
    flags = summary.low_confidence
    if flags is None:
        return missing, missing
    return (
        fraction(flags.unanswerable_flagged, flags.unanswerable),
        fraction(flags.answerable_flagged, flags.answerable),
    )


def format_table(report: Report) -> str:
    """The compact terminal table: mode × type, then low confidence and latency per mode."""
    names = report.metric_names
    lines = [f"{'mode':<8} {'type':<15} {'n':>3} " + " ".join(f"{n:>8}" for n in names)]
    for position, summary in enumerate(report.modes):
        if position:
            lines.append("")
        lines += [
            f"{summary.mode:<8} {t.type:<15} {t.questions:>3} "
            + " ".join(f"{t.metrics[n]:>8.3f}" for n in names)
            for t in summary.types
        ]
    flagged = any(summary.low_confidence for summary in report.modes)
    flag_header = f" {'low-conf unanswerable':>22} {'low-conf answerable':>20}" if flagged else ""
    lines += ["", f"{'mode':<8}{flag_header} {'median ms':>10} {'p95 ms':>8}"]
    for summary in report.modes:
        wanted, wrong = _flag_cells(summary, "n/a")
        cells = f" {wanted:>22} {wrong:>20}" if flagged else ""
        latency = summary.latency
        lines.append(f"{summary.mode:<8}{cells} {latency.median_ms:>10.1f} {latency.p95_ms:>8.1f}")
    return "\n".join(lines)


def _passage_line(rank: int, passage: PassageSummary, markdown: bool) -> str:
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
                f"{indent}  {_passage_line(rank, passage, markdown)}"
                for rank, passage in enumerate(outcome.top, start=1)
            ]
        lines.append("")
    return "\n".join(lines).rstrip()


def _markdown_metric_rows(report: ReferenceReport) -> list[str]:
    names = report.metric_names
    lines = [
        "| mode | type | n | " + " | ".join(names) + " |",
        "|---|---|---:|" + "---:|" * len(names),
    ]
    for summary in report.modes:
        for t in summary.types:
            bold = "**" if t.type == OVERALL else ""
            lines.append(
                f"| {summary.mode} | {bold}{t.type}{bold} | {t.questions} | "
                + " | ".join(f"{bold}{t.metrics[n]:.3f}{bold}" for n in names)
                + " |"
            )
    return lines


def _markdown_flags_and_latency(report: ReferenceReport) -> list[str]:
    lines = [
        "",
        "| mode | low confidence on unanswerable (wanted) | low confidence on answerable (wrong)"
        " | median latency | p95 latency |",
        "|---|---:|---:|---:|---:|",
    ]
    for summary in report.modes:
        wanted, wrong = _flag_cells(summary, NOT_COMPUTED)
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


def format_markdown(
    report: ReferenceReport,
    questions: Sequence[Question],
    previous: Report | None = None,
    chart: str | None = None,
) -> str:
    """The eval.md report: metrics, low confidence, latency, comparison and failures."""
    lines = [
        "# Retrieval evaluation",
        "",
        f"{report.created_at} · questions `{report.questions_file}`"
        f" · index `{report.index_version}` · model `{report.model}` · depth k = {report.k}",
        "",
        "A passage covers an evidence item when it is from the quoted document and contains"
        " the quote (whitespace collapsed). R@c: fraction of a question's evidence covered in"
        " the top c passages; MRR and nDCG count the rank of the first passage covering each"
        " item. Means over answerable questions.",
        "",
        *_markdown_metric_rows(report),
        *_markdown_flags_and_latency(report),
    ]
    if chart:
        lines += ["", f"![Recall@5 per question type and MRR per mode]({chart})"]
    if previous is not None:
        lines += comparison_section(previous, report)
    if report.unreachable:
        lines += [
            "",
            "## Evidence that no indexed passage contains",
            "",
            "The chunker split these quotes across passages, so no mode can find them:",
            "",
        ]
        lines += [f"- {item}" for item in report.unreachable]
    failures = format_failures(report, questions, markdown=True)
    lines += [
        "",
        f"## Failures ({len(report.failures())} questions)",
        "",
        failures or "Every answerable question has all its evidence in the top 5 in every mode.",
    ]
    not_flagged = sorted(
        question.id
        for question in report.questions
        if question.type == QuestionType.UNANSWERABLE
        and any(o.mode == Mode.HYBRID and not o.low_confidence for o in question.outcomes)
    )
    if not_flagged:
        lines += [
            "",
            "Unanswerable questions not flagged as low confidence in hybrid mode: "
            + ", ".join(not_flagged),
        ]
    return "\n".join(lines) + "\n"


def write_chart(report: ReferenceReport, path: Path) -> None:
    """Grouped bars of recall@5 per question type and mode, beside overall MRR per mode."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    modes = [summary.mode for summary in report.modes]
    present = dict.fromkeys(t.type for summary in report.modes for t in summary.types)
    groups = [g for g in present if g != OVERALL] + [OVERALL]
    mrr = next(n for n in report.metric_names if n.startswith("MRR@"))
    figure = Figure(figsize=(11, 4.2), dpi=150, layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2, width_ratios=[4, 1])
    width = 0.8 / len(modes)
    handles: list[Any] = []
    for i, summary in enumerate(report.modes):
        metrics = summary.metrics
        values = [metrics.get(g, {}).get("R@5", 0.0) for g in groups]
        positions = [x + (i - (len(modes) - 1) / 2) * width for x in range(len(groups))]
        colour = MODE_COLOURS.get(summary.mode)
        bars = left.bar(positions, values, width, label=summary.mode, color=colour)
        handles.append(bars)
        left.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=6.5, padding=1)
        value = metrics.get(OVERALL, {}).get(mrr, 0.0)
        bar = right.bar([i], [value], 0.7, color=colour)
        right.bar_label(bar, labels=[f"{value:.2f}"], fontsize=8, padding=1)
    counts = {t.type: t.questions for t in report.modes[0].types}
    left.set_xticks(
        range(len(groups)),
        [f"{g.replace('_', ' ')}\n(n={counts.get(g, 0)})" for g in groups],
        fontsize=8,
    )
    left.get_xticklabels()[-1].set_fontweight("bold")
    left.axvline(len(groups) - 1.5, color="#999999", linewidth=0.8, linestyle=":")
    left.set_ylim(0, 1.1)
    left.set_ylabel("recall@5")
    left.set_title("Recall@5 by question type", fontsize=10)
    figure.legend(
        handles, modes, loc="outside lower center", ncols=len(modes), fontsize=9, frameon=False
    )
    figure.suptitle(
        f"qa eval · {report.questions_file.rsplit('/', 1)[-1]} · index"
        f" {report.index_version} · k = {report.k}",
        fontsize=9,
        color="#555555",
    )
    right.set_xticks(range(len(modes)), modes, fontsize=8)
    right.set_ylim(0, 1.1)
    right.set_title(f"Overall {mrr}", fontsize=10)
    for axes in (left, right):
        axes.spines[["top", "right"]].set_visible(False)
        axes.grid(axis="y", linewidth=0.4, alpha=0.5)
        axes.set_axisbelow(True)
    figure.savefig(path)


def write_reports(
    report: ReferenceReport,
    questions: Sequence[Question],
    out: Path,
    previous: Report | None = None,
) -> list[Path]:
    """Write eval.json, eval.png and eval.md into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "eval.json", out / "eval.png", out / "eval.md"]
    write_json(report, paths[0])
    write_chart(report, paths[1])
    markdown = format_markdown(report, questions, previous, chart=paths[1].name)
    paths[2].write_text(markdown, encoding="utf-8")
    return paths


# --- BEIR


def format_beir_table(report: BeirReport) -> str:
    return (
        f"BEIR {report.dataset} ({report.split}): {report.queries} queries,"
        f" {report.indexed_documents}/{report.documents} documents"
        f" in {report.chunks} chunks\n" + format_table(report)
    )


def format_beir_markdown(report: BeirReport, previous: Report | None = None) -> str:
    names = report.metric_names
    lines = [
        f"# BEIR evaluation: {report.dataset} ({report.split})",
        "",
        f"{report.created_at} · model `{report.model}` · {report.queries} queries ·"
        f" {report.indexed_documents} of {report.documents} documents indexed"
        f" in {report.chunks} chunks ({report.index_seconds:.0f} s)",
        "",
        "Each document ranks where its first passage does."
        " Metrics from ir_measures, mean over judged queries.",
        "",
        "| mode | " + " | ".join(names) + " | median latency | p95 latency |",
        "|---|" + "---:|" * (len(names) + 2),
    ]
    for summary in report.modes:
        metrics = summary.metrics[OVERALL]
        lines.append(
            f"| {summary.mode} | "
            + " | ".join(f"{metrics[n]:.3f}" for n in names)
            + f" | {summary.latency.median_ms:.1f} ms | {summary.latency.p95_ms:.1f} ms |"
        )
    if previous is not None:
        lines += comparison_section(previous, report)
    return "\n".join(lines) + "\n"


def write_beir_reports(report: BeirReport, out: Path, previous: Report | None = None) -> list[Path]:
    """Write beir-<dataset>.json and .md into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"beir-{report.dataset}"
    paths = [out / f"{stem}.json", out / f"{stem}.md"]
    write_json(report, paths[0])
    paths[1].write_text(format_beir_markdown(report, previous), encoding="utf-8")
    return paths
