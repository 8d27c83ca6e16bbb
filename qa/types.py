"""The records that flow between stages: files → Document → Chunk → Hit → Answer.

All are frozen so a stage can never change what an earlier stage produced.
"""

from __future__ import annotations

import bisect
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


class Backend(Choice):
    """Which engine searches an index version's rows (see :mod:`qa.backends`)."""

    EMBEDDED = "embedded"
    MILVUS = "milvus"


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


class DocumentKind(Choice):
    """What kind of document a file is, read from its text (see :mod:`qa.corpus.kinds`).

    Distinct from ``CatalogEntry.format``, the file format ("pdf", "text"): an inspection
    report can come as a PDF or as an HTML page.
    """

    INSPECTION_REPORT = "inspection report"
    LETTER = "letter"
    COUNCIL_REPORT = "council report"
    MINUTES = "committee minutes"
    NEWS = "news article"
    OTHER = "other"


_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def display_date(date: str | None) -> str:
    """A partial ISO date as people write it ("4 December 2024", "March 2020", "2017").

    Citations are read by people, who should not have to decode "2020-03".
    """
    if not date:
        return "undated"
    parts = [int(p) for p in date.split("-")]
    if len(parts) == 3:
        return f"{parts[2]} {_MONTHS[parts[1] - 1]} {parts[0]}"
    if len(parts) == 2:
        return f"{_MONTHS[parts[1] - 1]} {parts[0]}"
    return str(parts[0])


def year_of(date: str | None) -> int | None:
    """The year of a partial ISO date ("2020-03" → 2020)."""
    return int(date[:4]) if date else None


@dataclass(frozen=True)
class CatalogEntry:
    """What an index knows of a document without reading its text: enough to cite,
    filter and date it (a million passages' texts need not be in memory for that).

    ``source`` is the path relative to the corpus folder (POSIX separators): the
    document's stable id. ``date`` is a partial ISO date ("2024-12-04",
    "2020-03" or "2017") as precise as the document states it. ``format`` is the file
    format ("pdf", "text", "markdown", "html", "docx"); ``kind`` what the document is and
    ``organisation`` the council or body it is about (display name, or None when the text
    does not say), both read from its text (:mod:`qa.corpus.metadata`).
    """

    source: str
    title: str
    date: str | None
    content_hash: str
    format: str
    kind: DocumentKind = field(default=DocumentKind.OTHER, kw_only=True)
    organisation: str | None = field(default=None, kw_only=True)

    @property
    def year(self) -> int | None:
        return year_of(self.date)


@dataclass(frozen=True)
class Document(CatalogEntry):
    """One source file as text, with the metadata a citation needs.

    ``pages`` holds the offset in ``text`` where each page starts (page *n* at
    ``pages[n - 1]``), empty for formats without pages; ``headings`` the spans of lines
    the file's layout marks as headings (font, heading styles, ``<h1>``–``<h6>``). Both
    guide chunking; the index keeps each chunk's page, not these.
    """

    text: str
    pages: tuple[int, ...] = field(default=(), kw_only=True)
    headings: tuple[tuple[int, int], ...] = field(default=(), kw_only=True)

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding character ``offset``; None for formats without pages."""
        if not self.pages:
            return None
        return bisect.bisect_right(self.pages, offset) or 1


def page_span(document: Document, start: int, end: int) -> tuple[int | None, int | None]:
    """The page where ``text[start:end]`` starts, and the one where it ends when another."""
    first = document.page_at(start)
    last = document.page_at(max(start, end - 1))
    return first, last if last != first else None


@dataclass(frozen=True)
class Chunk:
    """A passage of a document; ``text == document.text[start:end]`` always.

    ``paragraph`` is the paragraph number as printed ("4.16", "12.") or a range
    ("4.12–4.14") when the chunk spans several numbered paragraphs. ``page`` is the
    1-based page where the chunk starts and ``page_end`` the one where it ends when that
    is another (both None for formats without pages).
    """

    source: str
    start: int
    end: int
    text: str
    section: str | None
    paragraph: str | None
    page: int | None = None
    page_end: int | None = None


@dataclass(frozen=True)
class Filters:
    """Which documents a search may return; None means no restriction."""

    sources: frozenset[str] | None = None
    year_from: int | None = None
    year_to: int | None = None
    organisations: frozenset[str] | None = None

    def allows(self, source: str, date: str | None, organisation: str | None = None) -> bool:
        if self.sources is not None and source not in self.sources:
            return False
        if self.organisations is not None and organisation not in self.organisations:
            return False
        if self.year_from is None and self.year_to is None:
            return True
        year = year_of(date)
        if year is None:
            return False
        return (self.year_from is None or year >= self.year_from) and (
            self.year_to is None or year <= self.year_to
        )


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
    organisation: str | None = field(default=None, kw_only=True)
    kind: DocumentKind = field(default=DocumentKind.OTHER, kw_only=True)

    @property
    def year(self) -> int | None:
        return year_of(self.date)


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
    to the question: the corpus probably does not answer it. ``statement`` states what
    structured records say (grades and their change), each part citing a passage by rank.
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
    statement: str = ""

    def hits_by_document(self) -> list[tuple[DocumentGroup, list[Hit]]]:
        """Each document group with its hits, oldest document first: a comparison's sides."""
        by_rank = {hit.rank: hit for hit in self.hits}
        return [(group, [by_rank[rank] for rank in group.ranks]) for group in self.groups]
