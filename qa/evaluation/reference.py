"""Reference sets: questions with their type and gold evidence, parsed and checked.

A reference question names its evidence as quotes from documents, never as chunk
ids, so the set survives any change of chunking. The file is JSONL read by
:mod:`qa.questions`; each line adds ``id``, ``type`` and ``evidence`` (a list of
``{"document": ..., "quote": ...}``) to its ``question``. The optional fields that the
answer-level measures read (``answer``, ``answer_excludes``, ``periods``, ``missing``,
``tags``, and ``period`` and ``alternatives`` on evidence) are described in
``eval/README.md``; a file without them is read as before.

Example::

    problems = validate_reference_set(Path("eval/questions.jsonl"), Path("corpus"))
    questions = load_reference_set(Path("eval/questions.jsonl"))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
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
class Quote:
    """An exact quote and the document it is in."""

    document: str
    quote: str


@dataclass(frozen=True)
class Evidence(Quote):
    """A quote that answers (part of) a question, and the document it is in.

    ``alternatives`` state the same thing in other words or another document (a grade
    as a table row and as a heading): finding any of them finds the item, which still
    counts once. ``period`` is the year the item speaks for, in comparisons.
    """

    period: str | None = None
    alternatives: tuple[Quote, ...] = ()

    @property
    def quotes(self) -> tuple[Quote, ...]:
        """Every way the item is stated: its quote first, then the alternatives."""
        return (Quote(self.document, self.quote), *self.alternatives)


@dataclass(frozen=True)
class Question:
    """One reference question; ``unanswerable`` questions have no evidence.

    ``answer``: strings one of which the answer's first sentence must hold;
    ``answer_excludes``: the wrong values it must not hold; ``periods``: the periods a
    comparison answer must cover, one cited sentence each; ``missing``: what the corpus
    lacks for an unanswerable question; ``tags``: labels for figures across types.
    """

    id: str
    question: str
    type: QuestionType
    evidence: tuple[Evidence, ...]
    answer: tuple[str, ...] = ()
    answer_excludes: tuple[str, ...] = ()
    periods: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return self.type != QuestionType.UNANSWERABLE


class ReferenceSetError(ValueError):
    """The reference file cannot be used; the message lists every problem."""


def _quote(item: object) -> Quote | None:
    """A ``{"document", "quote"}`` object as a Quote; None when either is missing or empty."""
    document = item.get("document") if isinstance(item, dict) else None
    quote = item.get("quote") if isinstance(item, dict) else None
    if not isinstance(document, str) or not isinstance(quote, str) or not normalise_space(quote):
        return None
    return Quote(document, quote)


def _evidence(place: str, evidence: list[object], problems: list[str]) -> tuple[Evidence, ...]:
    """The well-formed evidence items of one question; a problem for each other item."""
    items: list[Evidence] = []
    for position, item in enumerate(evidence, start=1):
        where = f"{place}: evidence {position}"
        quote = _quote(item)
        if quote is None or not isinstance(item, dict):
            problems.append(f"{where} needs 'document' and a non-empty 'quote'")
            continue
        period = item.get("period")
        if period is not None and not isinstance(period, str):
            problems.append(f"{where}: 'period' must be a string")
            period = None
        alternatives = item.get("alternatives", [])
        if not isinstance(alternatives, list):
            problems.append(f"{where}: 'alternatives' must be a list")
            alternatives = []
        others = [_quote(other) for other in alternatives]
        if None in others:
            problems.append(f"{where}: every alternative needs 'document' and a non-empty 'quote'")
        found = tuple(other for other in others if other is not None)
        items.append(Evidence(quote.document, quote.quote, period, found))
    return tuple(items)


_STRING_LISTS = ("answer", "answer_excludes", "periods", "missing", "tags")


def _strings(
    place: str, fields: Mapping[str, object], problems: list[str]
) -> dict[str, tuple[str, ...]]:
    """The optional lists of strings of one question; a problem for each malformed one."""
    found: dict[str, tuple[str, ...]] = {}
    for key in _STRING_LISTS:
        value = fields.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            problems.append(f"{place}: {key!r} must be a list of non-empty strings")
            continue
        found[key] = tuple(value)
    return found


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
        optional = _strings(place, line.fields, problems)
        untagged = [p for p in optional.get("periods", ()) if p not in {e.period for e in items}]
        if untagged:
            problems.append(f"{place}: periods {untagged} tag no evidence item")
        if question_type is not None:
            questions.append(
                (place, Question(qid, line.question, question_type, items, **optional))
            )
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
    limits = replace(Settings().read_limits, max_bytes=max_bytes)

    def text_of(source: str) -> str | None:
        """The document's text as indexed, whitespace collapsed; None if it cannot be read."""
        if source not in texts:
            file = files.get(source)
            try:
                document = read_document(file, limits) if file else None
            except DocumentError:
                document = None
            texts[source] = normalise_space(document.text) if document else None
        return texts[source]

    for place, question in parsed:
        for position, item in enumerate(question.evidence, start=1):
            for number, quote in enumerate(item.quotes):
                where = f"{place}: evidence {position}" + (f" alternative {number}" * bool(number))
                text = text_of(quote.document)
                if text is None:
                    problems.append(
                        f"{where}: document {quote.document!r} is not a readable file of {corpus_dir}"
                    )
                elif normalise_space(quote.quote) not in text:
                    problems.append(
                        f"{where}: quote not found in {quote.document}: {quote.quote[:80]!r}"
                    )
    return problems


def load_reference_set(path: Path) -> tuple[Question, ...]:
    """The questions of ``path``; raises ReferenceSetError listing the problems of form."""
    parsed, problems = _parse(path)
    if problems:
        raise ReferenceSetError(f"{path} has {len(problems)} problem(s):\n" + "\n".join(problems))
    return tuple(question for _, question in parsed)


def project_root(cwd: Path | None = None) -> Path:
    """The folder of the project's pyproject.toml (of [tool.qa]), else ``cwd``: where
    ``eval/``, ``reports/`` and the outside collections beside the checkout are found."""
    from qa.settings import find_pyproject

    cwd = (cwd or Path.cwd()).resolve()
    pyproject = find_pyproject(cwd)
    return pyproject.parent if pyproject else cwd
