"""How a report differs from an earlier one (``qa eval --compare OLD.json``).

Reports of either kind compare alike: every metric of a mode and question type found
in both, the low-confidence rates, and for reference sets the questions that newly
fail or newly pass (all their evidence in the top 5).

Example::

    print(format_comparison(read_report(Path("docs/eval-before-issue6.json")), report))
"""

from __future__ import annotations

from dataclasses import dataclass

from qa.evaluation.report import ReferenceReport, Report
from qa.types import Mode

LOW_CONFIDENCE = "low_confidence"  # the group of the low-confidence rates among differences


@dataclass(frozen=True)
class Difference:
    """One metric of one mode and group in two reports."""

    mode: Mode
    group: str
    metric: str
    old: float
    new: float

    @property
    def change(self) -> float:
        return self.new - self.old


def compare_reports(old: Report, new: Report) -> list[Difference]:
    """Every metric present in both reports, with its old and new value."""
    before = {summary.mode: summary for summary in old.modes}
    differences = []
    for summary in new.modes:
        then = before.get(summary.mode)
        if then is None:
            continue
        then_metrics = then.metrics
        for group in summary.types:
            for name, value in group.metrics.items():
                previous = then_metrics.get(group.type, {}).get(name)
                if previous is not None:
                    differences.append(Difference(summary.mode, group.type, name, previous, value))
        now_flags, then_flags = summary.low_confidence, then.low_confidence
        if now_flags is None or then_flags is None:
            continue
        rates = (
            ("unanswerable_rate", then_flags.unanswerable_rate, now_flags.unanswerable_rate),
            ("answerable_rate", then_flags.answerable_rate, now_flags.answerable_rate),
        )
        differences += [
            Difference(summary.mode, LOW_CONFIDENCE, name, was, now)
            for name, was, now in rates
            if was is not None and now is not None
        ]
    return differences


def changed_questions(old: Report, new: Report) -> dict[Mode, tuple[list[str], list[str]]]:
    """Per mode, the question ids that newly fail and newly pass (all evidence in the top 5)."""
    changes: dict[Mode, tuple[list[str], list[str]]] = {}
    for summary in new.modes:
        broke: list[str] = []
        fixed: list[str] = []
        if isinstance(old, ReferenceReport) and isinstance(new, ReferenceReport):
            before = {question.id: question for question in old.questions}
            for question in new.questions:
                now = question.outcome(summary.mode)
                then = before[question.id].outcome(summary.mode) if question.id in before else None
                if now is None or then is None or now.missed is None or then.missed is None:
                    continue
                if now.missed and not then.missed:
                    broke.append(question.id)
                elif then.missed and not now.missed:
                    fixed.append(question.id)
        changes[summary.mode] = (broke, fixed)
    return changes


def _signed(value: float) -> str:
    return f"{value:+.3f}" if abs(value) >= 0.0005 else "0"


def comparison_section(old: Report, new: Report) -> list[str]:
    """Markdown lines of the "change against an earlier report" section of a report."""
    return ["", "## Change against an earlier report", "", format_comparison(old, new, True)]


def format_comparison(old: Report, new: Report, markdown: bool = False) -> str:
    """The change of every metric against ``old`` (new − old), as a text or markdown table."""
    differences = compare_reports(old, new)
    if not differences:
        return "No metric in common with the earlier report."
    metrics = [d for d in differences if d.group != LOW_CONFIDENCE]
    flags = [d for d in differences if d.group == LOW_CONFIDENCE]
    names = list(dict.fromkeys(d.metric for d in metrics))
    cells: dict[tuple[Mode, str], dict[str, str]] = {}
    for d in metrics:
        cells.setdefault((d.mode, d.group), {})[d.metric] = _signed(d.change)
    header = f"Change against the report of {old.created_at} (new − old):"
    if markdown:
        lines = [
            header,
            "",
            "| mode | type | " + " | ".join(names) + " |",
            "|---|---|" + "---:|" * len(names),
        ]
        lines += [
            f"| {m} | {g} | " + " | ".join(c.get(n, "") for n in names) + " |"
            for (m, g), c in cells.items()
        ]
        lines.append("")
        lines += [
            f"- {d.mode}: low-confidence {d.metric.replace('_', ' ')} {d.old:.2f} → {d.new:.2f}"
            for d in flags
        ]
    else:
        lines = [header, f"{'mode':<8} {'type':<15} " + " ".join(f"{n:>8}" for n in names)]
        previous = None
        for (mode, group), values in cells.items():
            if previous is not None and mode != previous:
                lines.append("")
            previous = mode
            lines.append(
                f"{mode:<8} {group:<15} " + " ".join(f"{values.get(n, ''):>8}" for n in names)
            )
        lines += [""] + [
            f"{d.mode:<8} low-confidence {d.metric.replace('_', ' ')}: {d.old:.2f} → {d.new:.2f}"
            for d in flags
        ]
    for mode, (broke, fixed) in changed_questions(old, new).items():
        if broke or fixed:
            lines.append(
                f"{'- ' if markdown else ''}{mode}: newly failing {', '.join(broke) or 'none'};"
                f" newly passing {', '.join(fixed) or 'none'}"
            )
    return "\n".join(lines)
