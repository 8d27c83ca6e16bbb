"""The Recommendations page: each report's recommendations, oldest report first, with what
became of each in later reports.

A page script: Streamlit runs it (``st.Page``) after the frame in ``app.py``.
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby

import streamlit as st

from qa.app.components import shared_frame
from qa.app.source import source_dialog
from qa.citation import cite
from qa.features.recommendations import TrackedRecommendation, snapshot_recommendations
from qa.render.html import STATUS_LABELS, recommendation_html, report_heading_html
from qa.search import Searcher

EXPLANATION = (
    "The items each report asks to improve, quoted as printed. An item is **repeated** when "
    "a later report lists it again, **addressed** when a later report says progress was "
    "made, **new** when the latest report raises it first, and **not mentioned later** "
    "otherwise. Items are matched across reports by meaning, so check each in its source. "
    "This view covers every document; the sidebar narrows the search only."
)


def show_recommendation(searcher: Searcher, entry: TrackedRecommendation, key: str) -> None:
    """One item in a bordered box, with buttons to read it and its progress in the source."""
    record = entry.recommendation
    citation = cite(record)
    with st.container(border=True, key=key):
        st.html(recommendation_html(entry))
        places = [("View in source", citation.places()[0], record.text)]
        if entry.evidence is not None:
            evidence = entry.evidence
            places.append(("View the progress in source", cite(evidence), evidence.text))
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            for number, (label, place, quoted) in enumerate(places):
                if st.button(label, key=f"{key}-source-{number}", icon=":material/article:"):
                    source_dialog(searcher, place, quoted, "")
        st.code(citation.line(), language=None, wrap_lines=True)


def recommendations_page(searcher: Searcher) -> None:
    """Each report's recommendations, oldest report first, filtered by status."""
    with st.spinner("Finding the reports' recommendations and comparing them…"):
        tracked = snapshot_recommendations(searcher.snapshot, searcher.embedder)
    if not tracked:
        st.info("No report in the corpus lists recommendations or areas for improvement.")
        return
    st.caption(EXPLANATION)
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
        st.html(report_heading_html(items[0][1].recommendation, len(items)))
        for number, entry in items:
            show_recommendation(searcher, entry, f"rec-{number}")


if __name__ == "__main__":
    recommendations_page(shared_frame().searcher)
