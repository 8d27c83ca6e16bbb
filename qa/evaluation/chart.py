"""The chart of a reference-set report (``eval.png``): recall@5 per type and mode, and MRR.

Example::

    write_chart(run.reference, Path("reports/eval.png"))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qa.evaluation.metrics import OVERALL
from qa.evaluation.report import ReferenceReport
from qa.types import Mode

MODE_COLOURS = {Mode.LEXICAL: "#4C72B0", Mode.DENSE: "#DD8452", Mode.HYBRID: "#55A868"}


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
