"""How a run differs from an earlier one (``qa eval --compare OLD.json``).

Runs are compared part by part: the reference set with the reference set, each BEIR
dataset with the dataset of the same name; a part found in only one run is named. Within
a pair, every metric of a mode and question type found in both, the low-confidence rates,
the answer-level rates, the records found, and for reference sets the questions that
newly fail or newly pass (all their evidence in the top 5) and whose answers newly turn
right or wrong, and how many questions got the same top 5 sources (as when the same index
is searched by two backends: ``QA_BACKEND=milvus qa eval --compare embedded/eval.json``).
Reports of format 1 (one part each) compare alike.

Example::

    print(format_comparison(read_report(Path("docs/eval-before-issue6.json")), run))
"""

from __future__ import annotations

from dataclasses import dataclass

from qa.evaluation.answers import AnswerFigures
from qa.evaluation.metrics import OVERALL, SHOWN_PASSAGES
from qa.evaluation.report import (
    BeirReport,
    EvaluationRun,
    ReferenceReport,
    Report,
    part_name,
)
from qa.types import Mode

LOW_CONFIDENCE = "low_confidence"  # the group of the low-confidence rates among differences
# Answer-level rates compared between runs: (name, part, whole) of AnswerFigures.
ANSWER_RATES = (
    ("first sentence holds a gold quote", "first_quote", "answerable"),
    ("some sentence holds a gold quote", "any_quote", "answerable"),
    ("first sentence states the answer", "answer_right", "with_answer"),
    ("comparison covers every period", "periods_complete", "comparisons"),
    ("unanswerable flagged", "flagged", "unanswerable"),
    ("answerable falsely flagged", "falsely_flagged", "answerable"),
    ("right", "right", "questions"),
)


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


def pair_parts(old: EvaluationRun, new: EvaluationRun) -> list[tuple[Report | None, Report]]:
    """Each part of ``new`` with its counterpart in ``old`` (None where it has none)."""

    def key(part: Report) -> str:
        return f"beir:{part.dataset}" if isinstance(part, BeirReport) else "reference"

    before = {key(part): part for part in old.parts}
    return [(before.get(key(part)), part) for part in new.parts]


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


def _rate(figures: AnswerFigures, part: str, whole: str) -> float | None:
    total = getattr(figures, whole)
    return getattr(figures, part) / total if total else None


def answer_changes(old: Report, new: Report) -> list[str]:
    """One line per overall answer rate and per record score present in both reports."""
    if not isinstance(old, ReferenceReport) or not isinstance(new, ReferenceReport):
        return []
    lines = []
    if old.answers is not None and new.answers is not None:
        then = next(f for f in old.answers.types if f.group == OVERALL)
        now = next(f for f in new.answers.types if f.group == OVERALL)
        for name, part, whole in ANSWER_RATES:
            was, rate = _rate(then, part, whole), _rate(now, part, whole)
            if was is not None and rate is not None:
                lines.append(f"answers ({new.answers.mode}): {name} {was:.0%} → {rate:.0%}")
    records = {(score.kind, score.gold_file): score for score in old.records}
    for score in new.records:
        was_score = records.get((score.kind, score.gold_file))
        if was_score is not None:
            lines.append(
                f"records: {score.kind} found {was_score.found}/{was_score.gold}"
                f" → {score.found}/{score.gold}"
            )
    return lines


def changed_questions(old: Report, new: Report) -> dict[str, tuple[list[str], list[str]]]:
    """Per mode, the question ids that newly fail and newly pass (all evidence in the top 5);
    under "answers", those whose answer newly turned wrong and newly turned right."""
    changes: dict[str, tuple[list[str], list[str]]] = {}
    if not isinstance(old, ReferenceReport) or not isinstance(new, ReferenceReport):
        return changes
    before = {question.id: question for question in old.questions}
    for summary in new.modes:
        broke: list[str] = []
        fixed: list[str] = []
        for question in new.questions:
            now = question.outcome(summary.mode)
            then = before[question.id].outcome(summary.mode) if question.id in before else None
            if now is None or then is None or now.missed is None or then.missed is None:
                continue
            if now.missed and not then.missed:
                broke.append(question.id)
            elif then.missed and not now.missed:
                fixed.append(question.id)
        changes[summary.mode.value] = (broke, fixed)
    wrong: list[str] = []
    right: list[str] = []
    for question in new.questions:
        earlier = before.get(question.id)
        was, now_answer = earlier.answer if earlier else None, question.answer
        if was is None or now_answer is None or was.right == now_answer.right:
            continue
        (right if now_answer.right else wrong).append(question.id)
    if wrong or right:
        changes["answers"] = (wrong, right)
    return changes


