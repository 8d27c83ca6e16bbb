"""How answers and recommendations are shown: the documented JSON records and the terminal
text (pure).

The JSON shape is a stable interface read by other tools and by ``qa eval``::

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
- ``comparison`` (bool), ``groups`` (``[{"source", "title", "date", "passages": [rank]}]``,
  oldest document first) and ``missing`` (one sentence per side of a comparison
  without a relevant passage).
"""

from __future__ import annotations

import csv
import html
import io
import re
import textwrap
from collections.abc import Sequence
from typing import Any

from qa.citation import Citation, cite, display_date
from qa.features.recommendations import Link, TrackedRecommendation
from qa.index.lexical import tokenize
from qa.pipeline.answer import LOW_CONFIDENCE_MESSAGE, answer_text
from qa.types import Answer, Hit


def place_record(hit: Hit) -> dict[str, Any]:
    citation = cite(hit)
    return {
        "source": citation.source,
        "title": citation.title,
        "date": citation.date,
        "section": citation.section,
        "paragraph": citation.paragraph,
        "start": citation.start,
        "end": citation.end,
        "text": hit.chunk.text,
    }


def hit_record(hit: Hit) -> dict[str, Any]:
    return (
        {"rank": hit.rank}
        | place_record(hit)
        | {
            "score": round(hit.score, 6),
            "bm25_rank": hit.lexical_rank,
            "dense_rank": hit.dense_rank,
            "also_in": [place_record(d) for d in hit.duplicates],
        }
    )


