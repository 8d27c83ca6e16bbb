"""The app's HTML, built as strings by pure functions so that fast tests can check it.

Security rule for every function here: each piece of document text, title, question or
file name goes through ``html.escape``; the only markup in the result is the tags written
in this module. A document holding ``<script>`` or Markdown therefore shows literally,
and the whole-document view (:func:`source_page`) also forbids every script but its own.
The class names are styled by ``qa/app/style.css``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from qa.citation import Citation, cite
from qa.features.recommendations import Recommendation, TrackedRecommendation
from qa.index.lexical import tokenize
from qa.types import Answer, DocumentGroup, Hit, Status, display_date
from qa.uploads import DocumentInfo

ANSWER_TITLE = "Answer, quoted from the passages below"
STATUS_LABELS = {
    Status.REPEATED: "Repeated",
    Status.ADDRESSED: "Addressed",
    Status.NEW: "New",
    Status.NOT_MENTIONED: "Not mentioned later",
    Status.UNDATED: "Undated",
}
FORMAT_LABELS = {
    "pdf": "PDF",
    "text": "Text",
    "markdown": "Markdown",
    "html": "Web page",
    "docx": "Word",
}
STATUS_HELP = {
    Status.REPEATED: "a later report lists it again, or it repeats an earlier report's item",
    Status.ADDRESSED: "no later report lists it, and a later report says progress was made",
    Status.NEW: "first raised in the latest report",
    Status.NOT_MENTIONED: "later reports neither list it nor report progress on it",
    Status.UNDATED: "the report has no date, so it cannot be placed in time",
}

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

# A statement's citation marker, "[2]", with the space before it.
_STATEMENT_MARKER = re.compile(r"\s?\[(\d+)\]")

SOURCE_SCRIPT = (
    "var m=document.getElementById('passage');"
    "if(m){var y=m.getBoundingClientRect().top+window.scrollY-0.15*window.innerHeight;"
    "window.scrollTo(0,Math.max(0,y));}"
)
# A frame's document (the text view, the printed pages): it may show data: images and run
# only the one script whose hash it names.
_FRAME_DOCUMENT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src '{script_hash}'">
<style>
body {{ margin: 0; padding: 0.75rem 1rem 40vh; color: #1f2328; background: #fff;
  font: 0.97rem/1.6 "Source Sans 3", "Source Sans Pro", -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; }}
{style}
</style></head>
<body>{body}<script>{script}</script></body></html>"""
_TEXT_STYLE = """
.doc { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 52rem; margin: 0 auto; }
mark { display: inline-block; width: 100%; box-sizing: border-box; vertical-align: top;
  background: #fff4cc; color: inherit; border-left: 4px solid #d9a400;
  padding: 0.35rem 0.6rem; border-radius: 0 0.3rem 0.3rem 0; }
mark strong { background: #ffe08a; font-weight: 600; }"""
_PAGES_STYLE = """
body { padding: 0.5rem 0.5rem 40vh; background: #eef0f3; }
figure { margin: 0 auto 1rem; max-width: 60rem; }
figcaption { font-size: 0.85rem; color: #4a5361; margin-bottom: 0.25rem; }
.sheet { position: relative; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.25); background: #fff; }
.sheet img { display: block; width: 100%; height: auto; }
#passage { position: absolute; left: 0; width: 0; height: 0; }"""


@dataclass(frozen=True)
class PageImage:
    """One printed page of a PDF drawn with the passage highlighted: its number, the PNG and
    its size in pixels, and where the passage starts on it (a fraction of the page's height
    from the top), or None when the passage is on another page."""

    number: int
    png: bytes
    width: int
    height: int
    passage_top: float | None


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


# --- words of the question in a text ------------------------------------------------------------


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


# --- the whole document -------------------------------------------------------------------------


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


def _frame_document(style: str, body: str) -> str:
    digest = base64.b64encode(hashlib.sha256(SOURCE_SCRIPT.encode()).digest()).decode()
    return _FRAME_DOCUMENT.format(
        script_hash=f"sha256-{digest}", style=style, body=body, script=SOURCE_SCRIPT
    )


