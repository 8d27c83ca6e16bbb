"""Extracted records against gold records written from the documents (``qa eval``).

Judgements and recommendations are answered from records extracted at build time, so a
wrong record gives a wrong answer however good retrieval is. A reference set may have gold
files beside its questions (``judgements.jsonl``, ``recommendations.jsonl``; their schema
is in ``eval/README.md``) and ``qa eval`` scores the records of the index against them:

* a gold **judgement** is *found* when a record of
  :func:`qa.features.judgements.extract.extract_judgements` for the same document has the
  same grade, the same inspection year and the same aspect: one aspect's words contain the
  other's (case and whitespace aside), or the record states the grade where the gold quote
  is (a place of the record holds the quote: PDF headings are split over lines, so the
  record's aspect may be a fragment);
* a gold **recommendation** item (``kind`` improvement) is *found* when a tracked item of
  :func:`qa.features.recommendations.snapshot_recommendations` for the same document has
  the same text, or one holds the other (case, whitespace and end punctuation aside); its
  *status* is right when the tracked status is the gold one. Decisions and lists a document
  only refers to are not tracked items and are not scored;
* ``extra`` counts the records of the gold file's documents that match no gold record.

Gold judgement files come in two forms: ``inspection`` (year-month) with ``citations``
(``eval/judgements.jsonl``) or ``inspection_start`` (a date) with one ``quote``
(``eval/ilacs/judgements.jsonl``); both are read.

Example::

    scores = score_records(searcher, Path("eval"))
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qa.evaluation.json_fields import jsonl_objects
from qa.text import normalise_space

if TYPE_CHECKING:
    from qa.features.judgements.extract import Judgement
    from qa.features.recommendations import TrackedRecommendation
    from qa.search import Searcher
    from qa.types import Document

JUDGEMENTS_FILE = "judgements.jsonl"
RECOMMENDATIONS_FILE = "recommendations.jsonl"


class GoldFileError(ValueError):
    """A gold record file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class RecordScore:
    """The records of one kind against a gold file.

    ``found`` of ``gold`` gold records have a matching extracted record; ``status_right``
    (recommendations only, else None) of those found have the gold status; ``extra``
    extracted records match no gold record; ``misses`` describe the gold records not found.
    """

    kind: str
    gold_file: str
    gold: int
    found: int
    status_right: int | None
    extra: int
    misses: tuple[str, ...]


@dataclass(frozen=True)
class GoldJudgement:
    document: str
    aspect: str
    grade: str
    year: int | None
    quotes: tuple[str, ...]


@dataclass(frozen=True)
class GoldRecommendation:
    id: str
    document: str
    item: str
    status: str


def read_gold_judgements(path: Path) -> tuple[GoldJudgement, ...]:
    """The gold judgements of ``path``, in either of its two forms."""
    gold = []
    for number, record in jsonl_objects(path, GoldFileError):
        try:
            inspection = record.get("inspection") or record["inspection_start"]
            quotes = [c["quote"] for c in record.get("citations", [])]
            if "quote" in record:
                quotes.append(record["quote"])
            gold.append(
                GoldJudgement(
                    str(record["document"]),
                    str(record["aspect"]),
                    str(record["grade"]),
                    int(str(inspection)[:4]) if inspection else None,
                    tuple(str(q) for q in quotes),
                )
            )
        except (KeyError, TypeError, ValueError) as error:
            raise GoldFileError(
                f"{path}:{number}: needs document, aspect, grade, inspection (or"
                f" inspection_start) and quotes ({error!r})"
            ) from error
    return tuple(gold)


def read_gold_recommendations(path: Path) -> tuple[GoldRecommendation, ...]:
    """The improvement items of ``path`` (decisions and referred lists are not tracked)."""
    gold = []
    for number, record in jsonl_objects(path, GoldFileError):
        if record.get("kind") != "improvement":
            continue
        try:
            gold.append(
                GoldRecommendation(
                    str(record["id"]),
                    str(record["document"]),
                    str(record["item"]),
                    str(record["status"]),
                )
            )
        except KeyError as error:
            raise GoldFileError(
                f"{path}:{number}: an improvement item needs id, document, item and status"
            ) from error
    return tuple(gold)


