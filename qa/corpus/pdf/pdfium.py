"""PDF files through pypdfium2: pages → glyphs → :class:`PdfText`, and pages rendered with a
passage highlighted.

Every character of the extracted text remembers the printed character it came from (its
*origin*: the number of characters on the pages before plus PDFium's index of the character
on its page), so that page starts are exact and a passage can be drawn over the page it is
quoted from.

PDFium may not be called from two threads at once, even on different documents, so every use
here holds one lock (Streamlit runs each session in its own thread).
"""

from __future__ import annotations

import ctypes
import functools
import io
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
from qa.corpus.structure import DocumentError, Extracted, ReadLimits, compose

if TYPE_CHECKING:
    import pypdfium2

_PDFIUM = threading.RLock()
_BOLD_NAME = re.compile(r"bold|black|heavy|demi|semibold", re.IGNORECASE)
# Highlight colour (RGBA): a translucent yellow that leaves the print readable beneath.
HIGHLIGHT = (255, 214, 0, 96)


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


@dataclass(frozen=True)
class Box:
    """A rectangle on a page in PDF points, origin at the bottom left."""

    left: float
    bottom: float
    right: float
    top: float


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


def read_pdf(source: Path | bytes, limits: ReadLimits | None) -> PdfText:
    """The text of a PDF with its pages, headings and origins; DocumentError if unreadable.

    With ``limits``, the page count is checked before any page is read and the characters
    of each page (PDFium counts them when it parses the page) before its glyphs are taken:
    the layout holds about 500 bytes per character, so a 10 kB PDF printing one run of five
    million characters took 60 s and 2.5 GB. None reads without limits: only for a PDF
    that was read within them to be indexed (the page view of the app).
    """
    import pypdfium2

    with _open(source) as document:
        count = len(document)
        if limits is not None and count > limits.max_pages:
            raise DocumentError(
                f"PDF has {count:,} pages, over the limit of {limits.max_pages:,}"
                " (setting max_pages)"
            )
        pages: list[list[Line]] = []
        edges: list[tuple[float, float]] = []
        bases: list[int] = []
        base = 0
        for number in range(count):
            try:
                page = document[number]
            except pypdfium2.PdfiumError as error:  # a page tree deeper than PDFium follows
                raise DocumentError(
                    f"corrupt or unreadable PDF (page {number + 1:,} of {count:,}: {error})"
                ) from error
            textpage = page.get_textpage()
            if limits is not None and base + textpage.count_chars() > limits.max_chars:
                raise limits.too_many_chars("PDF")
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


@functools.lru_cache(maxsize=8)
def _read_cached(path: str, modified: int, size: int) -> PdfText:
    """:func:`read_pdf` of a file, kept for the next page a reader turns to (keyed on the file's
    modification time and size, so a replaced file is read again)."""
    return read_pdf(Path(path), limits=None)


def _read_file(path: Path) -> PdfText:
    try:
        status = path.stat()
    except OSError as error:
        raise DocumentError(f"cannot read file ({error.strerror or error})") from error
    return _read_cached(str(path), status.st_mtime_ns, status.st_size)


def _boxes(pdf: PdfText, textpage: Any, page_number: int, start: int, end: int) -> list[Box]:
    """Boxes over the characters of ``text[start:end]`` printed on page ``page_number``, one per
    run of characters on a line (the characters of a line's words follow each other on the
    page, one space apart)."""
    base = pdf.page_bases[page_number - 1]
    limit = pdf.page_bases[page_number] if page_number < len(pdf.page_bases) else 1 << 31
    indices = sorted({o - base for o in pdf.origins[max(0, start) : end] if base <= o < limit})
    boxes: list[Box] = []
    previous = -3
    for index in indices:
        left, bottom, right, top = textpage.get_charbox(index, loose=True)
        last = boxes[-1] if boxes else None
        if (
            last is not None
            and index <= previous + 2
            and min(last.top, top) - max(last.bottom, bottom) > 0.5 * (top - bottom)
        ):
            boxes[-1] = Box(
                min(last.left, left),
                min(last.bottom, bottom),
                max(last.right, right),
                max(last.top, top),
            )
        else:
            boxes.append(Box(left, bottom, right, top))
        previous = index
    return boxes


def _page(document: pypdfium2.PdfDocument, path: Path, number: int) -> pypdfium2.PdfPage:
    if not 1 <= number <= len(document):
        raise ValueError(f"{path.name} has no page {number} (pages 1-{len(document)})")
    return document[number - 1]


def passage_boxes(path: Path, page_number: int, start: int, end: int) -> list[Box]:
    """Where ``text[start:end]`` of the PDF at ``path`` is printed on page ``page_number``
    (1-based), as boxes in PDF points; empty if none of it is on that page.

    Raises DocumentError if the file cannot be read and ValueError for a page it does not have.
    """
    pdf = _read_file(path)
    with _open(path) as document:
        page = _page(document, path, page_number)
        return _boxes(pdf, page.get_textpage(), page_number, start, end)


def render_page(
    path: Path, page_number: int, highlight: tuple[int, int] | None = None, scale: float = 2.0
) -> bytes:
    """Page ``page_number`` (1-based) of the PDF at ``path`` as a PNG, ``scale`` pixels per
    point, with the characters of ``text[start:end]`` (``highlight``, offsets into the
    extracted text) that are printed on it under translucent boxes.

    Raises DocumentError if the file cannot be read and ValueError for a page it does not have.
    """
    from PIL import Image, ImageDraw

    pdf = _read_file(path) if highlight else None
    with _open(path) as document:
        page = _page(document, path, page_number)
        image = page.render(scale=scale).to_pil().convert("RGBA")
        boxes = (
            _boxes(pdf, page.get_textpage(), page_number, *highlight)
            if pdf is not None and highlight
            else []
        )
        corners = [
            (
                _to_pixels(page, image.size, box.left, box.top),
                _to_pixels(page, image.size, box.right, box.bottom),
            )
            for box in boxes
        ]
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for (x0, y0), (x1, y1) in corners:
        draw.rectangle((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), fill=HIGHLIGHT)
    out = io.BytesIO()
    Image.alpha_composite(image, overlay).convert("RGB").save(out, format="PNG")
    return out.getvalue()


def _to_pixels(page: Any, size: tuple[int, int], x: float, y: float) -> tuple[int, int]:
    """A point of the page in pixels of its rendering (PDFium turns rotated pages for us)."""
    import pypdfium2.raw as raw

    device_x, device_y = ctypes.c_int(), ctypes.c_int()
    raw.FPDF_PageToDevice(page.raw, 0, 0, size[0], size[1], 0, x, y, device_x, device_y)
    return device_x.value, device_y.value
