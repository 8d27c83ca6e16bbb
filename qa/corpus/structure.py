"""The reader contract: what every reader returns, and the text conventions PDF, DOCX and HTML share.

A reader turns a file into :class:`Extracted`. For PDF, DOCX and HTML it first finds the
document's blocks (headings, paragraphs, list items, table rows) in reading order, and
:func:`compose` writes them out with one convention, so that chunking, search, quoting
and citation see the same shapes whatever the format:

- one block per line: a paragraph's wrapped lines are joined with a space;
- a blank line between blocks, except between the items of one list and the rows of one
  table, which follow each other on single lines;
- a list item begins with its bullet or number as printed ("◼ Services to children out of
  hours.", "2. Referrals are ..."); private-use bullets from symbol fonts become "•";
- a table row is its cells joined by " | " ("The experiences and progress of children in
  care | Good");
- a heading is a block of its own, and its span is listed in ``Extracted.headings``;
- no markup that the document does not print (no "#", no invented "- ").

A line break inside a block appears only where the document itself breaks the line
(``<br>`` in HTML, a manual line break in DOCX).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum


class DocumentError(ValueError):
    """Why a file cannot become a document (the reason shown to the user)."""


@dataclass(frozen=True)
class ReadLimits:
    """How much one file may make the readers do, from the settings of the same names.

    A file's size says little about what reading it costs: a DOCX of 3 MB can hold 390 MB of
    XML, a PDF of 10 kB five million characters, a PDF of 32 MB 200,000 pages. Each reader
    counts what it holds while it parses and stops at these limits with a DocumentError
    naming the setting, before the tree, the glyphs or the text are built whole.
    ``max_seconds`` and ``max_memory_bytes`` bound what the counts cannot foresee; they are
    kept by :class:`qa.corpus.worker.DocumentReader`, which can stop a reader.
    """

    max_bytes: int
    max_chars: int
    max_pages: int
    max_seconds: float
    max_memory_bytes: int

    @property
    def max_elements(self) -> int:
        """XML or HTML elements a DOCX or HTML file may hold: one per 4 characters of
        ``max_chars``. Real documents have one per 20-60 characters of text (a paragraph of
        a few runs); a parsed element costs about 180 bytes in python-docx and 1.3 kB in
        BeautifulSoup (measured over a million), so at the default of 2,000,000 characters
        a DOCX stays under 100 MB and an HTML page under 700 MB."""
        return self.max_chars // 4

    def too_many_chars(self, what: str) -> DocumentError:
        return DocumentError(
            f"{what} holds more than {self.max_chars:,} characters of text"
            " (setting max_document_chars)"
        )

    def too_many_elements(self, what: str) -> DocumentError:
        return DocumentError(
            f"{what} holds more than {self.max_elements:,} elements, the most read for"
            f" {self.max_chars:,} characters (setting max_document_chars)"
        )


class ElementCounter:
    """An lxml parser target that builds nothing and counts: elements, and when ``count_text``
    the characters of text between them, raising the DocumentError of ``limits`` as soon as
    either is over. Fed a file in blocks, it bounds time and memory by the limits before the
    tree-building parse that follows (python-docx, BeautifulSoup) is allowed to start.
    """

    def __init__(self, limits: ReadLimits, what: str, count_text: bool) -> None:
        self._limits = limits
        self._what = what
        self._count_text = count_text
        self.elements = 0
        self.chars = 0

    def start(self, tag: object, attributes: object) -> None:
        self.elements += 1
        if self.elements > self._limits.max_elements:
            raise self._limits.too_many_elements(self._what)

    def data(self, text: str) -> None:
        if self._count_text:
            self.chars += len(text)
            if self.chars > self._limits.max_chars:
                raise self._limits.too_many_chars(self._what)

    def end(self, tag: object) -> None:
        """Nothing to do at an element's end (lxml calls it on every target)."""

    def close(self) -> None:
        """Nothing is built (lxml calls it at the end of the input)."""


def is_private_use(char: str) -> bool:
    """Whether ``char`` is in the Unicode private use area, where symbol fonts (Wingdings,
    Symbol) put their glyphs: U+F0B7 and U+F06E print as bullets but mean nothing as text."""
    return "\ue000" <= char <= "\uf8ff"


def printed_bullet(char: str) -> str:
    """The bullet as text: a private-use bullet becomes "•", any other stays as printed."""
    return "•" if is_private_use(char) else char


