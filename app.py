"""The qa web app: ask a question of the reports and get ranked passages cited to their source.

Run it with ``streamlit run app.py``. This file holds widgets and layout only:
searching, indexing, uploads and formatting live in the ``qa`` package. Every
piece of document text or question that reaches HTML goes through
``html.escape`` (via :mod:`qa.render.output`), and only tags added here are markup.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from itertools import groupby
from typing import Any

import streamlit as st

from qa.corpus import SUFFIXES
from qa.corpus.uploads import (
    UploadError,
    UploadExists,
    list_documents,
    save_upload,
    skipped_documents,
)
from qa.features.recommendations import (
    Place,
    TrackedRecommendation,
    snapshot_recommendations,
)
from qa.index.build import CorpusChanges, build_index
from qa.index.embedders import Embedder, ModelError, load_embedder
from qa.index.store import FORMAT_VERSION, IndexMissing, IndexProblem, IndexStore, Snapshot
from qa.pipeline.answer import LOW_CONFIDENCE_MESSAGE
from qa.render.output import (
    answer_csv,
    answer_markdown,
    display_date,
    escape_markdown,
    highlight_spans,
    marked_html,
    ordered_for_reading,
    place_parts,
    readable_citation,
    source_html,
)
from qa.search import Searcher
from qa.settings import BUNDLED_MODEL, Settings, SettingsError, load_settings
from qa.types import Answer, Chunk, Filters, Hit, Mode, Status

log = logging.getLogger("qa.app")

APP_TITLE = "Ofsted reports: find the evidence"
APP_SUBTITLE = (
    "Ask a question about Croydon's children's services and their Ofsted inspections. "
    "You get the passages of the reports that answer it, each cited to its document, date, "
    "section and paragraph, so you can check every line against the source."
)
EXAMPLES = (
    "Which recommendations from the 2020 inspection remained in 2024?",
    "How were homeless 16 and 17 year olds supported in 2024?",
    "What did Ofsted say about social workers' caseloads?",
    "How has the experience of care leavers changed since 2017?",
)
MODE_LABELS = {
    "hybrid": "Words and meaning (recommended)",
    "lexical": "Exact words only",
    "dense": "Meaning only",
}
MODE_HELP = (
    "Words: passages containing the question's words (BM25). Meaning: passages close in meaning "
    "even with other words (sentence embeddings). The recommended mode combines both rankings."
)
SCORE_LABELS = {"hybrid": "fused score", "lexical": "BM25 score", "dense": "similarity"}
WEAK_MATCHES = "Closest passages (weak matches: they do not answer the question)"
ANSWER_TITLE = "Answer, quoted from the passages below"
SOURCE_HEIGHT = 560
COMPARISON_COLUMNS = 3
STATUS_LABELS = {
    Status.REPEATED: "Repeated",
    Status.ADDRESSED: "Addressed",
    Status.NEW: "New",
    Status.NOT_MENTIONED: "Not mentioned later",
    Status.UNDATED: "Undated",
}
STATUS_HELP = {
    Status.REPEATED: "a later report lists it again, or it repeats an earlier report's item",
    Status.ADDRESSED: "no later report lists it, and a later report says progress was made",
    Status.NEW: "first raised in the latest report",
    Status.NOT_MENTIONED: "later reports neither list it nor report progress on it",
    Status.UNDATED: "the report has no date, so it cannot be placed in time",
}

CSS = """
<style>
.qa-cite { margin: 0.25rem 0 0.4rem; color: #4a5361; line-height: 1.35; }
.qa-cite .qa-rank {
  display: inline-block; min-width: 1.55rem; padding: 0 0.3rem; margin-right: 0.45rem;
  border-radius: 0.8rem; background: #1d4e89; color: #fff; font-size: 0.8rem; font-weight: 700;
  text-align: center; line-height: 1.55rem; vertical-align: 0.05rem;
}
.qa-cite .qa-title {
  font-weight: 700; font-variant-caps: all-small-caps; letter-spacing: 0.03em; font-size: 1.08rem;
  color: #2c3440;
}
.qa-cite .qa-place { font-size: 0.9rem; color: #4a5361; }
.qa-cite .qa-where { display: block; font-size: 0.86rem; margin-top: 0.1rem; color: #5c6675; }
.qa-passage {
  border: 1px solid #d6dbe3; border-left: 4px solid #1d4e89; border-radius: 0.5rem;
  padding: 0.7rem 0.95rem; background: #fff; color: #1f2328; line-height: 1.6;
  white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.98rem;
}
.qa-passage mark, .qa-cite mark { background: #ffe28a; color: inherit; padding: 0 0.08em;
  border-radius: 0.15rem; }
.qa-ranking { font-size: 0.85rem; color: #5c6675; }
/* A marker [n] jumps here: clear Streamlit's top bar and show which passage it was. */
.qa-hit { scroll-margin-top: 4.5rem; }
.qa-hit:target .qa-passage { box-shadow: 0 0 0 3px #f2c94c; }
.qa-answer {
  border: 1px solid #b9cbe4; border-radius: 0.5rem; background: #f3f7fc;
  padding: 0.75rem 1rem 0.85rem; color: #1f2328; line-height: 1.6; overflow-wrap: anywhere;
}
.qa-answer .qa-answer-title {
  font-size: 0.8rem; font-weight: 700; letter-spacing: 0.04em; text-transform: uppercase;
  color: #1d4e89; margin-bottom: 0.3rem;
}
.qa-answer p { margin: 0 0 0.35rem; }
.qa-answer a.qa-marker {
  color: #1d4e89; font-weight: 700; text-decoration: none; white-space: nowrap;
  padding: 0 0.1rem; border-radius: 0.2rem;
}
.qa-answer a.qa-marker:hover, .qa-answer a.qa-marker:focus { background: #dce7f5;
  text-decoration: underline; }
.qa-group { border-bottom: 2px solid #1d4e89; padding-bottom: 0.3rem; margin-bottom: 0.2rem; }
.qa-group .qa-title, .qa-rec-head .qa-title {
  font-weight: 700; font-variant-caps: all-small-caps; letter-spacing: 0.03em;
  font-size: 1.15rem; color: #2c3440; line-height: 1.25;
}
.qa-group .qa-date, .qa-rec-head .qa-date { display: block; color: #5c6675; font-size: 0.9rem; }
.qa-badge {
  display: inline-block; padding: 0.05rem 0.55rem; border-radius: 0.8rem; font-size: 0.78rem;
  font-weight: 700; letter-spacing: 0.02em; border: 1px solid; white-space: nowrap;
  vertical-align: 0.1rem; margin-right: 0.5rem;
}
.qa-badge-repeated { background: #fdecea; color: #8a1c12; border-color: #e8a59d; }
.qa-badge-addressed { background: #e6f4ea; color: #17572b; border-color: #94cfa6; }
.qa-badge-new { background: #e8f0fb; color: #163f73; border-color: #9ab8e2; }
.qa-badge-not-mentioned-later, .qa-badge-undated {
  background: #f1f2f4; color: #3d4450; border-color: #c5cad3; }
.qa-rec { color: #1f2328; line-height: 1.55; overflow-wrap: anywhere; }
.qa-rec .qa-rec-text { font-size: 1.02rem; font-weight: 600; }
.qa-rec .qa-where { display: block; font-size: 0.86rem; margin-top: 0.15rem; color: #5c6675; }
.qa-rec .qa-note { margin-top: 0.45rem; font-size: 0.92rem; }
.qa-rec .qa-note-label { font-weight: 700; color: #3d4450; }
.qa-rec blockquote { margin: 0.2rem 0 0; padding: 0.1rem 0 0.1rem 0.7rem;
  border-left: 3px solid #94cfa6; color: #2c3440; }
h1 { font-size: clamp(1.7rem, 1.2rem + 1.6vw, 2.3rem) !important; }
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }
/* The Search button says how to submit; the "Press Enter" hint would cover long questions. */
[data-testid="InputInstructions"] { display: none; }
iframe[title^="Text of"] { border: 1px solid #d6dbe3; border-radius: 0.5rem; }
.st-key-examples button { justify-content: flex-start; text-align: left; }
</style>
"""

SOURCE_SCRIPT = (
    "var m=document.getElementById('passage');"
    "if(m){var y=m.getBoundingClientRect().top+window.scrollY-0.15*window.innerHeight;"
    "window.scrollTo(0,Math.max(0,y));}"
)
SOURCE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; style-src 'unsafe-inline'; script-src '{script_hash}'">
<style>
body {{ margin: 0; padding: 0.75rem 1rem 40vh; color: #1f2328; background: #fff;
  font: 0.97rem/1.6 "Source Sans 3", "Source Sans Pro", -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; }}
.doc {{ white-space: pre-wrap; overflow-wrap: anywhere; max-width: 52rem; margin: 0 auto; }}
mark {{ display: inline-block; width: 100%; box-sizing: border-box; vertical-align: top;
  background: #fff4cc; color: inherit; border-left: 4px solid #d9a400;
  padding: 0.35rem 0.6rem; border-radius: 0 0.3rem 0.3rem 0; }}
mark strong {{ background: #ffe08a; font-weight: 600; }}
</style></head>
<body><div class="doc">{body}</div><script>{script}</script></body></html>"""


# --- shared resources (one per server process) -------------------------------------------------


@st.cache_resource
def _build_lock() -> threading.Lock:
    """One index build at a time per process: two sessions must not build the same index."""
    return threading.Lock()


@st.cache_resource(show_spinner="Loading the search index…")
def _open_searcher(key: str, _settings: Settings) -> Searcher:
    """The Searcher for one settings combination, shared by every session of this server."""
    return Searcher.open(_settings)


@st.cache_data(ttl=30, show_spinner=False)
def _corpus_changes(key: str, version: str, _searcher: Searcher) -> CorpusChanges:
    """Whether the corpus folder changed since the index was built; rechecked every 30 s."""
    return _searcher.changes()


def plain(text: str) -> str:
    """Text for st.error/st.success, which read Markdown: file names and reasons stay literal."""
    return escape_markdown(text).replace("$", "\\$")


class StreamlitProgress:
    """The ``progress(total, description)`` object build_index expects, drawn as st.progress."""

    def __init__(self, total: int, description: str) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.description = description
        self.bar = st.progress(0.0, text=f"{description} {total} passages…")

    def update(self, n: int) -> None:
        self.done += n
        self.bar.progress(
            min(self.done / self.total, 1.0),
            text=f"{self.description} passages: {self.done} of {self.total}",
        )

    def close(self) -> None:
        self.bar.empty()


@contextmanager
def build_slot() -> Iterator[None]:
    """Hold the process-wide build lock, telling the user if another session has it."""
    lock = _build_lock()
    if not lock.acquire(blocking=False):
        with st.spinner("Another user is updating the index; waiting for it to finish…"):
            lock.acquire()
    try:
        yield
    finally:
        lock.release()


def run_build(settings: Settings, label: str, rebuild: bool = False) -> str:
    """Build or update the index with a visible status and progress bar; return the outcome."""
    with build_slot(), st.status(label, expanded=True) as status:
        try:
            st.write("Loading the embedding model (about 10 seconds the first time)…")
            embedder = load_embedder(settings.model, settings.batch_size)
            st.write("Reading and embedding the documents…")
            report = build_index(settings, embedder, rebuild=rebuild, progress=StreamlitProgress)
        except Exception:
            status.update(label="The index could not be built", state="error", expanded=False)
            raise
        for error in report.errors:
            st.warning(plain(f"Skipped {error}"))
        outcome = f"Index ready: {report.documents} documents, {report.chunks} passages"
        status.update(label=outcome, state="complete", expanded=False)
    return outcome


def _build_first(settings: Settings) -> str | None:
    """Why the index must be built before this page can search, if it must: there is none
    yet, or an earlier version of qa wrote it in another format."""
    store = IndexStore(settings.index)
    if store.current() is None:
        return "Building the search index for the first time…"
    manifest = store.read_manifest()
    if manifest is not None and manifest.get("format_version") != FORMAT_VERSION:
        return "Rebuilding the search index: another version of qa wrote it…"
    return None


def get_searcher(settings: Settings) -> Searcher:
    """The shared Searcher, building the index first if there is none, or none it can read."""
    if _build_first(settings) is not None:
        with build_slot():
            reason = _build_first(settings)
        if reason is not None:
            run_build(settings, reason, rebuild=True)
    searcher = _open_searcher(repr(settings), settings)
    searcher.refresh()  # another session, or `qa index`, may have made a new version
    return searcher


# --- search page --------------------------------------------------------------------------------


def citation_html(hit: Hit, title: bool = True) -> str:
    """The citation line: rank, title in small capitals, then date, section and paragraph.

    A hit ranked 0 is a place shown for another reason (a recommendation): no rank badge.
    Without ``title`` (under a heading naming the document) the place follows the rank.
    """
    where = " · ".join(html.escape(part) for part in [display_date(hit.date), *place_parts(hit)])
    badge = f'<span class="qa-rank">{hit.rank}</span>' if hit.rank > 0 else ""
    if not title:
        return f'<div class="qa-cite">{badge}<span class="qa-place">{where}</span></div>'
    return (
        f'<div class="qa-cite">{badge}'
        f'<span class="qa-title">{html.escape(hit.title)}</span>'
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
        f' data-rank="{hit.rank}">{citation_html(hit, title)}'
        f'<div class="qa-passage">{marked_html(text, highlight_spans(text, question))}</div>'
        "</div>"
    )


def ranking_text(hit: Hit, mode: str) -> str:
    """How the passage was ranked, in words: the score and each retriever's rank."""

    def rank(value: int | None) -> str:
        return f"#{value}" if value is not None else "not ranked"

    parts = [f"{SCORE_LABELS[mode]} {hit.score:.4f}"]
    if mode != "dense":
        parts.append(f"word match (BM25) {rank(hit.lexical_rank)}")
    if mode != "lexical":
        parts.append(f"meaning match (embeddings) {rank(hit.dense_rank)}")
    return "Ranking: " + " · ".join(parts)


def source_page(text: str, hit: Hit, question: str) -> str:
    """The iframe page of a whole document, scrolled to the passage by a hash-pinned script.

    The Content-Security-Policy allows only this one script, so even text that
    escaped escaping could not run.
    """
    digest = base64.b64encode(hashlib.sha256(SOURCE_SCRIPT.encode()).digest()).decode()
    body = source_html(text, hit.chunk.start, hit.chunk.end, question)
    return SOURCE_PAGE.format(script_hash=f"sha256-{digest}", body=body, script=SOURCE_SCRIPT)


@st.dialog("Passage in its source", width="large")
def source_dialog(searcher: Searcher, hit: Hit, question: str) -> None:
    """The whole document with the passage highlighted and scrolled into view."""
    settings = searcher.settings
    document = searcher.snapshot.documents.get(hit.chunk.source)
    st.html(citation_html(hit))
    if document is None or document.text[hit.chunk.start : hit.chunk.end] != hit.chunk.text:
        st.warning("This document changed or was removed after the search; search again.")
        return
    st.caption(
        "The passage is highlighted in the whole document below; scroll to read what comes "
        "before and after it."
    )
    st.iframe(
        source_page(document.text, hit, question),
        height=SOURCE_HEIGHT,
        alt=f"Text of {document.title} with the passage highlighted",
    )
    left, right = st.columns([2, 3], vertical_alignment="center")
    path = settings.corpus / hit.chunk.source
    with left:
        if path.is_file():
            st.download_button(
                "Download the original file",
                data=path.read_bytes(),
                file_name=path.name,
                icon=":material/download:",
                on_click="ignore",
            )
    with right:
        st.code(readable_citation(hit), language=None, wrap_lines=True)


def source_button(searcher: Searcher, hit: Hit, question: str, key: str, label: str) -> None:
    """A button opening ``hit`` in its whole document."""
    if st.button(label, key=key, icon=":material/article:", width="stretch"):
        source_dialog(searcher, hit, question)


def show_duplicates(searcher: Searcher, hit: Hit, question: str, key: str) -> None:
    """The other places of the document repeating this passage, each openable in its source."""
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key=key):
        st.caption("Also in this document:", width="content")
        for number, duplicate in enumerate(hit.duplicates):
            place = ", ".join(place_parts(duplicate)) or f"characters {duplicate.chunk.start}"
            if st.button(
                plain(place),
                key=f"{key}-{number}",
                type="tertiary",
                icon=":material/article:",
                help="View this place in the source",
            ):
                source_dialog(searcher, duplicate, question)


def show_hits(
    searcher: Searcher,
    hits: Sequence[Hit],
    question: str,
    mode: str,
    ranking: bool,
    group: str,
    narrow: bool = False,
) -> None:
    """The passages, each with its citation, source button and copyable citation.

    ``narrow`` (a comparison column) stacks the button above the citation, which
    would be squeezed side by side.
    """
    for hit in hits:
        with st.container(key=f"hit-{group}-{hit.rank}"):
            st.html(hit_html(hit, question, title=not narrow))
            if ranking:
                st.caption(ranking_text(hit, mode))
            if hit.duplicates:
                show_duplicates(searcher, hit, question, f"also-{group}-{hit.rank}")
            if narrow:
                source_button(
                    searcher, hit, question, f"source-{group}-{hit.rank}", "View in source"
                )
                st.code(readable_citation(hit), language=None, wrap_lines=True)
            else:
                left, right = st.columns([1, 3], vertical_alignment="center")
                with left:
                    source_button(
                        searcher, hit, question, f"source-{group}-{hit.rank}", "View in source"
                    )
                with right:
                    st.code(readable_citation(hit), language=None, wrap_lines=True)
        st.space("small")


def answer_html(answer: Answer) -> str:
    """The extractive answer: each quoted sentence, escaped, then a marker linking to its passage."""
    sentences = " ".join(
        f'{html.escape(sentence.text)}&nbsp;<a class="qa-marker" href="#{passage_id(sentence.rank)}"'
        f' title="Go to passage {sentence.rank}">[{sentence.rank}]</a>'
        for sentence in answer.sentences
    )
    return (
        f'<div class="qa-answer"><div class="qa-answer-title">{ANSWER_TITLE}</div>'
        f"<p>{sentences}</p></div>"
    )


def group_html(hit: Hit, count: int) -> str:
    """A comparison column's heading: the document's title and date, and its passage count."""
    passages = f"{count} passage{'s' if count != 1 else ''}"
    return (
        f'<div class="qa-group"><span class="qa-title">{html.escape(hit.title)}</span>'
        f'<span class="qa-date">{html.escape(display_date(hit.date))} · {passages}</span></div>'
    )


def show_comparison(searcher: Searcher, answer: Answer, mode: str, ranking: bool) -> None:
    """The passages side by side, one column per document, oldest first, in rows of three."""
    groups = [hits for _, hits in ordered_for_reading(answer) if hits]
    width = min(COMPARISON_COLUMNS, len(groups))
    for first in range(0, len(groups), width):
        columns = st.columns(width, gap="medium")
        for column, hits in zip(columns, groups[first : first + width], strict=False):
            with column:
                st.html(group_html(hits[0], len(hits)))
                show_hits(searcher, hits, answer.question, mode, ranking, "side", narrow=width > 1)


def describe_search(mode: str, filters: Filters, titles: dict[str, str]) -> str:
    """One line saying how the results were searched, for the page and the exports."""
    parts = [MODE_LABELS[mode].replace(" (recommended)", "")]
    if filters.sources is not None:
        names = sorted(titles.get(s, s) for s in filters.sources)
        parts.append("documents: " + "; ".join(names))
    if filters.year_from is not None or filters.year_to is not None:
        parts.append(f"years {filters.year_from}–{filters.year_to}")
    return "Searched by " + " · ".join(parts)


def show_answer(
    searcher: Searcher,
    answer: Answer,
    mode: str,
    filters: Filters,
    ranking: bool,
    titles: dict[str, str],
) -> None:
    """Results header with downloads, then the passages or the 'nothing relevant' message."""
    question = answer.question
    searched = describe_search(mode, filters, titles)
    if not answer.hits:
        st.info(
            "No passage matches this question with the current filters. Try other words, "
            "widen the filters in the sidebar, or switch the search to *Words and meaning*.",
            icon=":material/search_off:",
        )
        return
    milliseconds = sum(answer.timings.values()) * 1000
    count = len(answer.hits)
    slug = "-".join(question.lower().split()[:6])
    slug = "".join(ch for ch in slug if ch.isalnum() or ch == "-")[:60] or "results"
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.html(
            f'<div class="qa-ranking">{count} passage{"s" if count != 1 else ""} ·'
            f" {html.escape(searched)} · {milliseconds:.0f} ms</div>"
        )
        st.download_button(
            "Markdown",
            answer_markdown(answer, searched),
            file_name=f"{slug}.md",
            mime="text/markdown",
            icon=":material/download:",
            on_click="ignore",
        )
        st.download_button(
            "CSV",
            answer_csv(answer),
            file_name=f"{slug}.csv",
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
        )
    if answer.low_confidence:
        similarity = answer.best_similarity or 0.0
        st.warning(
            f"**{plain(LOW_CONFIDENCE_MESSAGE)}** No passage is close in meaning to the question "
            f"(best similarity {similarity:.2f}). Try other words, or check that the "
            "question is about the documents listed under *Documents*.",
            icon=":material/help:",
        )
        with st.expander(WEAK_MATCHES, expanded=False):
            show_hits(searcher, answer.hits, question, mode, ranking, "weak")
        return
    if answer.sentences:
        st.html(answer_html(answer))
    for note in answer.missing:
        st.info(plain(note), icon=":material/event_busy:")
    if answer.comparison:
        show_comparison(searcher, answer, mode, ranking)
    else:
        show_hits(searcher, answer.hits, question, mode, ranking, "main")


def ask_example(question: str) -> None:
    st.session_state["q"] = question


def search_page(
    searcher: Searcher, mode: str, k: int, filters: Filters, ranking: bool, titles: dict[str, str]
) -> None:
    """The question box, then examples on an empty page or the ranked passages."""
    with st.form("ask", border=False, enter_to_submit=True):
        box, button = st.columns([6, 1], vertical_alignment="bottom")
        with box:
            st.text_input(
                "Your question",
                key="q",
                bind="query-params",
                placeholder="e.g. How are care leavers supported?",
            )
        with button:
            st.form_submit_button(
                "Search", type="primary", icon=":material/search:", width="stretch"
            )
    question = (st.session_state.get("q") or "").strip()
    if not question:
        st.markdown("**Try an example question:**")
        with st.container(key="examples", gap="small"):
            for number, example in enumerate(EXAMPLES):
                st.button(
                    example,
                    key=f"example-{number}",
                    on_click=ask_example,
                    args=(example,),
                    icon=":material/arrow_forward:",
                )
        st.caption(
            "Results are passages quoted from the documents, not generated text. Narrow the "
            "search in the sidebar; open any passage in its source to read it in context."
        )
        return
    answer = searcher.search(question, k=k, mode=mode, filters=filters)
    show_answer(searcher, answer, mode, filters, ranking, titles)


# --- recommendations page ----------------------------------------------------------------------


def place_hit(snapshot: Snapshot, source: str, place: Place) -> Hit | None:
    """A recommendation or progress sentence as a Hit ranked 0, so source_dialog can show it."""
    document = snapshot.documents.get(source)
    if document is None:
        return None
    text = document.text[place.start : place.end]
    chunk = Chunk(source, place.start, place.end, text, place.section, place.paragraph)
    return Hit(0, -1, chunk, document.title, document.date, 0.0, None, None)


def status_badge(status: str) -> str:
    css = "qa-badge-" + status.replace(" ", "-")
    return (
        f'<span class="qa-badge {css}" title="{html.escape(STATUS_HELP[status], quote=True)}">'
        f"{STATUS_LABELS[status]}</span>"
    )


def recommendation_html(entry: TrackedRecommendation) -> str:
    """One item: status badge and text, the same item in other reports, and the progress quoted.

    Every piece of document text is escaped; the only markup is added here.
    """
    record = entry.recommendation
    notes = [
        f'<div class="qa-note"><span class="qa-note-label">{label} the'
        f" {html.escape(display_date(link.recommendation.date))} report:</span>"
        f" “{html.escape(link.recommendation.text)}”"
        f'<span class="qa-where">{html.escape(link.recommendation.citation)}</span></div>'
        for label, links in (("Raised before in", entry.earlier), ("Listed again in", entry.later))
        for link in links
    ]
    if entry.evidence is not None:
        evidence = entry.evidence
        notes.append(
            f'<div class="qa-note"><span class="qa-note-label">Progress reported in the'
            f" {html.escape(display_date(evidence.date))} report:</span>"
            f"<blockquote>“{html.escape(evidence.text)}”"
            f'<span class="qa-where">{html.escape(evidence.citation)}</span></blockquote></div>'
        )
    return (
        f'<div class="qa-rec" data-status="{html.escape(entry.status, quote=True)}">'
        f'{status_badge(entry.status)}<span class="qa-rec-text">{html.escape(record.text)}</span>'
        f"{''.join(notes)}</div>"
    )


def show_recommendation(
    snapshot: Snapshot, searcher: Searcher, entry: TrackedRecommendation, key: str
) -> None:
    """One item in a bordered box, with buttons to read it and its progress in the source."""
    record = entry.recommendation
    with st.container(border=True, key=key):
        st.html(recommendation_html(entry))
        places = [("View in source", record.source, record.places[0])]
        if entry.evidence is not None:
            places.append(
                ("View the progress in source", entry.evidence.source, entry.evidence.place)
            )
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            for number, (label, source, place) in enumerate(places):
                hit = place_hit(snapshot, source, place)
                if hit is not None and st.button(
                    label, key=f"{key}-source-{number}", icon=":material/article:"
                ):
                    source_dialog(searcher, hit, "")
        st.code(record.citation, language=None, wrap_lines=True)


def recommendations_page(searcher: Searcher) -> None:
    """Each report's recommendations, oldest report first, with what became of each."""
    snapshot = searcher.snapshot
    with st.spinner("Finding the reports' recommendations and comparing them…"):
        tracked = snapshot_recommendations(snapshot, searcher.embedder)
    if not tracked:
        st.info("No report in the corpus lists recommendations or areas for improvement.")
        return
    st.caption(
        "The items each report asks to improve, quoted as printed. An item is **repeated** when "
        "a later report lists it again, **addressed** when a later report says progress was "
        "made, **new** when the latest report raises it first, and **not mentioned later** "
        "otherwise. Items are matched across reports by meaning, so check each in its source. "
        "This view covers every document; the sidebar narrows the search only."
    )
    counts = Counter(entry.status for entry in tracked)
    statuses = [status for status in STATUS_LABELS if counts[status]]
    chosen = st.pills(
        "Show",
        statuses,
        selection_mode="multi",
        default=statuses,
        format_func=lambda status: f"{STATUS_LABELS[status]} ({counts[status]})",
        key="statuses",
    )
    # Numbered before filtering, so a button keeps its key when the filter changes.
    shown = [(number, entry) for number, entry in enumerate(tracked) if entry.status in chosen]
    if not shown:
        st.info("Choose a status above to list its recommendations.")
    for _, numbered in groupby(shown, key=lambda pair: pair[1].recommendation.source):
        items = list(numbered)
        record = items[0][1].recommendation
        count = f"{len(items)} recommendation{'s' if len(items) != 1 else ''}"
        st.html(
            f'<div class="qa-group qa-rec-head"><span class="qa-title">{html.escape(record.title)}'
            f'</span><span class="qa-date">{html.escape(display_date(record.date))} · {count}'
            "</span></div>"
        )
        for number, entry in items:
            show_recommendation(snapshot, searcher, entry, f"rec-{number}")


# --- sidebar: filters ---------------------------------------------------------------------------


def sidebar(searcher: Searcher, settings: Settings) -> tuple[str, int, Filters, bool]:
    """Filters and display options; returns (mode, k, filters, show ranking)."""
    documents = searcher.snapshot.catalog
    st.sidebar.header("Narrow the search")
    ordered = sorted(documents, key=lambda s: (documents[s].date or "", documents[s].title))
    chosen = st.sidebar.multiselect(
        "Documents",
        ordered,
        format_func=lambda s: f"{documents[s].title} ({display_date(documents[s].date)})",
        placeholder="All documents",
        key="documents",
    )
    years = sorted(searcher.snapshot.years)
    year_from = year_to = None
    if len(years) > 1:
        low, high = st.sidebar.slider(
            "Years",
            min_value=years[0],
            max_value=years[-1],
            value=(years[0], years[-1]),
            key="years",
            help="Documents dated in these years; undated ones count only when the "
            "full range is selected.",
        )
        if (low, high) != (years[0], years[-1]):
            year_from, year_to = low, high
    k = st.sidebar.slider("Passages to show", 1, 20, value=min(settings.top_k, 20), key="k")
    mode = st.sidebar.radio(
        "Search by",
        list(Mode),
        format_func=MODE_LABELS.__getitem__,
        key="mode",
        help=MODE_HELP,
    )
    ranking = st.sidebar.toggle("Show how each passage was ranked", key="ranking")
    manifest = searcher.snapshot.manifest
    changes = index_state(searcher, settings)
    state = "up to date" if changes is not None and not changes.any else "out of date"
    st.sidebar.divider()
    st.sidebar.caption(
        plain(
            f"{len(documents)} documents · index built {format_built(manifest.created_at)}"
            f" · {state}. See Documents for details and to add a document."
        )
    )
    filters = Filters(
        sources=frozenset(chosen) if chosen else None, year_from=year_from, year_to=year_to
    )
    return str(mode), int(k), filters, bool(ranking)


# --- documents page -----------------------------------------------------------------------------


def format_size(size: int | None) -> str:
    if size is None:
        return "file missing"
    if size < 1_000_000:
        return f"{max(1, round(size / 1000))} KB"
    return f"{size / 1_000_000:.1f} MB"


def format_built(created_at: str | None) -> str:
    if not created_at:
        return "unknown"
    try:
        moment = datetime.fromisoformat(created_at)
    except ValueError:
        return created_at
    return f"{moment.day} {moment:%B %Y, %H:%M} {moment.tzname() or ''}".strip()


def index_state(searcher: Searcher, settings: Settings) -> CorpusChanges | None:
    """The corpus changes since the build, or None if the corpus folder cannot be read."""
    try:
        return _corpus_changes(repr(settings), searcher.snapshot.version, searcher)
    except OSError:
        return None


def upload_files(
    settings: Settings, searcher: Searcher, files: list[Any], replace: bool
) -> list[tuple[str, str]]:
    """Add uploaded files to the corpus; one (level, message) per file, level success|error|info.

    Called by the upload form. Each file is validated before anything is written,
    so a bad file is reported and changes nothing; good files are indexed
    incrementally and the shared searcher moves to the new index version.
    """
    messages: list[tuple[str, str]] = []

    def embedder() -> Embedder:
        with st.spinner("Loading the embedding model…"):
            return load_embedder(settings.model, settings.batch_size)

    for file in files:
        name, data = file.name, file.getvalue()
        try:
            with build_slot():
                result = save_upload(
                    settings, name, data, embedder, overwrite=replace, progress=StreamlitProgress
                )
            messages.append(("success" if result.report else "info", result.message))
        except UploadExists as error:
            messages.append(
                (
                    "error",
                    f"{error}. Tick “Replace documents with the same name” "
                    "and add it again to replace it.",
                )
            )
        except UploadError as error:
            messages.append(("error", str(error)))
        except (ModelError, IndexProblem, OSError) as error:
            messages.append(("error", f"{name} could not be indexed: {error}"))
    searcher.refresh()
    _corpus_changes.clear()
    return messages


def documents_page(searcher: Searcher, settings: Settings) -> None:
    """What the index holds, whether it is current, and the upload form."""
    manifest = searcher.snapshot.manifest
    model = manifest.spec.model
    model = "all-MiniLM-L6-v2 (bundled)" if model == BUNDLED_MODEL else model
    st.subheader("Index")
    st.markdown(
        plain(
            f"{manifest.documents} documents, {manifest.chunks} passages · built "
            f"{format_built(manifest.created_at)} · embedding model {model}"
        )
    )
    changes = index_state(searcher, settings)
    if changes is None:
        st.warning(plain(f"The corpus folder {settings.corpus} cannot be read."))
    elif changes.any:
        st.warning(plain(f"Out of date: the corpus folder changed ({changes.describe()})."))
    else:
        st.success("Up to date with the corpus folder.", icon=":material/check_circle:")

    st.subheader("Documents")
    rows = [
        {
            "Title": info.title,
            "Date": display_date(info.date),
            "Size": format_size(info.size_bytes),
            "Passages": info.chunks,
            "File": info.source,
        }
        for info in list_documents(searcher.snapshot, settings.corpus)
    ]
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        key="document-list",
        column_config={
            "Title": st.column_config.TextColumn(width=340),
            "Date": st.column_config.TextColumn(width=120),
            "Size": st.column_config.TextColumn(width=65),
            "Passages": st.column_config.NumberColumn(width=75),
            "File": st.column_config.TextColumn(),
        },
    )
    skipped = skipped_documents(searcher.snapshot)
    if skipped:
        st.caption("Files in the corpus folder that could not be read:")
        st.dataframe([{"File": s, "Reason": r} for s, r in skipped.items()], hide_index=True)

    st.subheader("Add a document")
    for level, message in st.session_state.pop("upload_messages", []):
        getattr(st, level)(plain(message))
    generation = st.session_state.setdefault("upload_generation", 0)
    with st.form("upload", border=True):
        files = st.file_uploader(
            "Report, letter or minutes",
            type=[suffix.lstrip(".") for suffix in SUFFIXES],
            accept_multiple_files=True,
            key=f"upload-{generation}",
            max_upload_size=max(1, round(settings.max_file_mb)),
            help=f"Up to {settings.max_file_mb:g} MB each. The file is checked before it is added.",
        )
        replace = st.checkbox("Replace documents with the same name", key="replace")
        submitted = st.form_submit_button(
            "Add to the corpus", type="primary", icon=":material/upload_file:"
        )
    if submitted:
        if not files:
            st.session_state["upload_messages"] = [("warning", "Choose a file to add first.")]
        else:
            st.session_state["upload_messages"] = upload_files(settings, searcher, files, replace)
            st.session_state["upload_generation"] = generation + 1
        st.rerun()


def stale_banner(searcher: Searcher, settings: Settings) -> None:
    """A warning with an update button when the corpus changed since the index was built."""
    changes = index_state(searcher, settings)
    if changes is None or not changes.any:
        return
    text, button = st.columns([5, 1], vertical_alignment="center")
    with text:
        st.warning(
            plain(
                f"The document folder changed since the index was built ({changes.describe()}). "
                "Results do not include these changes until the index is updated."
            ),
            icon=":material/sync_problem:",
        )
    with button:
        if st.button("Update the index", key="update-index", width="stretch"):
            st.session_state["flash"] = run_build(settings, "Updating the index…")
            searcher.refresh()
            _corpus_changes.clear()
            st.rerun()


# --- page ---------------------------------------------------------------------------------------


def show_problem(settings: Settings | None, problem: Exception) -> None:
    """A readable message for a problem that stops the page, with the fix where there is one."""
    if isinstance(problem, SettingsError):
        st.error(plain(f"A setting is wrong: {problem}"), icon=":material/settings:")
    elif isinstance(problem, ModelError):
        st.error(
            plain(f"The embedding model could not be loaded: {problem}"), icon=":material/error:"
        )
    elif isinstance(problem, FileNotFoundError):
        st.error(
            plain(f"The documents could not be found: {problem}"), icon=":material/folder_off:"
        )
    elif isinstance(problem, IndexProblem) and settings is not None:
        st.error(plain(f"The search index cannot be used: {problem}"), icon=":material/error:")
        if not isinstance(problem, IndexMissing) and st.button("Rebuild the index", type="primary"):
            outcome = run_build(settings, "Rebuilding the index from scratch…", rebuild=True)
            st.session_state["flash"] = outcome
            _open_searcher.clear()
            st.rerun()
    else:
        log.exception("unexpected error in the app")
        st.error(
            plain(
                f"Something went wrong ({type(problem).__name__}: {problem}). "
                "The details are in the server log."
            ),
            icon=":material/error:",
        )


def main() -> None:
    st.set_page_config(
        page_title="Ofsted reports: find the evidence", page_icon="📑", layout="wide"
    )
    st.html(CSS)
    st.title(APP_TITLE, anchor=False)
    st.caption(APP_SUBTITLE)
    if flash := st.session_state.pop("flash", None):
        st.success(plain(flash), icon=":material/check_circle:")
    settings: Settings | None = None
    try:
        settings = load_settings()
        searcher = get_searcher(settings)
        mode, k, filters, ranking = sidebar(searcher, settings)
        stale_banner(searcher, settings)
        titles = {s: d.title for s, d in searcher.snapshot.catalog.items()}
        # Bound to the address, so only the open tab runs (recommendations take seconds).
        search_tab, recommendations_tab, documents_tab = st.tabs(
            ["Search", "Recommendations", "Documents"], key="view", bind="query-params"
        )
        if search_tab.open:
            with search_tab:
                search_page(searcher, mode, k, filters, ranking, titles)
        if recommendations_tab.open:
            with recommendations_tab:
                recommendations_page(searcher)
        if documents_tab.open:
            with documents_tab:
                documents_page(searcher, settings)
    except (SettingsError, ModelError, IndexProblem, FileNotFoundError) as problem:
        show_problem(settings, problem)
    except Exception as problem:  # anything else: a message, never a stack trace on the page
        show_problem(settings, problem)


main()
