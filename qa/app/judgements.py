"""The Judgements page: the grades inspections gave, per organisation and aspect, across
documents and dates, each statement cited and openable in its source.

A page script: Streamlit runs it (``st.Page``) after the frame in ``app.py``. The records
come from the searcher's judgement stage (:mod:`qa.features.judgements`), computed once per
index version; the sidebar's organisation choice narrows them.
"""

from __future__ import annotations

from itertools import groupby

import streamlit as st

from qa.app.components import Frame, shared_frame
from qa.app.source import source_dialog
from qa.citation import cite
from qa.features.judgements.extract import Judgement
from qa.features.judgements.timeline import Row
from qa.render.charts import chart_description, grade_chart
from qa.render.html import (
    aspect_html,
    judgement_html,
    judgements_table_html,
    statement_citation_html,
)
from qa.render.html import organisation_heading_html as heading_html
from qa.search import Searcher

EXPLANATION = (
    "The grades inspections gave, as the documents state them (in a judgement table, a "
    "heading or a sentence), per organisation and aspect, oldest first. An aspect worded "
    "differently by different frameworks is matched by meaning: check each grade in its "
    "source. The sidebar's organisation choice narrows this page."
)


def show_row(searcher: Searcher, row: Row, anchor: str, key: str) -> None:
    """An aspect in a bordered box: its name and chart, then each inspection's grade and
    quoted statement with every document stating it, each with a button to read it there."""
    chart = grade_chart(row)
    with st.container(border=True, key=key):
        if chart is None:
            st.html(aspect_html(row, anchor))
        else:
            heading, graph = st.columns([3, 2], gap="medium")
            with heading:
                st.html(aspect_html(row, anchor))
            with graph:
                st.vega_lite_chart(spec=chart, width="stretch", alt=chart_description(row))
        for number, entry in enumerate(row.entries):
            best, _ = entry.best
            statements = [best, *(j for j in entry.judgements if j is not best)]
            place = cite(best).places()[0]
            quoted = searcher.snapshot.documents[best.source].text[place.start : place.end]
            st.html(judgement_html(entry, quoted))
            for other, judgement in enumerate(statements):
                show_statement(searcher, judgement, f"{key}-{number}-{other}")


def show_statement(searcher: Searcher, judgement: Judgement, key: str) -> None:
    """Where a document states a grade, in full, with a button to read it in the source."""
    citation = cite(judgement)
    where, button = st.columns([4, 1], gap="small", vertical_alignment="center")
    with where:
        st.html(statement_citation_html(citation))
    with button:
        clicked = st.button(
            "View in source",
            key=key,
            type="tertiary",
            icon=":material/article:",
            help="Read this statement in its document, highlighted",
        )
    if clicked:
        first = citation.places()[0]
        document = searcher.snapshot.documents[judgement.source]
        source_dialog(searcher, first, document.text[first.start : first.end], "")


def judgements_page(frame: Frame) -> None:
    """Per organisation: the table of grades, then each aspect's statements and chart."""
    searcher = frame.searcher
    with st.spinner("Reading the grades the documents state…"):
        rows = searcher.judgements.rows(searcher.snapshot)
    wanted = frame.options.filters.organisations
    # Numbered before filtering, so a button keeps its key when the filter changes.
    shown = [(n, row) for n, row in enumerate(rows) if wanted is None or row.organisation in wanted]
    if not shown:
        st.info(
            "No document in the corpus states a grade (Outstanding, Good, Requires improvement "
            "to be good or Inadequate)"
            + (" for the organisations chosen in the sidebar." if wanted else "."),
            icon=":material/grading:",
        )
        return
    st.caption(EXPLANATION)
    for _, numbered in groupby(shown, key=lambda pair: pair[1].organisation):
        group = list(numbered)
        anchors = [f"aspect-{number}" for number, _ in group]
        organisation_rows = [row for _, row in group]
        st.html(heading_html(organisation_rows[0].organisation, organisation_rows))
        st.html(judgements_table_html(organisation_rows, anchors))
        for (number, row), anchor in zip(group, anchors, strict=True):
            show_row(searcher, row, anchor, f"judgement-{number}")


if __name__ == "__main__":
    judgements_page(shared_frame())