def source_page(text: str, citation: Citation, question: str) -> str:
    """The iframe page of a whole document, scrolled to the cited place by a hash-pinned script.

    The Content-Security-Policy allows only this one script, so even text that
    escaped escaping could not run.
    """
    body = source_html(text, citation.start, citation.end, question)
    return _frame_document(_TEXT_STYLE, f'<div class="doc">{body}</div>')


def pdf_page(pages: Sequence[PageImage], title: str) -> str:
    """The iframe page of a passage's printed pages, each under its number, scrolled (by the
    text view's script) to where the passage starts, so both views open on the passage.

    Each image carries its size, so the page is laid out before the images are decoded
    and the scroll lands on the passage rather than on an empty page.
    """
    figures = []
    anchored = False
    for page in pages:
        anchor = ""
        if page.passage_top is not None and not anchored:
            anchored = True
            top = min(max(page.passage_top, 0.0), 1.0) * 100
            anchor = f'<span id="passage" style="top: {top:.2f}%"></span>'
        alt = html.escape(f"Page {page.number} of {title}, the passage highlighted", quote=True)
        data = base64.b64encode(page.png).decode()
        figures.append(
            f"<figure><figcaption>Page {page.number}</figcaption>"
            f'<div class="sheet"><img src="data:image/png;base64,{data}" alt="{alt}"'
            f' width="{page.width}" height="{page.height}">{anchor}</div></figure>'
        )
    return _frame_document(_PAGES_STYLE, "".join(figures))


# --- results ------------------------------------------------------------------------------------


def citation_html(citation: Citation, rank: int = 0, title: bool = True) -> str:
    """The citation line: rank, title in small capitals, then date, section and paragraph.

    A place shown for another reason than its rank (a recommendation) has rank 0: no
    badge. Without ``title`` (under a heading naming the document) the place follows the rank.
    """
    where = " · ".join(html.escape(part) for part in (citation.when, *citation.where))
    badge = f'<span class="qa-rank">{rank}</span>' if rank > 0 else ""
    if not title:
        return f'<div class="qa-cite">{badge}<span class="qa-place">{where}</span></div>'
    return (
        f'<div class="qa-cite">{badge}'
        f'<span class="qa-title">{html.escape(citation.title)}</span>'
        f'<span class="qa-where">{where}</span></div>'
    )


def passage_id(rank: int) -> str:
    """The element id of the passage ranked ``rank``, which the answer's markers link to."""
    return f"passage-{rank}"


def hit_html(hit: Hit, question: str, title: bool = True) -> str:
    """Citation line above a bordered passage; all text escaped, <mark> around question words."""
    text = hit.chunk.text.strip()
    return (
        f'<div class="qa-hit" id="{passage_id(hit.rank)}"'
        f' data-source="{html.escape(hit.chunk.source, quote=True)}"'
        f' data-rank="{hit.rank}">{citation_html(cite(hit), hit.rank, title)}'
        f'<div class="qa-passage">{marked_html(text, highlight_spans(text, question))}</div>'
        "</div>"
    )


def _marker(rank: int) -> str:
    return (
        f'&nbsp;<a class="qa-marker" href="#{passage_id(rank)}"'
        f' title="Go to passage {rank}">[{rank}]</a>'
    )


def statement_html(statement: str, ranks: Collection[int]) -> str:
    """The answer's statement, escaped, each ``[n]`` marker of a passage shown (``ranks``)
    linking to it as the quoted sentences' markers do; any other bracket stays text."""

    def link(match: re.Match[str]) -> str:
        rank = int(match.group(1))
        return _marker(rank) if rank in ranks else match.group(0)

    return _STATEMENT_MARKER.sub(link, html.escape(statement))


def answer_html(answer: Answer) -> str:
    """The answer block: the statement of what the records say (grades and their change),
    then each quoted sentence, escaped, with a marker linking to its passage."""
    parts = []
    if answer.statement:
        ranks = {hit.rank for hit in answer.hits}
        parts.append(f'<p class="qa-statement">{statement_html(answer.statement, ranks)}</p>')
    if answer.sentences:
        quoted = " ".join(
            f"{html.escape(sentence.text)}{_marker(sentence.rank)}" for sentence in answer.sentences
        )
        parts.append(f"<p>{quoted}</p>")
    return (
        f'<div class="qa-answer"><div class="qa-answer-title">{ANSWER_TITLE}</div>'
        f"{''.join(parts)}</div>"
    )


