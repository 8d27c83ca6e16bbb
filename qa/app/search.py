"""The Search page: the question box, then the quoted answer and the cited passages.

A page script: Streamlit runs it (``st.Page``) after the frame in ``app.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from qa.app.components import MODE_LABELS, Frame, plain, shared_frame
from qa.app.source import source_dialog
from qa.citation import cite
from qa.pipeline.answer import LOW_CONFIDENCE_MESSAGE
from qa.render.export import answer_csv, answer_markdown
from qa.render.html import answer_html, group_html, hit_html, results_summary_html
from qa.search import Searcher
from qa.types import Answer, Filters, Hit, Mode

EXAMPLES = (
    "Which recommendations from the 2020 inspection remained in 2024?",
    "How were homeless 16 and 17 year olds supported in 2024?",
    "What did Ofsted say about social workers' caseloads?",
    "How has the experience of care leavers changed since 2017?",
)
SCORE_LABELS = {Mode.HYBRID: "fused score", Mode.LEXICAL: "BM25 score", Mode.DENSE: "similarity"}
WEAK_MATCHES = "Closest passages (weak matches: they do not answer the question)"
COMPARISON_COLUMNS = 3


def ranking_text(hit: Hit, mode: Mode) -> str:
    """How the passage was ranked, in words: the score and each retriever's rank."""

    def rank(value: int | None) -> str:
        return f"#{value}" if value is not None else "not ranked"

    parts = [f"{SCORE_LABELS[mode]} {hit.score:.4f}"]
    if mode != Mode.DENSE:
        parts.append(f"word match (BM25) {rank(hit.lexical_rank)}")
    if mode != Mode.LEXICAL:
        parts.append(f"meaning match (embeddings) {rank(hit.dense_rank)}")
    return "Ranking: " + " · ".join(parts)


def describe_search(mode: Mode, filters: Filters, titles: dict[str, str]) -> str:
    """One line saying how the results were searched, for the page and the exports."""
    parts = [MODE_LABELS[mode].replace(" (recommended)", "")]
    if filters.organisations is not None:
        parts.append("organisations: " + "; ".join(sorted(filters.organisations)))
    if filters.sources is not None:
        names = sorted(titles.get(s, s) for s in filters.sources)
        parts.append("documents: " + "; ".join(names))
    if filters.year_from is not None or filters.year_to is not None:
        parts.append(f"years {filters.year_from}–{filters.year_to}")
    return "Searched by " + " · ".join(parts)


def source_button(searcher: Searcher, hit: Hit, question: str, key: str) -> None:
    """A button opening ``hit`` in its whole document."""
    if st.button("View in source", key=key, icon=":material/article:", width="stretch"):
        source_dialog(searcher, cite(hit), hit.chunk.text, question)


def show_duplicates(searcher: Searcher, hit: Hit, question: str, key: str) -> None:
    """The other places of the document repeating this passage, each openable in its source."""
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key=key):
        st.caption("Also in this document:", width="content")
        for number, duplicate in enumerate(hit.duplicates):
            citation = cite(duplicate)
            if st.button(
                plain(", ".join(citation.where) or f"characters {citation.start}"),
                key=f"{key}-{number}",
                type="tertiary",
                icon=":material/article:",
                help="View this place in the source",
            ):
                source_dialog(searcher, citation, duplicate.chunk.text, question)


def show_hits(
    frame: Frame, hits: Sequence[Hit], question: str, group: str, narrow: bool = False
) -> None:
    """The passages, each with its citation, source button and copyable citation.

    ``narrow`` (a comparison column) stacks the button above the citation, which
    would be squeezed side by side.
    """
    searcher, options = frame.searcher, frame.options
    for hit in hits:
        key = f"{group}-{hit.rank}"
        with st.container(key=f"hit-{key}"):
            st.html(hit_html(hit, question, title=not narrow))
            if options.ranking:
                st.caption(ranking_text(hit, options.mode))
            if hit.duplicates:
                show_duplicates(searcher, hit, question, f"also-{key}")
            if narrow:
                source_button(searcher, hit, question, f"source-{key}")
                st.code(cite(hit).line(), language=None, wrap_lines=True)
            else:
                left, right = st.columns([1, 3], vertical_alignment="center")
                with left:
                    source_button(searcher, hit, question, f"source-{key}")
                with right:
                    st.code(cite(hit).line(), language=None, wrap_lines=True)
        st.space("small")


def show_comparison(frame: Frame, answer: Answer) -> None:
    """The passages side by side, one column per document, oldest first, in rows of three."""
    groups = [(group, hits) for group, hits in answer.hits_by_document() if hits]
    width = min(COMPARISON_COLUMNS, len(groups))
    for first in range(0, len(groups), width):
        columns = st.columns(width, gap="medium")
        for column, (group, hits) in zip(columns, groups[first : first + width], strict=False):
            with column:
                st.html(group_html(group, len(hits)))
                show_hits(frame, hits, answer.question, "side", narrow=width > 1)


def show_downloads(answer: Answer, searched: str) -> None:
    """The results line, with the answer to download as Markdown or CSV."""
    slug = "-".join(answer.question.lower().split()[:6])
    slug = "".join(ch for ch in slug if ch.isalnum() or ch == "-")[:60] or "results"
    milliseconds = sum(answer.timings.values()) * 1000
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.html(results_summary_html(len(answer.hits), searched, milliseconds))
        for label, data, suffix, mime in (
            ("Markdown", answer_markdown(answer, searched), "md", "text/markdown"),
            ("CSV", answer_csv(answer), "csv", "text/csv"),
        ):
            st.download_button(
                label,
                data,
                file_name=f"{slug}.{suffix}",
                mime=mime,
                icon=":material/download:",
                on_click="ignore",
            )


def show_answer(frame: Frame, answer: Answer) -> None:
    """Results header with downloads, then the passages or the 'nothing relevant' message."""
    if not answer.hits:
        st.info(
            "No passage matches this question with the current filters. Try other words, "
            "widen the filters in the sidebar, or switch the search to *Words and meaning*.",
            icon=":material/search_off:",
        )
        return
    titles = {s: d.title for s, d in frame.searcher.snapshot.catalog.items()}
    show_downloads(answer, describe_search(frame.options.mode, frame.options.filters, titles))
    if answer.low_confidence:
        similarity = answer.best_similarity or 0.0
        st.warning(
            f"**{plain(LOW_CONFIDENCE_MESSAGE)}** No passage is close in meaning to the question "
            f"(best similarity {similarity:.2f}). Try other words, or check that the "
            "question is about the documents listed under *Documents*.",
            icon=":material/help:",
        )
        with st.expander(WEAK_MATCHES, expanded=False):
            show_hits(frame, answer.hits, answer.question, "weak")
        return
    if answer.statement or answer.sentences:
        st.html(answer_html(answer))
    for note in answer.missing:
        st.info(plain(note), icon=":material/event_busy:")
    if answer.comparison:
        show_comparison(frame, answer)
    else:
        show_hits(frame, answer.hits, answer.question, "main")


def ask_example(question: str) -> None:
    st.session_state["q"] = question


def search_page(frame: Frame) -> None:
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
    options = frame.options
    answer = frame.searcher.search(
        question, k=options.k, mode=options.mode, filters=options.filters
    )
    show_answer(frame, answer)


if __name__ == "__main__":
    search_page(shared_frame())
