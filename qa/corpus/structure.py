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