def results_summary_html(count: int, searched: str, milliseconds: float) -> str:
    """The line above the results: how many passages, how they were searched, how long it took."""
    return (
        f'<div class="qa-ranking">{_counted(count, "passage")} ·'
        f" {html.escape(searched)} · {milliseconds:.0f} ms</div>"
    )


def _document_heading(classes: str, title: str, date: str | None, count: str) -> str:
    return (
        f'<div class="{classes}"><span class="qa-title">{html.escape(title)}</span>'
        f'<span class="qa-date">{html.escape(display_date(date))} · {count}</span></div>'
    )


def group_html(group: DocumentGroup, count: int) -> str:
    """A comparison column's heading: the document's title and date, and its passage count."""
    return _document_heading("qa-group", group.title, group.date, _counted(count, "passage"))


# --- recommendations ----------------------------------------------------------------------------


def report_heading_html(record: Recommendation, count: int) -> str:
    """The heading over one report's recommendations: its title, date and number of items."""
    items = _counted(count, "recommendation")
    return _document_heading("qa-group qa-rec-head", record.title, record.date, items)


def status_badge(status: Status) -> str:
    """The status as a coloured label whose tooltip says what the status means."""
    css = "qa-badge-" + status.replace(" ", "-")
    return (
        f'<span class="qa-badge {css}" title="{html.escape(STATUS_HELP[status], quote=True)}">'
        f"{STATUS_LABELS[status]}</span>"
    )


def recommendation_html(entry: TrackedRecommendation) -> str:
    """One item: status badge and text, the same item in other reports, and the progress quoted."""
    record = entry.recommendation
    notes = [
        f'<div class="qa-note"><span class="qa-note-label">{label} the'
        f" {html.escape(display_date(link.recommendation.date))} report:</span>"
        f" “{html.escape(link.recommendation.text)}”"
        f'<span class="qa-where">{html.escape(cite(link.recommendation).line())}</span></div>'
        for label, links in (("Raised before in", entry.earlier), ("Listed again in", entry.later))
        for link in links
    ]
    if entry.evidence is not None:
        evidence = entry.evidence
        notes.append(
            f'<div class="qa-note"><span class="qa-note-label">Progress reported in the'
            f" {html.escape(display_date(evidence.date))} report:</span>"
            f"<blockquote>“{html.escape(evidence.text)}”"
            f'<span class="qa-where">{html.escape(cite(evidence).line())}</span></blockquote></div>'
        )
    return (
        f'<div class="qa-rec" data-status="{html.escape(entry.status, quote=True)}">'
        f'{status_badge(entry.status)}<span class="qa-rec-text">{html.escape(record.text)}</span>'
        f"{''.join(notes)}</div>"
    )


# --- documents ----------------------------------------------------------------------------------


def format_size(size: int | None) -> str:
    """A file size as people read it ("45 KB", "2.3 MB"), or that the file has gone."""
    if size is None:
        return "file missing"
    if size < 1_000_000:
        return f"{max(1, round(size / 1000))} KB"
    return f"{size / 1_000_000:.1f} MB"


def format_label(file_format: str) -> str:
    """A file format as people name it ("PDF", "Word")."""
    return FORMAT_LABELS.get(file_format, file_format.upper())


def describe_document(info: DocumentInfo) -> str:
    """Whom a document is about, what it is and its format: "Croydon · inspection report · PDF"."""
    who = info.organisation or "organisation not stated"
    return f"{who} · {info.kind.value} · {format_label(info.format)}"


def documents_html(documents: Sequence[DocumentInfo]) -> str:
    """The document list for a narrow screen: each title, then whom it is about, what it is
    and its format, then its date, size and passages, then its file, stacked, where a table's
    columns would not fit beside the title."""
    items = "".join(
        f'<li><span class="qa-title">{html.escape(info.title)}</span>'
        f'<span class="qa-kind">{html.escape(describe_document(info))}</span>'
        f'<span class="qa-where">{html.escape(display_date(info.date))} ·'
        f" {format_size(info.size_bytes)} · {_counted(info.chunks, 'passage')}</span>"
        f'<span class="qa-file">{html.escape(info.source)}</span></li>'
        for info in documents
    )
    return f'<ul class="qa-docs">{items}</ul>'
