"""Answer-level measures: does the answer a user reads first state the evidence? (pure)

Retrieval can find the evidence while the answer block quotes a heading or a sentence of
another year, so ``qa eval`` also scores the extractive answer of every question, in the
mode ``qa ask`` and the app use by default (:data:`ANSWER_MODE`). The definitions:

* A sentence *holds* an evidence item when it comes from the item's document and contains
  its quote, or one of its ``alternatives``, whitespace collapsed and case ignored
  (:func:`.metrics.holds`).
* ``first_quote`` / ``any_quote``: the first sentence / some sentence holds an item.
* ``answer_right`` (questions with ``answer``): the first sentence contains one of the
  ``answer`` strings and none of ``answer_excludes`` (case-insensitive, whitespace
  collapsed): "Good" is right only if the sentence does not also say "requires improvement".
* ``periods`` (comparisons): a period is covered when some sentence holds an evidence item
  whose ``period`` it is; the answer is complete when every period is covered.
* ``flagged``: the answer tells the user that the corpus does not hold what was asked:
  ``Answer.low_confidence`` (the answer then quotes nothing and says so, naming what is
  missing: "No document in the corpus is dated 2022."). A note on one missing part of an
  answer that still answers for the rest (one year of a comparison) is not a flag, nor is an
  answer that merely quotes nothing: it tells the user nothing. Flagging an unanswerable
  question is wanted; flagging an answerable one is a false flag.
* ``right``, the one figure per question that issue 16's acceptance reads: for an
  answerable question ``answer_right`` where ``answer`` is set, else every period covered
  where ``periods`` is set, else ``first_quote``; for an unanswerable question ``flagged``.

Example::

    outcome = judge_answer(question, searcher.search(question.question))
    figures = answer_figures(OVERALL, [(question, outcome)])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa.evaluation.metrics import OVERALL, holds
from qa.evaluation.reference import Question, QuestionType
from qa.text import normalise_space
from qa.types import Answer, AnswerSentence, Mode

ANSWER_MODE = Mode.HYBRID  # the mode of `qa ask` and the app, whose answers users read
# The tags whose figures the issues' acceptance names (eval/README.md, "Tags"); the terminal
# table shows these, eval.md and eval.json every tag of the set.
KEY_TAGS = (
    "lead_inspector",
    "judgement_change",
    "passage_without_council",
    "council_without_year",
    "year_without_report",
    "other_council",
)


@dataclass(frozen=True)
class AnswerOutcome:
    """How the answer to one reference question measures; see the module for each field.

    ``answer_right`` and ``periods_complete`` are None where the question sets no
    ``answer`` or no ``periods``; ``uncovered`` names the periods no sentence covers.
    ``first_sentence`` (whitespace collapsed) is kept so a report shows what the user read.
    """

    sentences: int
    first_sentence: str
    first_quote: bool
    any_quote: bool
    answer_right: bool | None
    periods_complete: bool | None
    uncovered: tuple[str, ...]
    flagged: bool
    right: bool


def _contains(text: str, wanted: str) -> bool:
    return normalise_space(wanted).lower() in text


def answer_holds(question: Question, sentences: Sequence[AnswerSentence]) -> tuple[bool, bool]:
    """Whether the first sentence, and whether any sentence, holds an evidence item."""
    holding = [any(holds(s.source, s.text, e) for e in question.evidence) for s in sentences]
    return bool(holding and holding[0]), any(holding)


def uncovered_periods(question: Question, sentences: Sequence[AnswerSentence]) -> tuple[str, ...]:
    """The periods of ``question`` no sentence covers with an item tagged with that period."""
    return tuple(
        period
        for period in question.periods
        if not any(
            holds(s.source, s.text, item)
            for item in question.evidence
            if item.period == period
            for s in sentences
        )
    )


def first_sentence_right(question: Question, sentences: Sequence[AnswerSentence]) -> bool | None:
    """The ``answer`` / ``answer_excludes`` check on the first sentence; None without ``answer``."""
    if not question.answer:
        return None
    first = normalise_space(sentences[0].text).lower() if sentences else ""
    return any(_contains(first, wanted) for wanted in question.answer) and not any(
        _contains(first, wrong) for wrong in question.answer_excludes
    )


def is_flagged(answer: Answer) -> bool:
    """The answer says the corpus may not hold what was asked (see the module docstring)."""
    return answer.low_confidence


def judge_answer(question: Question, answer: Answer) -> AnswerOutcome:
    """Every answer-level measure of one question's answer."""
    sentences = answer.sentences
    first, anywhere = answer_holds(question, sentences)
    uncovered = uncovered_periods(question, sentences)
    complete = not uncovered if question.periods else None
    answer_right = first_sentence_right(question, sentences)
    flagged = is_flagged(answer)
    if not question.answerable:
        right = flagged
    elif answer_right is not None:
        right = answer_right
    elif complete is not None:
        right = complete
    else:
        right = first
    return AnswerOutcome(
        sentences=len(sentences),
        first_sentence=normalise_space(sentences[0].text) if sentences else "",
        first_quote=first,
        any_quote=anywhere,
        answer_right=answer_right,
        periods_complete=complete,
        uncovered=uncovered,
        flagged=flagged,
        right=right,
    )


