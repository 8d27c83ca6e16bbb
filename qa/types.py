"""The records that flow between stages: files → Document → Chunk → Hit → Answer.

All are frozen so a stage can never change what an earlier stage produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Self


class Choice(StrEnum):
    """A setting or record field with a fixed set of values, defined once here.

    Members are strings ("hybrid" == Mode.HYBRID), so JSON and settings files hold plain
    words; :meth:`from_str` turns user input into a member or says which values exist.
    """

    @classmethod
    def from_str(cls, value: str) -> Self:
        try:
            return cls(value.strip().lower())
        except ValueError:
            allowed = ", ".join(repr(member.value) for member in cls)
            raise ValueError(f"must be one of {allowed}, got {value!r}") from None


class Mode(Choice):
    """Which retrievers rank the passages."""

    HYBRID = "hybrid"
    LEXICAL = "lexical"
    DENSE = "dense"


class Fusion(Choice):
    """How the lexical and dense rankings are merged (see :mod:`qa.pipeline.fusion`)."""

    WEIGHTED = "weighted"
    RRF = "rrf"
    DBSF = "dbsf"


class Diversity(Choice):
    """How the final k passages are made distinct (see :mod:`qa.pipeline.select`)."""

    SIDES = "sides"
    MMR = "mmr"
    NONE = "none"


class Status(Choice):
    """What became of a recommendation in later reports (see :mod:`qa.features.recommendations`)."""

    REPEATED = "repeated"
    ADDRESSED = "addressed"
    NEW = "new"
    NOT_MENTIONED = "not mentioned later"
    UNDATED = "undated"


def year_of(date: str | None) -> int | None:
    """The year of a partial ISO date ("2020-03" → 2020)."""
    return int(date[:4]) if date else None


@dataclass(frozen=True)
class CatalogEntry:
    """What an index knows of a document without reading its text: enough to cite,
    filter and date it (a million passages' texts need not be in memory for that).

    ``source`` is the path relative to the corpus folder (POSIX separators): the
    document's stable id. ``date`` is a partial ISO date ("2024-12-04",
    "2020-03" or "2017") as precise as the document states it.
    """

    source: str
    title: str
    date: str | None
    content_hash: str
    kind: str

    @property
    def year(self) -> int | None:
        return year_of(self.date)


@dataclass(frozen=True)
class Document(CatalogEntry):
    """One source file as text, with the metadata a citation needs."""

    text: str


@dataclass(frozen=True)
class Chunk:
    """A passage of a document; ``text == document.text[start:end]`` always.

    ``paragraph`` is the paragraph number as printed ("4.16", "12.") or a range
    ("4.12–4.14") when the chunk spans several numbered paragraphs.
    """

    source: str
    start: int
    end: int
    text: str
    section: str | None
    paragraph: str | None


@dataclass(frozen=True)
class LoadError:
    """A file that could not be turned into a document, and why."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass(frozen=True)
class Hit:
    """One ranked passage with the evidence of how it was ranked."""

    rank: int
    row: int
    chunk: Chunk
    title: str
    date: str | None
    score: float
    lexical_rank: int | None
    dense_rank: int | None
    duplicates: tuple[Hit, ...] = ()

    @property
    def year(self) -> int | None:
        return year_of(self.date)

    @property
    def citation(self) -> str:
        """The citation as a person would write it."""
        parts = [self.title]
        if self.date:
            parts.append(self.date)
        if self.chunk.section:
            parts.append(self.chunk.section)
        if self.chunk.paragraph:
            parts.append(f"para {self.chunk.paragraph}")
        return ", ".join(parts)


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of the extractive answer, quoted verbatim from the passage ranked ``rank``.

    ``document_text[start:end] == text`` for the document ``source``, and the span lies
    inside that passage, so every sentence can be checked against its source.
    """

    text: str
    rank: int
    source: str
    start: int
    end: int


@dataclass(frozen=True)
class DocumentGroup:
    """The hits from one document, for side-by-side display ordered by date."""

    source: str
    title: str
    date: str | None
    ranks: tuple[int, ...]


@dataclass(frozen=True)
class Answer:
    """The ranked passages for one question, plus timings in seconds per stage.

    ``low_confidence`` is set when even the best passage is only weakly similar
    to the question: the corpus probably does not answer it.
    """

    question: str
    hits: tuple[Hit, ...]
    timings: dict[str, float] = field(default_factory=dict)
    low_confidence: bool = False
    best_similarity: float | None = None
    sentences: tuple[AnswerSentence, ...] = ()
    groups: tuple[DocumentGroup, ...] = ()
    comparison: bool = False
    missing: tuple[str, ...] = ()
