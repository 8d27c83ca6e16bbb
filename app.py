"""The qa web app: ask a question of the reports and get ranked passages cited to their source.

Run it with ``streamlit run app.py``. This file is the frame every page shares: page
settings, style, the index, the sidebar's filters and the navigation between the pages of
:mod:`qa.app` (Search, Recommendations, Judgements, Documents). The HTML the pages show comes
from :mod:`qa.render.html`, where every piece of document text is escaped. The question and
every choice of the sidebar are kept in the address, so a copied link opens the same results.
"""

from __future__ import annotations

import streamlit as st

from qa.app import PAGES, STYLE
from qa.app.components import (
    MODE_LABELS,
    Frame,
    SearchOptions,
    corpus_changes,
    format_built,
    open_searcher,
    plain,
    share_frame,
    show_problem,
    stale_banner,
)
from qa.search import Searcher
from qa.settings import Settings, load_settings
from qa.types import Filters, Mode, display_date

APP_TITLE = "Ofsted reports: find the evidence"
APP_SUBTITLE = (
    "Ask a question about children's services and their Ofsted inspections. You get the "
    "passages of the reports that answer it, each cited to its document, date, section, "
    "paragraph and page, so you can check every line against the source."
)
MODE_HELP = (
    "Words: passages containing the question's words (BM25). Meaning: passages close in meaning "
    "even with other words (sentence embeddings). The recommended mode combines both rankings."
)
NAVIGATION = (
    ("search.py", "Search"),
    ("recommendations.py", "Recommendations"),
    ("judgements.py", "Judgements"),
    ("documents.py", "Documents"),
)


def sidebar(searcher: Searcher, settings: Settings) -> SearchOptions:
    """Filters and display options, each kept in the address (``bind``) for a shared link."""
    documents = searcher.snapshot.catalog
    st.sidebar.header("Narrow the search")
    organisations = sorted(searcher.snapshot.organisations)
    bodies: list[str] = []
    if len(organisations) > 1:
        bodies = st.sidebar.multiselect(
            "Organisations",
            organisations,
            placeholder="All organisations",
            key="organisations",
            bind="query-params",
            help="The councils or other bodies the documents are about, as they name them.",
        )
    ordered = sorted(documents, key=lambda s: (documents[s].date or "", documents[s].title))
    chosen = st.sidebar.multiselect(
        "Documents",
        ordered,
        format_func=lambda s: f"{documents[s].title} ({display_date(documents[s].date)})",
        placeholder="All documents",
        key="documents",
        bind="query-params",
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
            bind="query-params",
            help="Documents dated in these years; undated ones count only when the "
            "full range is selected.",
        )
        if (low, high) != (years[0], years[-1]):
            year_from, year_to = low, high
    k = st.sidebar.slider(
        "Passages to show", 1, 20, value=min(settings.top_k, 20), key="k", bind="query-params"
    )
    mode = st.sidebar.radio(
        "Search by",
        list(Mode),
        format_func=MODE_LABELS.__getitem__,
        key="mode",
        bind="query-params",
        help=MODE_HELP,
    )
    ranking = st.sidebar.toggle(
        "Show how each passage was ranked", key="ranking", bind="query-params"
    )
    changes = corpus_changes(searcher)
    state = "up to date" if changes is not None and not changes.any else "out of date"
    st.sidebar.divider()
    st.sidebar.caption(
        plain(
            f"{len(documents)} documents · index built"
            f" {format_built(searcher.snapshot.manifest.created_at)} · {state}."
            " See Documents for details and to add a document."
        )
    )
    filters = Filters(
        sources=frozenset(chosen) if chosen else None,
        year_from=year_from,
        year_to=year_to,
        organisations=frozenset(bodies) if bodies else None,
    )
    return SearchOptions(mode or Mode.HYBRID, int(k), filters, bool(ranking))


def main() -> None:
    st.set_page_config(page_title=APP_TITLE, page_icon="📑", layout="wide")
    st.html(STYLE)
    st.title(APP_TITLE, anchor=False)
    st.caption(APP_SUBTITLE)
    if flash := st.session_state.pop("flash", None):
        st.success(plain(flash), icon=":material/check_circle:")
    settings: Settings | None = None
    try:
        settings = load_settings()
        searcher = open_searcher(settings)
        share_frame(Frame(settings, searcher, sidebar(searcher, settings)))
        stale_banner(searcher)
        pages = [
            st.Page(PAGES / name, title=title, default=number == 0)
            for number, (name, title) in enumerate(NAVIGATION)
        ]
        # Links in the page rather than Streamlit's menu, which a phone folds into the sidebar.
        current = st.navigation(pages, position="hidden")
        with st.container(horizontal=True, gap="small", key="pages"):
            for page in pages:
                st.page_link(page)
        current.run()
    except Exception as problem:  # a readable message, never a stack trace on the page
        show_problem(settings, problem)


main()