def answer_record(answer: Answer) -> dict[str, Any]:
    return {
        "question": answer.question,
        "passages": [hit_record(h) for h in answer.hits],
        "low_confidence": answer.low_confidence,
        "answer": {
            "text": "" if answer.low_confidence else answer_text(answer.sentences),
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


def ordered_for_reading(answer: Answer) -> list[tuple[str | None, list[Hit]]]:
    """The hits as a reader should see them: by rank, or for a comparison side by side.

    A comparison gives one (heading, hits) pair per document, oldest first; otherwise
    one pair with no heading holding the hits by rank.
    """
    if not answer.comparison:
        return [(None, list(answer.hits))]
    by_rank = {h.rank: h for h in answer.hits}
    return [
        (f"{g.title} ({display_date(g.date)})", [by_rank[r] for r in g.ranks])
        for g in answer.groups
    ]


def format_answer(answer: Answer, width: int = 100) -> str:
    """Readable text for a terminal: rank, citation, passage, scores."""
    if not answer.hits:
        return f"No passages found for: {answer.question}"
    lines = [f"Question: {answer.question}", ""]
    if answer.low_confidence:
        lines += [LOW_CONFIDENCE_MESSAGE, "", "Closest passages:", ""]
    elif answer.sentences:
        lines += ["Answer:"]
        lines += ["    " + line for line in textwrap.wrap(answer_text(answer.sentences), width - 4)]
        lines += [""]
    lines += [f"Note: {note}" for note in answer.missing]
    if answer.missing:
        lines.append("")
    for heading, hits in ordered_for_reading(answer):
        if heading:
            lines += [f"== {heading} ==", ""]
        for hit in hits:
            lines += _hit_lines(hit, width)
    return "\n".join(lines).rstrip() + "\n"


def _located(citation: Citation) -> str:
    """The place in the document and in the file: "2. DETAIL · para 2.1 · a.txt chars 10-90"."""
    where = " · ".join(citation.where) or "no section heading"
    return f"{where} · {citation.source} chars {citation.start}-{citation.end}"


def _hit_lines(hit: Hit, width: int) -> list[str]:
    citation = cite(hit)
    lines = [f"[{hit.rank}] {citation.title} ({citation.when})", f"    {_located(citation)}"]
    for paragraph in hit.chunk.text.split("\n"):
        wrapped = textwrap.wrap(paragraph, width - 4) or [""]
        lines.extend("    " + line for line in wrapped if line.strip())
    for duplicate in hit.duplicates:
        lines.append(f"    also at: {_located(cite(duplicate))}")
    ranks = ", ".join(
        f"{name} #{rank}" if rank else f"{name} —"
        for name, rank in (("lexical", hit.lexical_rank), ("dense", hit.dense_rank))
    )
    return [*lines, f"    score {hit.score:.4f} ({ranks})", ""]


# Display helpers for the app: pure functions, so escaping and exports are tested without a browser.

# Words and numbers as the BM25 tokenizer sees them: "£22.2m" is one word, "16-year-olds" three.
_WORD = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?%?[^\W\d_]*|[^\W\d_]+(?:['’][^\W\d_]+)*")
# Question and function words that BM25 keeps but that carry no topic: not worth a highlight.
_FUNCTION_WORDS = frozenset({
    "about", "after", "all", "also", "am", "any", "been", "before", "being", "both", "can",
    "could", "did", "do", "does", "done", "during", "each", "from", "had", "has", "have", "he",
    "her", "his", "how", "i", "its", "may", "me", "might", "more", "most", "much", "must", "my",
    "our", "she", "should", "since", "so", "some", "than", "them", "those", "through", "up", "us",
    "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom",
    "whose", "why", "would", "you", "your",
})  # fmt: skip
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~!])")
_CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "rank", "citation", "title", "date", "section", "paragraph", "source", "start", "end",
    "score", "bm25_rank", "dense_rank", "text",
)  # fmt: skip


def highlight_spans(text: str, question: str) -> list[tuple[int, int]]:
    """(start, end) of each word of ``text`` that shares a search term with ``question``.

    Words are compared after the BM25 tokenizer (stemming, stop words removed), so
    the words marked are the ones lexical retrieval matched: "inspections" marks
    "inspection". Question and function words ("which", "from") are not marked:
    they match everywhere and would hide the words that matter.
    """
    terms = {
        tokens[0]
        for match in _WORD.finditer(question)
        if match.group().lower() not in _FUNCTION_WORDS and (tokens := tokenize(match.group()))
    }
    if not terms:
        return []
    seen: dict[str, bool] = {}
    spans = []
    for match in _WORD.finditer(text):
        word = match.group().lower()
        if word not in seen:
            tokens = tokenize(word)
            seen[word] = bool(tokens) and tokens[0] in terms  # "£5m" must not match "£2m" by "m"
        if seen[word]:
            spans.append(match.span())
    return spans


def marked_html(text: str, spans: list[tuple[int, int]], tag: str = "mark") -> str:
    """``text`` as HTML with each span wrapped in ``<tag>``; every text piece is escaped.

    The only markup in the result is the tags added here, so a document holding
    ``<script>`` or Markdown shows literally.
    """
    pieces = []
    position = 0
    for start, end in sorted(spans):
        if start < position:
            continue
        pieces.append(html.escape(text[position:start]))
        pieces.append(f"<{tag}>{html.escape(text[start:end])}</{tag}>")
        position = end
    pieces.append(html.escape(text[position:]))
    return "".join(pieces)


def source_html(text: str, start: int, end: int, question: str, anchor: str = "passage") -> str:
    """A whole document as escaped HTML with ``text[start:end]`` in ``<mark id=anchor>``.

    Inside the passage the question's words are in ``<strong>``, as in the result list.
    """
    passage = text[start:end]
    if passage.strip():  # the mark holds the words, not the blank lines around them
        start += len(passage) - len(passage.lstrip())
        passage = passage.strip()
        end = start + len(passage)
    inner = marked_html(passage, highlight_spans(passage, question), tag="strong")
    return (
        html.escape(text[:start])
        + f'<mark id="{html.escape(anchor, quote=True)}">{inner}</mark>'
        + html.escape(text[end:])
    )


def escape_markdown(text: str) -> str:
    """Backslash-escape Markdown syntax so a passage renders as the words it holds."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def answer_markdown(answer: Answer, settings_line: str = "") -> str:
    """The answer as a Markdown file: one quoted passage per citation, for notes and briefings."""
    lines = [f"# {escape_markdown(answer.question)}", ""]
    if settings_line:
        lines += [f"_{escape_markdown(settings_line)}_", ""]
    if answer.low_confidence:
        lines += ["**The documents don't seem to answer this question: weak matches only.**", ""]
    elif answer.sentences:
        lines += ["**Answer** (quoted from the passages below):", ""]
        lines += [escape_markdown(answer_text(answer.sentences)), ""]
    lines += [f"_{escape_markdown(note)}_" for note in answer.missing]
    if answer.missing:
        lines.append("")
    for hit in answer.hits:
        citation = cite(hit)
        lines += [f"## {hit.rank}. {escape_markdown(citation.line())}", ""]
        quoted = hit.chunk.text.strip().split("\n")
        lines += [f"> {escape_markdown(line)}".rstrip() for line in quoted]
        where = f"characters {citation.start}–{citation.end}"
        lines += ["", f"Source file: `{citation.source}`, {where}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _csv_cell(value: Any) -> Any:
    """Guard text that a spreadsheet would run as a formula (OWASP CSV injection advice)."""
    if isinstance(value, str) and value.startswith(_CSV_FORMULA):
        return "'" + value
    return value


def answer_csv(answer: Answer) -> str:
    """The answer as CSV, one row per passage, with the columns of :data:`CSV_COLUMNS`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for hit in answer.hits:
        record = hit_record(hit) | {"citation": cite(hit).line()}
        writer.writerow([_csv_cell(record[column]) for column in CSV_COLUMNS])
    return buffer.getvalue()


# Recommendations: the JSON record of ``qa recommendations --json`` and the terminal text.


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


def format_recommendations(tracked: Sequence[TrackedRecommendation]) -> str:
    """Per report (by date), each item's status and text, then its citation, the same item in
    earlier or later reports, and the progress sentence quoted."""
    if not tracked:
        return "No recommendations found in the corpus."
    width = max(len(entry.status) for entry in tracked)
    lines: list[str] = []
    current: str | None = None
    for entry in tracked:
        record = entry.recommendation
        citation = cite(record)
        if record.source != current:
            current = record.source
            lines += ["", f"{citation.title} ({citation.when})"]
            lines.append("-" * min(100, len(lines[-1])))
        lines.append(f"{entry.status:<{width}}  {record.text}")
        lines.append(f"    cited: {citation.line()}")
        for label, links in (("earlier", entry.earlier), ("later", entry.later)):
            for link in links:
                other = link.recommendation
                lines.append(
                    f"    {label}: {other.text} ({cite(other).line()};"
                    f" similarity {link.similarity:.2f})"
                )
        if entry.evidence is not None:
            lines.append(f'    progress: "{entry.evidence.text}" ({cite(entry.evidence).line()})')
    return "\n".join(lines).strip("\n")
