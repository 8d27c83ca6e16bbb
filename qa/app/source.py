"""The source view: a cited passage in its whole document and, for a PDF, on its printed pages.

A reader checks a quoted line where it stands. Every document's text is shown whole with the
passage marked; a PDF's pages are also drawn (:func:`qa.corpus.pdf.render_page`) with the
passage highlighted, beside the text, because the page is what the reader holds and what a
citation's "p. 7" points to. Both views open scrolled to the passage.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from qa.app.components import corpus_changes, plain
from qa.citation import Citation
from qa.corpus.pdf import Box, passage_boxes, render_page
from qa.corpus.structure import DocumentError
from qa.render.html import citation_html
from qa.render.source import PageImage, pdf_page, source_page
from qa.search import Searcher
from qa.types import Document

SOURCE_HEIGHT = 560

# Pixels per PDF point: an A4 page is 1190 px wide, sharp in the dialog's page column (about
# 700 px) on a screen of two device pixels per CSS pixel. About 300 KB of PNG per page.
PAGE_SCALE = 2.0


def passage_top(boxes: Sequence[Box], page_height: float) -> float | None:
    """Where the highlighted passage starts on a page, as a fraction of its height from the top
    (PDF boxes count points up from the bottom); None when none of it is on the page."""
    if not boxes or page_height <= 0:
        return None
    return 1.0 - max(box.top for box in boxes) / page_height


@st.cache_data(max_entries=48, show_spinner=False)
def _page_image(path: str, modified: int, number: int, start: int, end: int) -> PageImage:
    """Page ``number`` of the PDF drawn with ``text[start:end]`` highlighted, kept for the
    next reader of the same passage (keyed on the file's modification time, so a replaced
    file is drawn again). PDF rendering is thread-safe, as sessions need."""
    from PIL import Image

    png = render_page(Path(path), number, highlight=(start, end), scale=PAGE_SCALE)
    width, height = Image.open(io.BytesIO(png)).size
    boxes = passage_boxes(Path(path), number, start, end)
    return PageImage(number, png, width, height, passage_top(boxes, height / PAGE_SCALE))


def printed_pages(searcher: Searcher, citation: Citation) -> list[PageImage] | str:
    """The pages the cited passage runs over (``page`` to ``page_end``), each drawn with the
    passage highlighted; or why they cannot be shown (the file changed since the index was
    built, so offsets and pages no longer match, or it cannot be read); [] without pages."""
    if citation.page is None:
        return []
    changes = corpus_changes(searcher)
    if changes is not None and citation.source in changes.removed:
        return "The file is no longer in the corpus folder, so its pages cannot be shown."
    if changes is not None and citation.source in changes.changed:
        return (
            "The file changed after the index was built, so its pages are not shown until "
            "the index is updated."
        )
    path = searcher.settings.corpus / citation.source
    try:
        modified = path.stat().st_mtime_ns
        return [
            _page_image(str(path), modified, number, citation.start, citation.end)
            for number in range(citation.page, (citation.page_end or citation.page) + 1)
        ]
    except (DocumentError, ValueError, OSError) as problem:
        return f"The page could not be drawn ({problem}); the text below shows the passage."


def _text_view(document: Document, citation: Citation, question: str) -> None:
    st.iframe(
        source_page(document.text, citation, question),
        height=SOURCE_HEIGHT,
        alt=f"Text of {document.title} with the passage highlighted",
    )


@st.dialog("Passage in its source", width="large")
def source_dialog(searcher: Searcher, citation: Citation, quoted: str, question: str) -> None:
    """The whole document with the cited text highlighted and scrolled into view and, for a
    PDF, beside it the printed pages with the passage highlighted.

    ``quoted`` is the text as the page showed it: if the document no longer holds it at
    the cited place, the dialog says so instead of highlighting something else.
    """
    document = searcher.snapshot.documents.get(citation.source)
    st.html(citation_html(citation))
    if document is None or document.text[citation.start : citation.end].split() != quoted.split():
        st.warning("This document changed or was removed after the search; search again.")
        return
    pages = printed_pages(searcher, citation)
    if isinstance(pages, list) and pages:
        st.caption(
            "The passage is highlighted on the printed page and in the document's text; "
            "scroll either to read what comes before and after it."
        )
        # The page gets the larger share: its print is small, and it is what the reader holds.
        printed, text = st.columns([3, 2], gap="small")
        with printed:
            st.iframe(
                pdf_page(pages, document.title),
                height=SOURCE_HEIGHT,
                alt=f"Pages of {document.title} with the passage highlighted",
            )
        with text:
            _text_view(document, citation, question)
    else:
        if pages:
            st.info(plain(str(pages)), icon=":material/picture_as_pdf:")
        st.caption(
            "The passage is highlighted in the whole document below; scroll to read what "
            "comes before and after it."
        )
        _text_view(document, citation, question)
    left, right = st.columns([2, 3], vertical_alignment="center")
    path = searcher.settings.corpus / citation.source
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
        st.code(citation.line(), language=None, wrap_lines=True)
