"""The documented JSON records: ``qa ask --json`` and ``qa recommendations --json``.

An answer's shape is a stable interface read by other tools and by ``qa eval``::

    {"question": str,
     "passages": [{"rank": int, "source": str, "title": str, "date": str|null,
                   "section": str|null, "paragraph": str|null, "start": int, "end": int,
                   "text": str, "score": float, "bm25_rank": int|null, "dense_rank": int|null}]}

``source`` is the path relative to the corpus folder and ``text`` equals
``document_text[start:end]``. ``low_confidence`` (bool) is true when the best
passage is only weakly similar to the question. New fields may be added; none
will be removed. Added since the first version:

- ``passages[].also_in``: the other places of the same document that repeat this
  passage (same keys as a passage, without the ranks and score);
- ``answer``: ``{"text": str, "sentences": [{"text", "passage", "source", "start",
  "end"}]}``, the extractive answer; each sentence is ``document_text[start:end]`` of
  the passage ranked ``passage``, and ``text`` joins them with ``[rank]`` markers;
- ``answer.statement``: a sentence stating what structured records say (grades and their
  change: "Croydon: Help and protection: Good (March 2020) [2] → Requires improvement to
  be good (October 2024) [1]: declined."), each ``[rank]`` citing a passage; "" when
  there is none or the answer is ``low_confidence``;
- ``comparison`` (bool), ``groups`` (``[{"source", "title", "date", "passages": [rank]}]``,
  oldest document first) and ``missing`` (one sentence per side of a comparison
  without a relevant passage).

The records are plain dicts made here, at the edge, from the frozen records; the places
come from :func:`qa.citation.cite`, so a field added to a citation is added here once.
"""

from __future__ import annotations

from typing import Any

from qa.citation import Citation, cite
from qa.features.judgements.timeline import Row, direction
from qa.features.recommendations import Link, TrackedRecommendation
from qa.pipeline.answer import answer_text
from qa.types import Answer, Document, Hit


def _place_record(hit: Hit) -> dict[str, Any]:
    citation = cite(hit)
    return {
        "source": citation.source,
        "title": citation.title,
        "date": citation.date,
        "section": citation.section,
        "paragraph": citation.paragraph,
        "start": citation.start,
        "end": citation.end,
        "page": citation.page,
        "page_end": citation.page_end,
        "organisation": hit.organisation,
        "kind": hit.kind.value,
        "text": hit.chunk.text,
    }


def hit_record(hit: Hit) -> dict[str, Any]:
    """One passage of ``passages``: its place, text, score and ranks, and its repeats."""
    return (
        {"rank": hit.rank}
        | _place_record(hit)
        | {
            "score": round(hit.score, 6),
            "bm25_rank": hit.lexical_rank,
            "dense_rank": hit.dense_rank,
            "also_in": [_place_record(d) for d in hit.duplicates],
        }
    )


def answer_record(answer: Answer) -> dict[str, Any]:
    """The whole answer to one question, as documented above."""
    return {
        "question": answer.question,
        "passages": [hit_record(h) for h in answer.hits],
        "low_confidence": answer.low_confidence,
        "answer": {
            "text": "" if answer.low_confidence else answer_text(answer.sentences),
            "statement": "" if answer.low_confidence else answer.statement,
            "sentences": [
                {
                    "text": s.text,
                    "passage": s.rank,
                    "source": s.source,
                    "start": s.start,
                    "end": s.end,
                }
                for s in answer.sentences
            ],
        },
        "comparison": answer.comparison,
        "groups": [
            {"source": g.source, "title": g.title, "date": g.date, "passages": list(g.ranks)}
            for g in answer.groups
        ],
        "missing": list(answer.missing),
    }


def _item_places(citation: Citation) -> list[dict[str, Any]]:
    return [
        {
            "section": place.section,
            "paragraph": place.paragraph,
            "item": place.item,
            "start": place.start,
            "end": place.end,
            "citation": place.line(),
        }
        for place in citation.places()
    ]


def _link_record(link: Link) -> dict[str, Any]:
    other = link.recommendation
    return {
        "source": other.source,
        "date": other.date,
        "text": other.text,
        "similarity": round(link.similarity, 4),
        "part": link.part,
        "places": _item_places(cite(other)),
    }


def recommendation_record(tracked: TrackedRecommendation) -> dict[str, Any]:
    """One tracked item: where it is printed, the same item in other reports, its status and
    the progress sentence that makes it addressed."""
    record = tracked.recommendation
    evidence = tracked.evidence
    progress = None
    if evidence is not None:
        cited = cite(evidence)
        progress = {
            "source": evidence.source,
            "date": evidence.date,
            "text": evidence.text,
            "similarity": evidence.similarity,
            "section": cited.section,
            "paragraph": cited.paragraph,
            "start": cited.start,
            "end": cited.end,
            "citation": cited.line(),
        }
    return {
        "source": record.source,
        "title": record.title,
        "date": record.date,
        "text": record.text,
        "kind": record.kind,
        "status": tracked.status,
        "places": _item_places(cite(record)),
        "earlier": [_link_record(link) for link in tracked.earlier],
        "later": [_link_record(link) for link in tracked.later],
        "evidence": progress,
    }


def judgement_record(row: Row) -> dict[str, Any]:
    """One organisation's grades for one aspect (``qa judgements --json``): each inspection,
    oldest first, with every statement of it cited, and the change on the graded scale."""
    return {
        "organisation": row.organisation,
        "aspect": row.aspect,
        "wordings": list(row.wordings),
        "inspections": [
            {
                "inspection": entry.inspection,
                "grade": entry.grade.label,
                "statements": [
                    {
                        "source": place.source,
                        "title": place.title,
                        "date": place.date,
                        "aspect": judgement.aspect,
                        "form": judgement.places[0].form.value,
                        "section": place.section,
                        "paragraph": place.paragraph,
                        "page": place.page,
                        "page_end": place.page_end,
                        "start": place.start,
                        "end": place.end,
                        "citation": place.line(),
                    }
                    for judgement in entry.judgements
                    for place in (cite(judgement),)
                ],
            }
            for entry in row.entries
        ],
        "change": direction(row.entries),
    }


def document_record(document: Document) -> dict[str, Any]:
    """A document's facts and the text its passages' ``start``/``end`` index (``qa show
    --json``): for text files the file's own text as decoded, for PDF, DOCX and HTML the text
    extracted from them, with each page's start offset."""
    return {
        "source": document.source,
        "title": document.title,
        "date": document.date,
        "organisation": document.organisation,
        "kind": document.kind.value,
        "format": document.format,
        "pages": list(document.pages),
        "document_text": document.text,
    }