def _plain(text: str) -> str:
    """Text compared loosely: lower case, one space, straight apostrophes, no end punctuation."""
    text = normalise_space(text).lower().replace("’", "'").replace("‘", "'")
    return re.sub(r"^[\W_]+|[\W_]+$", "", text)


def _either_holds(one: str, other: str) -> bool:
    first, second = _plain(one), _plain(other)
    return bool(first and second) and (first in second or second in first)


def judgement_matches(gold: GoldJudgement, record: Judgement, document: Document) -> bool:
    """Same document, grade and inspection year, and the aspect (or the place) agrees."""
    if (
        record.source != gold.document
        or record.grade.value != _plain(gold.grade)
        or record.year != gold.year
    ):
        return False
    if _either_holds(record.aspect, gold.aspect):
        return True
    stated = [normalise_space(document.text[p.start : p.end]) for p in record.places]
    return any(normalise_space(quote) in text for quote in gold.quotes for text in stated)


def score_judgements(
    gold: Sequence[GoldJudgement],
    records: Sequence[Judgement],
    documents: dict[str, Document],
    gold_file: str,
) -> RecordScore:
    """Gold judgements found among ``records``; ``extra`` within the gold file's documents."""
    scope = {g.document for g in gold}
    matched: set[int] = set()
    misses = []
    for item in gold:
        document = documents.get(item.document)
        hits = [
            position
            for position, record in enumerate(records)
            if document is not None and judgement_matches(item, record, document)
        ]
        matched.update(hits)
        if not hits:
            misses.append(f"{item.document}: {item.aspect} — {item.grade} ({item.year})")
    extra = sum(1 for i, r in enumerate(records) if r.source in scope and i not in matched)
    return RecordScore(
        "judgements", gold_file, len(gold), len(gold) - len(misses), None, extra, tuple(misses)
    )


def score_recommendations(
    gold: Sequence[GoldRecommendation], tracked: Sequence[TrackedRecommendation], gold_file: str
) -> RecordScore:
    """Gold items found among the tracked ones, and how many of those have the gold status."""
    scope = {g.document for g in gold}
    matched: set[int] = set()
    found = status_right = 0
    misses = []
    for item in gold:
        hits = [
            position
            for position, entry in enumerate(tracked)
            if entry.recommendation.source == item.document
            and _either_holds(entry.recommendation.text, item.item)
        ]
        matched.update(hits)
        if not hits:
            misses.append(f"{item.id} {item.document}: {item.item}")
            continue
        found += 1
        status = tracked[hits[0]].status.value
        status_right += status == item.status
        if status != item.status:
            misses.append(f"{item.id}: status {status}, gold {item.status}")
    extra = sum(
        1 for i, t in enumerate(tracked) if t.recommendation.source in scope and i not in matched
    )
    return RecordScore(
        "recommendations", gold_file, len(gold), found, status_right, extra, tuple(misses)
    )


def score_records(searcher: Searcher, folder: Path) -> tuple[RecordScore, ...]:
    """The index's records against the gold files in ``folder`` (none if it has none)."""
    snapshot = searcher.snapshot
    documents = dict(snapshot.documents)
    scores = []
    judgements_path = folder / JUDGEMENTS_FILE
    if judgements_path.is_file():
        from qa.features.judgements.extract import extract_judgements

        chunks = list(snapshot.chunks)
        records = [j for d in documents.values() for j in extract_judgements(d, chunks)]
        gold = read_gold_judgements(judgements_path)
        scores.append(score_judgements(gold, records, documents, str(judgements_path)))
    recommendations_path = folder / RECOMMENDATIONS_FILE
    if recommendations_path.is_file():
        from qa.features.recommendations import snapshot_recommendations

        tracked = snapshot_recommendations(snapshot, searcher.embedder)
        gold_items = read_gold_recommendations(recommendations_path)
        scores.append(score_recommendations(gold_items, tracked, str(recommendations_path)))
    return tuple(scores)
