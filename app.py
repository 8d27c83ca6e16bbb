"""The qa web app: ask a question of the reports and get ranked passages cited to their source.

Run it with ``streamlit run app.py``. This file holds widgets and layout only:
searching, indexing, uploads and formatting live in the ``qa`` package. Every
piece of document text or question that reaches HTML goes through
``html.escape`` (via :mod:`qa.output`), and only tags added here are markup.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import streamlit as st

from qa.corpus import SUFFIXES
from qa.dense import Embedder, ModelError, load_embedder
from qa.indexer import CorpusChanges, build_index
from qa.output import (
    answer_csv,
    answer_markdown,
    display_date,
    escape_markdown,
    highlight_spans,
    marked_html,
    readable_citation,
    source_html,
)
from qa.search import MODES, Filters, Searcher
from qa.settings import BUNDLED_MODEL, Settings, SettingsError, load_settings
from qa.store import IndexMissing, IndexProblem, IndexStore
from qa.types import Answer, Hit
from qa.uploads import UploadError, UploadExists, list_documents, save_upload, skipped_documents

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
NOTHING_RELEVANT = "The documents don't seem to answer this question"
WEAK_MATCHES = "Closest passages (weak matches)"
SOURCE_HEIGHT = 560

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
.qa-cite .qa-where { display: block; font-size: 0.86rem; margin-top: 0.1rem; color: #5c6675; }
.qa-passage {
  border: 1px solid #d6dbe3; border-left: 4px solid #1d4e89; border-radius: 0.5rem;
  padding: 0.7rem 0.95rem; background: #fff; color: #1f2328; line-height: 1.6;
  white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.98rem;
}
.qa-passage mark, .qa-cite mark { background: #ffe28a; color: inherit; padding: 0 0.08em;
  border-radius: 0.15rem; }
.qa-ranking { font-size: 0.85rem; color: #5c6675; }
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


def get_searcher(settings: Settings) -> Searcher:
    """The shared Searcher, building the index first if there is none yet."""
    if IndexStore(settings.index).current() is None:
        with build_slot():
            missing = IndexStore(settings.index).current() is None
        if missing:
            run_build(settings, "Building the search index for the first time…")
    searcher = _open_searcher(repr(settings), settings)
    searcher.refresh()  # another session, or `qa index`, may have made a new version
    return searcher


# --- search page --------------------------------------------------------------------------------


def citation_html(hit: Hit) -> str:
    """The citation line: rank, title in small capitals, then date, section and paragraph."""
    where = [display_date(hit.date)]
    if hit.chunk.section:
        where.append(hit.chunk.section)
    if hit.chunk.paragraph:
        where.append(f"para {hit.chunk.paragraph}")
    return (
        f'<div class="qa-cite"><span class="qa-rank">{hit.rank}</span>'
        f'<span class="qa-title">{html.escape(hit.title)}</span>'
        f'<span class="qa-where">{" · ".join(html.escape(part) for part in where)}</span></div>'
    )


def hit_html(hit: Hit, question: str) -> str:
    """Citation line above a bordered passage; all text escaped, <mark> around question words."""
    text = hit.chunk.text.strip()
    return (
        f'<div class="qa-hit" data-source="{html.escape(hit.chunk.source, quote=True)}"'
        f' data-rank="{hit.rank}">{citation_html(hit)}'
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


def show_hits(
    searcher: Searcher, hits: tuple[Hit, ...], question: str, mode: str, ranking: bool, group: str
) -> None:
    """The ranked passages, each with its citation, source button and copyable citation."""
    for hit in hits:
        with st.container(key=f"hit-{group}-{hit.rank}"):
            st.html(hit_html(hit, question))
            if ranking:
                st.caption(ranking_text(hit, mode))
            left, right = st.columns([1, 3], vertical_alignment="center")
            with left:
                if st.button(
                    "View in source",
                    key=f"source-{group}-{hit.rank}",
                    icon=":material/article:",
                    width="stretch",
                ):
                    source_dialog(searcher, hit, question)
            with right:
                st.code(readable_citation(hit), language=None, wrap_lines=True)
        st.space("small")


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
            f"**{NOTHING_RELEVANT}.** No passage is close in meaning to the question "
            f"(best similarity {similarity:.2f}). Try other words, or check that the "
            "question is about the documents listed under *Documents*.",
            icon=":material/help:",
        )
        with st.expander(WEAK_MATCHES, expanded=False):
            show_hits(searcher, answer.hits, question, mode, ranking, "weak")
        return
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


# --- sidebar: filters ---------------------------------------------------------------------------


def sidebar(searcher: Searcher, settings: Settings) -> tuple[str, int, Filters, bool]:
    """Filters and display options; returns (mode, k, filters, show ranking)."""
    documents = searcher.snapshot.documents
    st.sidebar.header("Narrow the search")
    ordered = sorted(documents, key=lambda s: (documents[s].date or "", documents[s].title))
    chosen = st.sidebar.multiselect(
        "Documents",
        ordered,
        format_func=lambda s: f"{documents[s].title} ({display_date(documents[s].date)})",
        placeholder="All documents",
        key="documents",
    )
    years = sorted({d.year for d in documents.values() if d.year is not None})
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
        MODES,
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
            f"{len(documents)} documents · index built {format_built(manifest.get('created_at'))}"
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
    model = manifest.get("model", {}).get("name", "?")
    model = "all-MiniLM-L6-v2 (bundled)" if model == BUNDLED_MODEL else model
    counts = manifest.get("counts", {})
    st.subheader("Index")
    st.markdown(
        plain(
            f"{counts.get('documents', 0)} documents, {counts.get('chunks', 0)} passages · built "
            f"{format_built(manifest.get('created_at'))} · embedding model {model}"
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
        titles = {s: d.title for s, d in searcher.snapshot.documents.items()}
        search_tab, documents_tab = st.tabs(["Search", "Documents"])
        with search_tab:
            search_page(searcher, mode, k, filters, ranking, titles)
        with documents_tab:
            documents_page(searcher, settings)
    except (SettingsError, ModelError, IndexProblem, FileNotFoundError) as problem:
        show_problem(settings, problem)
    except Exception as problem:  # anything else: a message, never a stack trace on the page
        show_problem(settings, problem)


main()