def top_agreement(old: Report, new: Report, mode: Mode = Mode.HYBRID) -> str | None:
    """How many questions found in both reports got the same top 5 sources in ``mode`` (the
    same documents in the same order), and how many the very same 5 passages."""
    if not isinstance(old, ReferenceReport) or not isinstance(new, ReferenceReport):
        return None
    before = {question.id: question.outcome(mode) for question in old.questions}
    pairs = [
        (then, now)
        for question in new.questions
        if (now := question.outcome(mode)) is not None
        and (then := before.get(question.id)) is not None
    ]
    if not pairs:
        return None
    sources = sum(
        [p.source for p in then.top] == [p.source for p in now.top] for then, now in pairs
    )
    passages = sum(
        [(p.source, p.start) for p in then.top] == [(p.source, p.start) for p in now.top]
        for then, now in pairs
    )
    return (
        f"{mode}: the top {SHOWN_PASSAGES} sources agree for {sources} of {len(pairs)} questions"
        f" ({sources / len(pairs):.0%}); the same {SHOWN_PASSAGES} passages for {passages}"
        f" ({passages / len(pairs):.0%})"
    )


def _signed(value: float) -> str:
    return f"{value:+.3f}" if abs(value) >= 0.0005 else "0"


def comparison_section(old: EvaluationRun, new: EvaluationRun) -> list[str]:
    """Markdown lines of the "change against an earlier report" section of a report."""
    return ["", "## Change against an earlier report", "", format_comparison(old, new, True)]


def format_comparison(old: EvaluationRun, new: EvaluationRun, markdown: bool = False) -> str:
    """The change of every figure against ``old`` (new − old), part by part."""
    header = f"Change against the report of {old.created_at} (new − old):"
    blocks = [header]
    for then, now in pair_parts(old, new):
        title = f"### {part_name(now)}" if markdown else f"{part_name(now)}:"
        if then is None:
            blocks.append(f"{title}\n\nnot in the earlier report" if markdown else f"{title} new")
            continue
        blocks.append(title + ("\n\n" if markdown else "\n") + _format_pair(then, now, markdown))
    return "\n\n".join(blocks)


def _format_pair(old: Report, new: Report, markdown: bool) -> str:
    differences = compare_reports(old, new)
    if not differences:
        return "No metric in common with the earlier report."
    metrics = [d for d in differences if d.group != LOW_CONFIDENCE]
    flags = [d for d in differences if d.group == LOW_CONFIDENCE]
    names = list(dict.fromkeys(d.metric for d in metrics))
    cells: dict[tuple[Mode, str], dict[str, str]] = {}
    for d in metrics:
        cells.setdefault((d.mode, d.group), {})[d.metric] = _signed(d.change)
    bullet = "- " if markdown else ""
    if markdown:
        lines = ["| mode | type | " + " | ".join(names) + " |", "|---|---|" + "---:|" * len(names)]
        lines += [
            f"| {m} | {g} | " + " | ".join(c.get(n, "") for n in names) + " |"
            for (m, g), c in cells.items()
        ]
        lines.append("")
    else:
        lines = [f"{'mode':<8} {'type':<15} " + " ".join(f"{n:>8}" for n in names)]
        previous = None
        for (mode, group), values in cells.items():
            if previous is not None and mode != previous:
                lines.append("")
            previous = mode
            lines.append(
                f"{mode:<8} {group:<15} " + " ".join(f"{values.get(n, ''):>8}" for n in names)
            )
        lines.append("")
    lines += [
        f"{bullet}{d.mode}: low-confidence {d.metric.replace('_', ' ')} {d.old:.2f} → {d.new:.2f}"
        for d in flags
    ]
    lines += [f"{bullet}{line}" for line in answer_changes(old, new)]
    agreement = top_agreement(old, new)
    if agreement is not None:
        lines.append(f"{bullet}{agreement}")
    for group, (broke, fixed) in changed_questions(old, new).items():
        answers = group == "answers"
        worse, better = (
            ("newly wrong", "newly right") if answers else ("newly failing", "newly passing")
        )
        if broke or fixed:
            lines.append(
                f"{bullet}{group}: {worse} {', '.join(broke) or 'none'};"
                f" {better} {', '.join(fixed) or 'none'}"
            )
    return "\n".join(lines).rstrip()
