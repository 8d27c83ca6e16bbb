"""The answer's statement (grades and their change, with [n] markers) comes first wherever an
answer is shown: the terminal, the Markdown export and the JSON; never when the answer is
flagged as not answering the question."""

from __future__ import annotations

import json

from qa.render.export import answer_markdown
from qa.render.json import answer_record
from qa.render.terminal import format_answer
from qa.types import Answer, AnswerSentence, Chunk, Hit

STATEMENT = (
    "Croydon: The experiences and progress of children who need help and protection: Good "
    "(March 2020) [2] → Requires improvement to be good (October 2024) [1]: declined."
)
QUOTE = "The experiences and progress of children who need help and protection: requires"


def hit(rank: int) -> Hit:
    text = f"{QUOTE} improvement to be good. Passage {rank}."
    chunk = Chunk(f"report-{rank}.pdf", 0, len(text), text, "Judgements", None, 1, None)
    return Hit(rank, rank - 1, chunk, f"Report {rank}", "2024-10-25", 0.5, rank, rank)


def answer(low_confidence: bool = False) -> Answer:
    sentence = AnswerSentence(QUOTE, 1, "report-1.pdf", 0, len(QUOTE))
    return Answer(
        "How did help and protection change?",
        (hit(1), hit(2)),
        sentences=(sentence,),
        statement=STATEMENT,
        low_confidence=low_confidence,
    )


def test_the_terminal_answer_states_the_grades_before_the_quotes() -> None:
    text = format_answer(answer(), width=200)
    assert f"Answer:\n    {STATEMENT}\n    {QUOTE} [1]\n" in text
    assert text.index(STATEMENT) < text.index("[1] Report 1")


def test_the_markdown_export_states_the_grades_before_the_quotes() -> None:
    markdown = answer_markdown(answer())
    statement = markdown.index("Croydon: The experiences")
    assert (
        markdown.index("**Answer**") < statement < markdown.index(QUOTE) < markdown.index("## 1.")
    )
    assert "(March 2020) \\[2\\] → Requires" in markdown


def test_the_json_answer_carries_the_statement() -> None:
    record = json.loads(json.dumps(answer_record(answer())))
    assert record["answer"]["statement"] == STATEMENT
    assert record["answer"]["sentences"][0]["passage"] == 1


def test_a_flagged_answer_states_nothing() -> None:
    assert answer_record(answer(low_confidence=True))["answer"]["statement"] == ""
    assert STATEMENT not in format_answer(answer(low_confidence=True))
    assert "Croydon: The experiences" not in answer_markdown(answer(low_confidence=True))