@dataclass(frozen=True)
class AnswerFigures:
    """Counts over the questions of one group: a type, a tag or ``OVERALL``.

    Quote, answer and period counts are over answerable questions (``first_quote`` of
    ``answerable``, ``answer_right`` of ``with_answer``, ``periods_complete`` of
    ``comparisons``); ``flagged`` is of ``unanswerable`` (wanted), ``falsely_flagged`` of
    ``answerable``; ``right`` of all the group's questions.
    """

    group: str
    answerable: int
    first_quote: int
    any_quote: int
    with_answer: int
    answer_right: int
    comparisons: int
    periods_complete: int
    unanswerable: int
    flagged: int
    falsely_flagged: int
    right: int

    @property
    def questions(self) -> int:
        return self.answerable + self.unanswerable


def answer_figures(group: str, judged: Sequence[tuple[Question, AnswerOutcome]]) -> AnswerFigures:
    """The counts of :class:`AnswerFigures` over ``judged`` (the group's questions)."""
    answerable = [o for q, o in judged if q.answerable]
    unanswerable = [o for q, o in judged if not q.answerable]
    return AnswerFigures(
        group=group,
        answerable=len(answerable),
        first_quote=sum(o.first_quote for o in answerable),
        any_quote=sum(o.any_quote for o in answerable),
        with_answer=sum(o.answer_right is not None for o in answerable),
        answer_right=sum(bool(o.answer_right) for o in answerable),
        comparisons=sum(o.periods_complete is not None for o in answerable),
        periods_complete=sum(bool(o.periods_complete) for o in answerable),
        unanswerable=len(unanswerable),
        flagged=sum(o.flagged for o in unanswerable),
        falsely_flagged=sum(o.flagged for o in answerable),
        right=sum(o.right for _, o in judged),
    )


@dataclass(frozen=True)
class AnswerSummary:
    """The answer-level figures of one run: per question type (``OVERALL`` last) and per tag."""

    mode: Mode
    types: tuple[AnswerFigures, ...]
    tags: tuple[AnswerFigures, ...]


def summarise_answers(
    judged: Sequence[tuple[Question, AnswerOutcome]], mode: Mode = ANSWER_MODE
) -> AnswerSummary:
    """Figures per type present (in type order), overall, and per tag (in first-seen order)."""
    types = [t for t in QuestionType if any(q.type == t for q, _ in judged)]
    tags = list(dict.fromkeys(tag for q, _ in judged for tag in q.tags))
    return AnswerSummary(
        mode,
        (
            *(answer_figures(t.value, [(q, o) for q, o in judged if q.type == t]) for t in types),
            answer_figures(OVERALL, judged),
        ),
        tuple(answer_figures(tag, [(q, o) for q, o in judged if tag in q.tags]) for tag in tags),
    )
