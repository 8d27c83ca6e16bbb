"""What the app's frame and pages share: the index, builds with progress, readable errors.

The frame (``app.py``) opens the index and reads the sidebar, then hands the result to
the page being shown with :func:`share_frame`; a page reads it with :func:`shared_frame`.
Everything shown as HTML comes from :mod:`qa.render.html`, which escapes all document text.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import streamlit as st

from qa.index import lifecycle
from qa.index.build import CorpusChanges
from qa.index.embedders import ModelError, load_query_embedder
from qa.index.problems import IndexProblem
from qa.render.export import escape_markdown
from qa.search import Searcher
from qa.settings import Settings, SettingsError
from qa.types import Filters, Mode

log = logging.getLogger("qa.app")

MODE_LABELS = {
    Mode.HYBRID: "Words and meaning (recommended)",
    Mode.LEXICAL: "Exact words only",
    Mode.DENSE: "Meaning only",
}
# The app builds these without asking, as the page cannot work otherwise and nothing this version
# could use is lost. An index built with other settings (perhaps on purpose, by someone else) or
# damaged waits for the user's click on "Rebuild the index"; a stale one still answers.
BUILT_ON_OPENING = {
    lifecycle.IndexState.MISSING: "Building the search index for the first time…",
    lifecycle.IndexState.OUTDATED: "Rebuilding the search index: another version of qa wrote it…",
}
_FRAME = "qa-frame"


@dataclass(frozen=True)
class SearchOptions:
    """The sidebar's choices: how to search and what to show."""

    mode: Mode
    k: int
    filters: Filters
    ranking: bool


@dataclass(frozen=True)
class Frame:
    """What every page gets from the frame: the settings, the open searcher, the sidebar."""

    settings: Settings
    searcher: Searcher
    options: SearchOptions


def share_frame(frame: Frame) -> None:
    """Hand this run's frame to the page that runs next (pages are scripts without arguments)."""
    st.session_state[_FRAME] = frame


def shared_frame() -> Frame:
    frame: Frame = st.session_state[_FRAME]
    return frame


def plain(text: str) -> str:
    """Text for st.error/st.success, which read Markdown: file names and reasons stay literal."""
    return escape_markdown(text).replace("$", "\\$")


def format_built(created_at: str | None) -> str:
    """When the index was built, as people write it ("4 December 2024, 10:15 UTC")."""
    if not created_at:
        return "unknown"
    try:
        moment = datetime.fromisoformat(created_at)
    except ValueError:
        return created_at
    return f"{moment.day} {moment:%B %Y, %H:%M} {moment.tzname() or ''}".strip()


# --- the index: one per server process, built by one session at a time -------------------------


@st.cache_resource
def _build_lock() -> threading.Lock:
    """One index build at a time per process: two sessions must not build the same index."""
    return threading.Lock()


@st.cache_resource(show_spinner="Loading the search index…")
def _open_searcher(key: str, _settings: Settings) -> Searcher:
    """The Searcher for one settings combination, shared by every session of this server.

    An index that cannot answer raises :class:`lifecycle.IndexNotReady`, which is not cached.
    """
    embedder = load_query_embedder(_settings.model, _settings.index, _settings.batch_size)
    found = lifecycle.status(_settings, embedder, corpus=False)
    if found.snapshot is None:
        raise lifecycle.IndexNotReady(found)
    return Searcher(_settings, found.snapshot, embedder)


@st.cache_data(ttl=30, show_spinner=False)
def _corpus_changes(key: str, version: str, _searcher: Searcher) -> CorpusChanges:
    """Whether the corpus folder changed since the index was built; rechecked every 30 s."""
    return lifecycle.changes(_searcher.settings, _searcher.snapshot)


class StreamlitProgress:
    """The ``progress(total, description)`` object a build expects, drawn as st.progress."""

    def __init__(self, total: int, description: str, unit: str = "passage") -> None:
        self.total = max(total, 1)
        self.done = 0
        self.description = description
        self.units = f"{unit}s"
        self.bar = st.progress(0.0, text=f"{description} {total} {self.units}…")

    def update(self, n: int) -> None:
        self.done += n
        self.bar.progress(
            min(self.done / self.total, 1.0),
            text=f"{self.description} {self.units}: {self.done} of {self.total}",
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


def run_build(settings: Settings, label: str) -> str:
    """Make the index ready (:func:`lifecycle.ensure`) with a visible status and progress bar;
    return the outcome. Another session may have done it meanwhile: then nothing is built."""

    def announce(found: lifecycle.IndexStatus) -> None:
        st.write(
            plain(f"{found.reason[:1].upper()}{found.reason[1:]}.")
            + " Loading the embedding model (about 10 seconds the first time), then reading"
            " and embedding the documents…"
        )

    with build_slot(), st.status(label, expanded=True) as status:
        try:
            embedder = load_query_embedder(settings.model, settings.index, settings.batch_size)
            ready = lifecycle.ensure(
                settings, embedder, progress=StreamlitProgress, announce=announce
            )
        except Exception:
            status.update(label="The index could not be built", state="error", expanded=False)
            raise
        for error in ready.report.errors if ready.report else ():
            st.warning(plain(f"Skipped {error}"))
        snapshot = ready.snapshot
        outcome = f"Index ready: {len(snapshot.catalog)} documents, {len(snapshot.chunks)} passages"
        status.update(label=outcome, state="complete", expanded=False)
    return outcome


def open_searcher(settings: Settings) -> Searcher:
    """The shared Searcher, building the index first if there is none, or none it can read."""
    key = repr(settings)
    try:
        searcher = _open_searcher(key, settings)
    except lifecycle.IndexNotReady as problem:
        if problem.status.state not in BUILT_ON_OPENING:
            raise
        run_build(settings, BUILT_ON_OPENING[problem.status.state])
        searcher = _open_searcher(key, settings)
    searcher.refresh()  # another session, or `qa index`, may have made a new version
    return searcher


def corpus_changes(searcher: Searcher) -> CorpusChanges | None:
    """The corpus changes since the build, or None if the corpus folder cannot be read."""
    try:
        return _corpus_changes(repr(searcher.settings), searcher.snapshot.version, searcher)
    except OSError:
        return None


def forget_corpus_changes() -> None:
    """Drop the remembered corpus changes after the index or the corpus changed."""
    _corpus_changes.clear()


def stale_banner(searcher: Searcher) -> None:
    """A warning with an update button when the corpus changed since the index was built."""
    changes = corpus_changes(searcher)
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
            st.session_state["flash"] = run_build(searcher.settings, "Updating the index…")
            searcher.refresh()
            forget_corpus_changes()
            st.rerun()


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
        missing = lifecycle.state_of(problem) is lifecycle.IndexState.MISSING
        if not missing and st.button("Rebuild the index", type="primary"):
            st.session_state["flash"] = run_build(settings, "Rebuilding the index from scratch…")
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
