"""The app's HTML, built as strings by pure functions so that fast tests can check it.

Security rule for every function here: each piece of document text, title, question or
file name goes through ``html.escape``; the only markup in the result is the tags written
in this module. A document holding ``<script>`` or Markdown therefore shows literally.
The class names are styled by ``qa/app/style.css``. The source view's framed pages (a whole
document, a PDF's printed pages) are in :mod:`qa.render.source`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Sequence

from qa.citation import Citation, cite
from qa.features.judgements.extract import Grade
from qa.features.judgements.timeline import Entry, Row, direction
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
        f" {html.escape(display_date(link.recommendation.date))} report"
        + (f" (in part: {html.escape(link.part)})" if link.part else "")
        + ":</span>"
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


# --- judgements ---------------------------------------------------------------------------------


def grade_badge(grade: Grade) -> str:
    """A grade as a label coloured by its place on the scale, worded as reports print it."""
    css = "qa-grade-" + grade.name.lower().replace("_", "-")
    return f'<span class="qa-grade {css}">{html.escape(grade.label)}</span>'


def organisation_heading_html(organisation: str | None, rows: Sequence[Row]) -> str:
    """The heading over one organisation's judgements: its name and how many aspects and
    inspections (years) they cover."""
    years = {entry.year for row in rows for entry in row.entries}
    name = organisation or "Organisation not stated"
    counts = f"{_counted(len(rows), 'aspect')} · {_counted(len(years), 'inspection')}"
    return (
        f'<div class="qa-group qa-rec-head"><span class="qa-title">{html.escape(name)}</span>'
        f'<span class="qa-date">{counts}</span></div>'
    )


def _grades_html(entries: Sequence[Entry]) -> str:
    """A table cell's grades, each with its inspection's date; a dash when none is stated."""
    if not entries:
        return '<span class="qa-none" title="No grade stated for this inspection">–</span>'
    return "".join(
        f'{grade_badge(entry.grade)}<span class="qa-when">'
        f"{html.escape(display_date(entry.inspection))}</span>"
        for entry in entries
    )


def judgements_table_html(rows: Sequence[Row], anchors: Sequence[str]) -> str:
    """One organisation's grades as a table: an aspect per row, an inspection year per column
    (undated last), each cell the grade and the inspection's date; an aspect's name links to
    its statements and their citations below (``anchors``, one per row)."""
    years = sorted(
        {entry.year for row in rows for entry in row.entries}, key=lambda y: (y is None, y or 0)
    )
    head = "".join(f'<th scope="col">{year or "undated"}</th>' for year in years)
    body = []
    for row, anchor in zip(rows, anchors, strict=True):
        cells = "".join(
            f"<td>{_grades_html([e for e in row.entries if e.year == year])}</td>" for year in years
        )
        body.append(
            f'<tr><th scope="row"><a href="#{html.escape(anchor, quote=True)}">'
            f"{html.escape(row.aspect)}</a></th>{cells}</tr>"
        )
    return (
        '<div class="qa-table-wrap"><table class="qa-judgements">'
        f'<thead><tr><th scope="col">Aspect</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def aspect_html(row: Row, anchor: str) -> str:
    """An aspect's heading: its name, its other wordings (matched by meaning, so a reader can
    check the match) and the change from its first to its last grade."""
    # Once each, however typed: "children's services" and "children’s services" are one.
    wordings: dict[str, str] = {}
    for wording in row.wordings:
        wordings.setdefault(wording.replace("’", "'").casefold(), wording)
    wordings.pop(row.aspect.replace("’", "'").casefold(), None)
    also = (
        '<span class="qa-wordings">Also worded: '
        + "; ".join(f"“{html.escape(w)}”" for w in wordings.values())
        + "</span>"
        if wordings
        else ""
    )
    change = direction(row.entries)
    trend = f'<span class="qa-change qa-change-{change}">{change}</span>' if change else ""
    return (
        f'<div class="qa-aspect" id="{html.escape(anchor, quote=True)}">'
        f'<span class="qa-aspect-name">{html.escape(row.aspect)}</span>{trend}{also}</div>'
    )


def statement_citation_html(citation: Citation) -> str:
    """Where a document states a grade: its title, date and every place, in full."""
    return f'<div class="qa-statement-cite">{html.escape(citation.line())}</div>'


def judgement_html(entry: Entry, quoted: str) -> str:
    """One inspection's grade for an aspect: the grade, the inspection's date and the statement
    as the document prints it (``quoted``)."""
    return (
        f'<div class="qa-judgement">{grade_badge(entry.grade)}'
        f'<span class="qa-when">{html.escape(display_date(entry.inspection))} inspection</span>'
        f'<q class="qa-quote">{html.escape(quoted)}</q></div>'
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
    """Whom a document is about, what it is and its format: "Croydon · council report · PDF"."""
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
