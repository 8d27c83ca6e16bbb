"""Reference sets: questions with their type and gold evidence, parsed and checked.

A reference question names its evidence as quotes from documents, never as chunk
ids, so the set survives any change of chunking. The file is JSONL read by
:mod:`qa.questions`; each line adds ``id``, ``type`` and ``evidence`` (a list of
``{"document": ..., "quote": ...}``) to its ``question``.

Example::

    problems = validate_reference_set(Path("eval/questions.jsonl"), Path("corpus"))
    questions = load_reference_set(Path("eval/questions.jsonl"))
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qa.questions import read_question_file
from qa.settings import Settings
from qa.text import normalise_space
from qa.types import Choice


class QuestionType(Choice):
    """What a reference question asks for; metrics are reported per type."""

    FACT = "fact"
    NUMBER = "number"
    LIST = "list"
    PARAPHRASE = "paraphrase"
    CROSS_DOCUMENT = "cross_document"
    JUDGEMENT = "judgement"
    CURRENT = "current"
    RECOMMENDATION = "recommendation"
    UNANSWERABLE = "unanswerable"


@dataclass(frozen=True)
class Evidence:
    """A quote that answers (part of) a question, and the document it is in."""

    document: str
    quote: str


@dataclass(frozen=True)
class Question:
    """One reference question; ``unanswerable`` questions have no evidence."""

    id: str
    question: str
    type: QuestionType
    evidence: tuple[Evidence, ...]

    @property
    def answerable(self) -> bool:
        return self.type != QuestionType.UNANSWERABLE


class ReferenceSetError(ValueError):
    """The reference file cannot be used; the message lists every problem."""


def _evidence(place: str, evidence: list[object], problems: list[str]) -> tuple[Evidence, ...]:
    """The well-formed evidence items of one question; a problem for each other item."""
    items: list[Evidence] = []
    for position, item in enumerate(evidence, start=1):
        document = item.get("document") if isinstance(item, dict) else None
        quote = item.get("quote") if isinstance(item, dict) else None
        if (
            not isinstance(document, str)
            or not isinstance(quote, str)
            or not normalise_space(quote)
        ):
            problems.append(
                f"{place}: evidence {position} needs 'document' and a non-empty 'quote'"
            )
            continue
        items.append(Evidence(document, quote))
    return tuple(items)


def _parse(path: Path) -> tuple[list[tuple[str, Question]], list[str]]:
    """Questions with their ``file:line``, and the problems that need no corpus to see."""
    read = read_question_file(path, plain_text=False)
    questions: list[tuple[str, Question]] = []
    problems = list(read.problems)
    first_line: dict[str, int] = {}
    for line in read.questions:
        qid, kind, evidence = (line.fields.get(key) for key in ("id", "type", "evidence"))
        if not isinstance(qid, str) or not qid:
            problems.append(f"{line.place}: 'id' must be a non-empty string")
            continue
        place = f"{line.place}: {qid}"
        if qid in first_line:
            problems.append(f"{place}: duplicate id (first on line {first_line[qid]})")
        first_line.setdefault(qid, line.number)
        question_type = (
            QuestionType(kind) if isinstance(kind, str) and kind in tuple(QuestionType) else None
        )
        if question_type is None:
            problems.append(f"{place}: unknown type {kind!r} (known: {', '.join(QuestionType)})")
        if not isinstance(evidence, list):
            problems.append(f"{place}: 'evidence' must be a list")
            continue
        items = _evidence(place, evidence, problems)
        if question_type == QuestionType.UNANSWERABLE and evidence:
            problems.append(f"{place}: an unanswerable question must have no evidence")
        if question_type != QuestionType.UNANSWERABLE and not evidence:
            problems.append(f"{place}: an answerable question needs at least one evidence item")
        if question_type is not None:
            questions.append((place, Question(qid, line.question, question_type, items)))
    return questions, problems


def validate_reference_set(
    path: Path, corpus_dir: Path, max_bytes: int = Settings().max_file_bytes
) -> list[str]:
    """Every problem of the reference file, each naming its line; empty when it can be used.

    Quotes are looked up in the documents as the indexer reads them, so a quote
    that passes here can be found in the passages.
    """
    from qa.corpus import DocumentError, read_document, scan_corpus

    parsed, problems = _parse(path)
    try:
        files = {file.source: file for file in scan_corpus(corpus_dir, max_bytes)[0]}
    except FileNotFoundError as error:
        return [*problems, str(error)]
    texts: dict[str, str | None] = {}
    for place, question in parsed:
        for position, item in enumerate(question.evidence, start=1):
            where = f"{place}: evidence {position}"
            if item.document not in texts:
                file = files.get(item.document)
                try:
                    document = read_document(file, 1 << 62) if file else None
                except DocumentError:
                    document = None
                texts[item.document] = normalise_space(document.text) if document else None
            text = texts[item.document]
            if text is None:
                problems.append(
                    f"{where}: document {item.document!r} is not a readable file of {corpus_dir}"
                )
            elif normalise_space(item.quote) not in text:
                problems.append(f"{where}: quote not found in {item.document}: {item.quote[:80]!r}")
    return problems


def load_reference_set(path: Path) -> tuple[Question, ...]:
    """The questions of ``path``; raises ReferenceSetError listing the problems of form."""
    parsed, problems = _parse(path)
    if problems:
        raise ReferenceSetError(f"{path} has {len(problems)} problem(s):\n" + "\n".join(problems))
    return tuple(question for _, question in parsed)


def default_paths(cwd: Path | None = None) -> tuple[Path, Path]:
    """The project's reference file and report folder: beside the pyproject.toml of [tool.qa]."""
    from qa.settings import find_pyproject

    cwd = (cwd or Path.cwd()).resolve()
    pyproject = find_pyproject(cwd)
    root = pyproject.parent if pyproject else cwd
    return root / "eval" / "questions.jsonl", root / "reports"
