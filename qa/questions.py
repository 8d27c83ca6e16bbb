"""The one reader of question files: ``qa ask --questions``, the reference set and the benchmark.

A question file holds one question per line, either as plain text or as a JSON object
with a ``question`` string and any other fields (the reference set adds ``id``, ``type``
and ``evidence``). Blank lines are skipped. Every problem names the file and the line,
so a file of a thousand questions can be mended without a search.

Example::

    for question in load_questions(Path("questions.txt")):
        print(question)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


class QuestionFileError(ValueError):
    """A question file that cannot be used; the message names the file and each bad line."""


@dataclass(frozen=True)
class QuestionLine:
    """One question of a file, with where it stands so later checks can name its line.

    ``fields`` is the line's JSON object (``question`` included), empty for a plain line.
    """

    path: Path
    number: int
    question: str
    fields: Mapping[str, object] = field(default_factory=dict)

    @property
    def place(self) -> str:
        """``path:line``, the prefix of every message about this question."""
        return f"{self.path}:{self.number}"


@dataclass(frozen=True)
class QuestionFile:
    """The usable questions of a file and a message for each line that is not one."""

    questions: tuple[QuestionLine, ...]
    problems: tuple[str, ...]


def read_question_file(path: Path, plain_text: bool = True) -> QuestionFile:
    """Every question of ``path`` and every problem, without stopping at the first.

    With ``plain_text`` a line that does not start with ``{`` is a question as written;
    without it (JSONL only, as the reference set is) every line must be a JSON object.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        return QuestionFile((), (f"{path}: cannot read (not UTF-8 text)",))
    except OSError as error:
        return QuestionFile((), (f"{path}: cannot read ({error.strerror or error})",))
    questions: list[QuestionLine] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        place = f"{path}:{number}"
        if plain_text and not text.startswith("{"):
            questions.append(QuestionLine(path, number, text))
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            problems.append(f"{place}: invalid JSON ({error.msg})")
            continue
        if not isinstance(record, dict):
            problems.append(f"{place}: a line must hold a JSON object")
            continue
        question = record.get("question")
        if not isinstance(question, str) or not question.strip():
            problems.append(f"{place}: a JSON line needs a non-empty 'question' string")
            continue
        questions.append(QuestionLine(path, number, question, record))
    return QuestionFile(tuple(questions), tuple(problems))


def load_questions(path: Path) -> tuple[str, ...]:
    """The questions of ``path`` in order; raises QuestionFileError naming every bad line."""
    read = read_question_file(path)
    if read.problems:
        raise QuestionFileError("\n".join(read.problems))
    return tuple(line.question for line in read.questions)
