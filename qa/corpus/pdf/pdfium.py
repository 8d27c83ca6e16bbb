"""PDF files through pypdfium2: pages → glyphs → :class:`PdfText`.

Every character of the extracted text remembers the printed character it came from (its
*origin*: the number of characters on the pages before plus PDFium's index of the character
on its page), so that page starts are exact.

PDFium may not be called from two threads at once, even on different documents, so every use
here holds one lock (Streamlit runs each session in its own thread).
"""

from __future__ import annotations

import ctypes
import re
import threading
import unicodedata
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.corpus.pdf.blocks import layout_blocks
from qa.corpus.pdf.lines import Glyph, Line, page_lines, remove_running_lines
from qa.corpus.structure import DocumentError, Extracted, compose

if TYPE_CHECKING:
    import pypdfium2

_PDFIUM = threading.RLock()
_BOLD_NAME = re.compile(r"bold|black|heavy|demi|semibold", re.IGNORECASE)


@dataclass(frozen=True)
class PdfText:
    """A PDF's extracted text, with what ties it back to the pages.

    ``origins[i]`` is the origin of ``extracted.text[i]`` (-1 for a character the layout
    added: spaces between lines, " | ", line breaks); ``page_bases[p]`` is the origin of the
    first character of page ``p + 1``. ``removed_lines`` counts running headers, footers and
    page numbers left out.
    """

    extracted: Extracted
    origins: array[int]
    page_bases: tuple[int, ...]
    removed_lines: int


@contextmanager
def _open(source: Path | bytes) -> Iterator[pypdfium2.PdfDocument]:
    """The document open under the PDFium lock, or a DocumentError saying why it cannot be."""
    import pypdfium2

    with _PDFIUM:
        try:
            document = pypdfium2.PdfDocument(source)
        except pypdfium2.PdfiumError as error:
            if error.err_code in (pypdfium2.raw.FPDF_ERR_PASSWORD, pypdfium2.raw.FPDF_ERR_SECURITY):
                raise DocumentError("encrypted PDF (a password is needed to read it)") from error
            raise DocumentError(f"corrupt or unreadable PDF ({error})") from error
        try:
            yield document
        except pypdfium2.PdfiumError as error:
            raise DocumentError(f"corrupt or unreadable PDF ({error})") from error
        finally:
            document.close()


def _glyph_text(char: str) -> str:
    """The text a character stands for: "" for nothing printable, "-" for a hyphen PDFium
    found at a line end (U+FFFE in its text), "fi" for the ligature "ﬁ"."""
    if char == "\ufffe":
        return "-"
    if char < " " or char == "\x7f" or "\ud800" <= char <= "\udfff" or char == "\uffff":
        return ""
    if "\ufb00" <= char <= "\ufb06":  # ligatures: "ﬁ" is "fi" to search and quote
        return unicodedata.normalize("NFKC", char)
    return char


def _page_stream(textpage: Any, base: int) -> list[Glyph | None]:
    """The page's glyphs in stream order, None for each space (printed or inferred by PDFium)."""
    import pypdfium2.raw as raw

    handle = textpage.raw
    count = raw.FPDFText_CountChars(handle)
    # The page's text in one call has one character per character index, and U+FFFE where
    # PDFium found a hyphen ending a line, whatever code the font gives it (Word's
    # non-breaking hyphen is U+0002). A character outside the BMP takes two places in it:
    # then each is asked for on its own.
    text = textpage.get_text_range(0, count)
    if len(text) != count:
        text = "".join(_character(raw, handle, index) for index in range(count))
    box = raw.FS_RECTF()
    address = ctypes.c_void_p.from_buffer
    bold_by_object: dict[int | None, bool] = {}
    stream: list[Glyph | None] = []
    for index, char in enumerate(text):
        if char.isspace():
            stream.append(None)
            continue
        printed = char if " " < char < "\x7f" or "\xa0" < char < "\ud800" else _glyph_text(char)
        if not printed:
            continue
        raw.FPDFText_GetLooseCharBox(handle, index, box)
        weight = raw.FPDFText_GetFontWeight(handle, index)
        if weight > 0:
            bold = weight >= 600
        else:  # no weight stated (the standard 14 fonts): the font's name says
            obj = raw.FPDFText_GetTextObject(handle, index)
            key = address(obj).value
            bold = bold_by_object.get(key)
            if bold is None:
                bold = bold_by_object[key] = _is_bold(raw, obj)
        size = raw.FPDFText_GetFontSize(handle, index)
        stream.append(
            Glyph(printed, base + index, box.left, box.bottom, box.right, box.top, size, bold)
        )
    return stream


def _character(raw: Any, handle: Any, index: int) -> str:
    """One character of the page as :meth:`get_text_range` gives it (U+FFFE for a line-end hyphen)."""
    if raw.FPDFText_IsHyphen(handle, index):
        return "\ufffe"
    code = raw.FPDFText_GetUnicode(handle, index)
    return chr(code) if code <= 0x10FFFF else "\uffff"


def _is_bold(raw: Any, text_object: Any) -> bool:
    """Bold by the name of a font that states no weight ("Helvetica-Bold")."""
    font = raw.FPDFTextObj_GetFont(text_object)
    if not font:
        return False
    length = raw.FPDFFont_GetBaseFontName(font, None, 0)
    name = ctypes.create_string_buffer(max(1, length))
    raw.FPDFFont_GetBaseFontName(font, name, length)
    return bool(_BOLD_NAME.search(name.value.decode("latin-1")))


def _page_starts(origins: array[int], page_bases: tuple[int, ...]) -> tuple[int, ...]:
    """Offset in the text where each page starts; a page without text starts where the next does.

    Pages follow each other in the text (the layout reorders lines only within a page), so
    page ``p`` starts at the first character whose origin, or an earlier one's, reaches the
    page's first origin.
    """
    import numpy as np

    printed = np.frombuffer(origins, dtype=np.int32) if origins else np.zeros(0, np.int32)
    reached = np.maximum.accumulate(printed)
    return tuple(int(offset) for offset in np.searchsorted(reached, page_bases, side="left"))


def read_pdf(source: Path | bytes) -> PdfText:
    """The text of a PDF with its pages, headings and origins; DocumentError if unreadable."""
    with _open(source) as document:
        pages: list[list[Line]] = []
        edges: list[tuple[float, float]] = []
        bases: list[int] = []
        base = 0
        for number in range(len(document)):
            page = document[number]
            textpage = page.get_textpage()
            bases.append(base)
            pages.append(page_lines(number, _page_stream(textpage, base)))
            _, bottom, _, top = page.get_bbox()
            edges.append((bottom, top))
            base += textpage.count_chars()
            textpage.close()
            page.close()
        title = document.get_metadata_value("Title").strip() or None
    removed = remove_running_lines(pages, edges)
    composed = compose(layout_blocks(pages))
    page_bases = tuple(bases)
    return PdfText(
        extracted=Extracted(
            text=composed.text,
            title=title,
            pages=_page_starts(composed.origins, page_bases),
            headings=composed.headings,
        ),
        origins=composed.origins,
        page_bases=page_bases,
        removed_lines=removed,
    )