def ordinal(number: int, style: str) -> str:
    """``number`` as a list counts it: "3", "c", "C", "iii" or "III"."""
    if style in ("a", "A", "lowerLetter", "upperLetter"):
        letters = ""
        while number > 0:
            number, rest = divmod(number - 1, 26)
            letters = chr(ord("a") + rest) + letters
        return letters.upper() if style in ("A", "upperLetter") else letters
    if style in ("i", "I", "lowerRoman", "upperRoman"):
        numerals = ""
        for value, symbol in zip(
            (1000, 900, 500, 400, 100, 90, 50, 40, 10, 9, 5, 4, 1),
            ("m", "cm", "d", "cd", "c", "xc", "l", "xl", "x", "ix", "v", "iv", "i"),
            strict=True,
        ):
            count, number = divmod(number, value)
            numerals += symbol * count
        return numerals.upper() if style in ("I", "upperRoman") else numerals
    return str(number)


@dataclass(frozen=True)
class Extracted:
    """What a reader found in one file.

    ``text`` is what is chunked, searched, quoted and cited by character offsets. It is a
    function of the file's bytes alone (the same file always gives the same text). For
    ``.txt`` and ``.md`` it is the decoded file, character for character, so that
    ``file_text[start:end]`` is the passage. For PDF, DOCX and HTML it follows the
    conventions in this module's docstring.

    ``title`` is the title the format states (PDF and DOCX properties, HTML ``<title>``),
    or None.

    ``pages`` holds, for a paged format (PDF), the offset in ``text`` where each page
    starts: page ``i`` (1-based) starts at ``pages[i - 1]``, so the page of offset ``o`` is
    ``bisect.bisect_right(pages, o)``. Offsets never decrease; a page with no text starts
    where the next page's text starts. A paragraph that runs over a page break is one
    paragraph, so a page may start in the middle of a line. Empty for formats without pages.

    ``headings`` are the ``(start, end)`` spans of the lines the layout marks as headings
    (PDF: larger or bold type than the body text, or a short title-case line standing alone
    before body text; DOCX: Heading and Title styles; HTML: ``h1``-``h6``), in order.
    ``text[start:end]`` is the heading without its line break. Empty for ``.txt``/``.md``,
    whose structure the chunker reads from the text itself.
    """

    text: str
    title: str | None
    pages: tuple[int, ...] = ()
    headings: tuple[tuple[int, int], ...] = ()


class BlockKind(Enum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    ITEM = "item"
    ROW = "row"


@dataclass(frozen=True)
class Block:
    """One block of a document in reading order.

    ``group`` ties list items of one list, or rows of one table, together: consecutive
    blocks of the same kind and group are written on consecutive lines. ``origins`` (PDF
    only) gives, for each character of ``text``, where it was printed (see
    :mod:`qa.corpus.pdf`), or -1 for a character the reader inserted (a space between
    lines, a " | " between cells).
    """

    kind: BlockKind
    text: str
    group: int | None = None
    origins: Sequence[int] | None = None


@dataclass(frozen=True)
class Composed:
    text: str
    headings: tuple[tuple[int, int], ...]
    origins: array[int]  # per character of text; empty when the blocks carried none


def compose(blocks: Sequence[Block]) -> Composed:
    """The text of ``blocks`` with the shared conventions, their heading spans and origins."""
    parts: list[str] = []
    origins: array[int] = array("i")
    headings: list[tuple[int, int]] = []
    length = 0
    tracked = any(block.origins is not None for block in blocks)
    previous: Block | None = None
    for block in blocks:
        if not block.text:
            continue
        if previous is not None:
            tight = (
                block.kind in (BlockKind.ITEM, BlockKind.ROW)
                and block.kind == previous.kind
                and block.group is not None
                and block.group == previous.group
            )
            separator = "\n" if tight else "\n\n"
            parts.append(separator)
            length += len(separator)
            if tracked:
                origins.extend([-1] * len(separator))
        if block.kind == BlockKind.HEADING:
            headings.append((length, length + len(block.text)))
        parts.append(block.text)
        length += len(block.text)
        if tracked:
            origins.extend(block.origins if block.origins is not None else [-1] * len(block.text))
        previous = block
    if parts:
        parts.append("\n")
        if tracked:
            origins.append(-1)
    return Composed("".join(parts), tuple(headings), origins)
