"""How answers are shown: the documented JSON record and the terminal text (pure).

The JSON shape is a stable interface read by other tools and by ``qa eval``::

    {"question": str,
     "passages": [{"rank": int, "source": str, "title": str, "date": str|null,
                   "section": str|null, "paragraph": str|null, "start": int, "end": int,
                   "text": str, "score": float, "bm25_rank": int|null, "dense_rank": int|null}]}

``source`` is the path relative to the corpus folder and ``text`` equals
``document_text[start:end]``. ``low_confidence`` (bool) is true when the best
passage is only weakly similar to the question. New fields may be added; none
will be removed.
"""

from __future__ import annotations

import textwrap
from typing import Any

from qa.types import Answer, Hit


def hit_record(hit: Hit) -> dict[str, Any]:
    return {
        "rank": hit.rank,
        "source": hit.chunk.source,
        "title": hit.title,
        "date": hit.date,
        "section": hit.chunk.section,
        "paragraph": hit.chunk.paragraph,
        "start": hit.chunk.start,
        "end": hit.chunk.end,
        "text": hit.chunk.text,
        "score": round(hit.score, 6),
        "bm25_rank": hit.lexical_rank,
        "dense_rank": hit.dense_rank,
    }


def answer_record(answer: Answer) -> dict[str, Any]:
    return {
        "question": answer.question,
        "passages": [hit_record(h) for h in answer.hits],
        "low_confidence": answer.low_confidence,
    }


def format_answer(answer: Answer, width: int = 100) -> str:
    """Readable text for a terminal: rank, citation, passage, scores."""
    if not answer.hits:
        return f"No passages found for: {answer.question}"
    lines = [f"Question: {answer.question}", ""]
    if answer.low_confidence:
        lines += ["The corpus does not seem to answer this question; the closest passages follow.", ""]
    for hit in answer.hits:
        chunk = hit.chunk
        where = []
        if chunk.section:
            where.append(f"section: {chunk.section}")
        if chunk.paragraph:
            where.append(f"paragraph {chunk.paragraph}")
        lines.append(f"[{hit.rank}] {hit.title} ({hit.date or 'undated'})")
        lines.append(f"    {' · '.join(where) or 'no section heading'} · {chunk.source} chars {chunk.start}-{chunk.end}")
        for paragraph in chunk.text.split("\n"):
            wrapped = textwrap.wrap(paragraph, width - 4) or [""]
            lines.extend("    " + line for line in wrapped if line.strip())
        ranks = ", ".join(
            f"{name} #{rank}" if rank else f"{name} —"
            for name, rank in (("lexical", hit.lexical_rank), ("dense", hit.dense_rank))
        )
        lines.append(f"    score {hit.score:.4f} ({ranks})")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
