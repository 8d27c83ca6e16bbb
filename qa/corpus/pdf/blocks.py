"""A PDF's lines → its blocks (pure): paragraphs joined over line and page breaks, list items,
table rows, hyphens at line ends, headings. See :mod:`qa.corpus.pdf` for the rules and
measurements.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from qa.corpus.pdf.lines import GLUED_NUMBER, Glyph, Line, Segment, Spacing, Word, list_marker
from qa.corpus.pdf.tables import find_tables
from qa.corpus.structure import Block, BlockKind, printed_bullet

# A word space is about this many font sizes wide (0.26-0.32 in the 17 reports).
SPACE = 0.3
# Type at least this many times the body size is a heading (the reports: body 12 pt, headings
# 14 pt, titles 16-26 pt; small print 8-11 pt) ...
HEADING_SIZE = 1.1
# ... when the block has at most this many words (the longest heading in the 17 reports has 14,
# "The experiences and progress of children who need help and protection: requires improvement
# to be good"; a paragraph of large type is not a heading).
HEADING_WORDS = 25
# A line standing alone is a heading by its shape when it has at most this many words and is
# followed by a list or a paragraph of at least TEXT_WORDS words (as qa.chunking promotes them).
TITLE_LINE_WORDS = 12
TEXT_WORDS = 15

_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")


@dataclass
class _Piece:
    """A block under construction: lines of a paragraph, or the rows of a table."""

    kind: BlockKind
    lines: list[Line] = field(default_factory=list)
    rows: list[list[list[Segment]]] = field(default_factory=list)
    marker: str | None = None

    @property
    def first(self) -> Line:
        return self.lines[0]

    @property
    def last(self) -> Line:
        return self.lines[-1]

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines)


def _same_type(a: Line, b: Line) -> bool:
    return abs(a.size - b.size) < 0.5 and a.bold == b.bold


def _page_pieces(lines: list[Line], spacing: Spacing) -> list[_Piece]:
    tables = find_tables(lines, spacing)
    taken = {order for _, orders in tables for order in orders}
    starts = {table.order: table for table, _ in tables}
    pieces: list[_Piece] = []
    for line in lines:
        if line.order in starts:
            pieces.append(_Piece(BlockKind.ROW, rows=starts[line.order].rows))
        if line.order in taken:
            continue
        marker = list_marker(line)
        current = pieces[-1] if pieces and pieces[-1].kind != BlockKind.ROW else None
        if (
            current is None
            or marker is not None
            or not _same_type(current.last, line)
            or spacing.breaks(current.last, line)
        ):
            kind = BlockKind.ITEM if marker == "bullet" else BlockKind.PARAGRAPH
            pieces.append(_Piece(kind, [line], marker=marker))
        else:
            current.lines.append(line)
    return pieces


def _continues(before: _Piece, after: _Piece) -> bool:
    """Whether ``after``, first on its page, continues ``before``, last on the page before.

    It does when the text before the break ends mid-sentence, or the next page goes on in
    lower case. After a full stop it does only if the last line is full (the next page's
    first word would not have fitted on it) and the next page's first line is indented as
    the paragraph's own continuation lines are, unlike its first line (a hanging indent, as
    under the numbered paragraphs of the 17 reports).
    """
    if before.kind == BlockKind.ROW or after.kind != BlockKind.PARAGRAPH or after.marker:
        return False
    if not _same_type(before.last, after.first):
        return False
    if not _SENTENCE_END.search(before.last.text) or after.first.text[:1].islower():
        return True
    word = after.first.words[0]
    width = word.glyphs[-1].right - word.glyphs[0].left + SPACE * after.first.size
    full = max(line.right for line in before.lines) - before.last.right < width
    indent = before.last.left
    return (
        full
        and len(before.lines) > 1
        and abs(before.first.left - indent) > 1
        and abs(after.first.left - indent) <= 1
    )


def _footnotes(pieces: list[_Piece], start: int, following: _Piece) -> int:
    """Where the footnotes end a page whose pieces begin at ``start``: the trailing paragraphs
    in smaller type than the text that goes on on the next page."""
    end = len(pieces)
    while (
        end > start + 1
        and pieces[end - 1].kind == BlockKind.PARAGRAPH
        and max(line.size for line in pieces[end - 1].lines) < following.first.size - 0.5
    ):
        end -= 1
    return end


_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*[^\W\d_])?")


def word_counts(pages: Sequence[list[Line]]) -> Counter[str]:
    """How often each word (lowercase, hyphens kept) is printed in the document."""
    counts: Counter[str] = Counter()
    for lines in pages:
        for line in lines:
            counts.update(w.casefold() for w in _WORD.findall(line.text))
    return counts


def _hyphen_join(before: Word, after: Word, counts: Counter[str]) -> bool | None:
    """For a line ending in ``before`` ("inter-") and the next starting with ``after``
    ("vention"): True to join without the hyphen, False to keep it (and no space), None if
    the line does not end in a hyphen.

    Word processors break lines after a hyphen that belongs to the word ("multi-agency",
    "care-experienced", "post-16"); typesetters also break words with a hyphen of their own.
    The document tells them apart: a joined word it prints elsewhere, and never hyphenated,
    was split by the layout. Unknown words keep the hyphen: "inter-vention" is still readable,
    while "multiagency" would be a word the document never wrote. In the 17 reports all 66
    line-end hyphens belong to their words: 35 are printed hyphenated elsewhere in the same
    report, 31 nowhere else, and none is printed joined.
    """
    text, following = before.text, after.text
    if len(text) < 2 or text[-1] not in "-\u00ad" or not text[-2].isalnum():
        return None
    left, right = _WORD.findall(text[:-1]), _WORD.findall(following)
    if not left or not right or not following[:1].islower():
        return False
    joined, hyphenated = (left[-1] + right[0]).casefold(), (left[-1] + "-" + right[0]).casefold()
    return counts[joined] > 0 and counts[hyphenated] == 0


class _Writer:
    """The characters of a block with the origin of each (-1 for one the layout adds)."""

    def __init__(self, counts: Counter[str]) -> None:
        self.counts = counts
        self.chars: list[str] = []
        self.origins: list[int] = []

    def add(self, text: str, origin: int = -1) -> None:
        self.chars.append(text)
        self.origins.extend([origin] * len(text))

    def glyphs(self, glyphs: Iterable[Glyph]) -> None:
        for glyph in glyphs:
            self.add(glyph.text, glyph.origin)

    def lines(self, lines: Sequence[Sequence[Word]], marker: str | None = None) -> None:
        """Printed lines as one line: words joined by a space, and a hyphen at a line end
        dropped or kept as :func:`_hyphen_join` decides (no space after it either way).

        A block's bullet is written as :func:`printed_bullet` says, and a bullet or number
        printed against its text is set apart from it by a space.
        """
        joins = [
            _hyphen_join(line[-1], following[0], self.counts) for line, following in pairwise(lines)
        ]
        for n, line in enumerate(lines):
            if n and joins[n - 1] is None:
                self.add(" ")
            for i, word in enumerate(line):
                glyphs = word.glyphs
                if n == 0 and i == 0:
                    glyphs = self._marker(word, marker)
                elif i:
                    self.add(" ")
                if i == len(line) - 1 and n < len(joins) and joins[n]:
                    glyphs = glyphs[:-1]
                self.glyphs(glyphs)

    def _marker(self, word: Word, marker: str | None) -> tuple[Glyph, ...]:
        """Write the bullet or number a block starts with; return the rest of its first word."""
        glued = GLUED_NUMBER.match(word.text) if marker == "number" else None
        if marker == "bullet":
            split = 1
            self.add(printed_bullet(word.glyphs[0].text), word.glyphs[0].origin)
        elif glued:
            split = len(glued[0])
            self.glyphs(word.glyphs[:split])
        else:
            return word.glyphs
        rest = word.glyphs[split:]
        if rest:
            self.add(" ")
        return rest

    def text(self) -> str:
        return "".join(self.chars)


def _is_heading(piece: _Piece, following: _Piece | None, body_size: float) -> bool:
    if piece.kind != BlockKind.PARAGRAPH or piece.marker is not None:
        return False
    text = piece.text
    words = len(text.split())
    if words > HEADING_WORDS or (_SENTENCE_END.search(text) and not text.endswith("?")):
        return False
    size = max(line.size for line in piece.lines)
    if size >= HEADING_SIZE * body_size:
        return True
    if size < body_size - 0.5 or following is None:
        return False
    follows_plain = following.kind != BlockKind.ROW and not following.first.bold
    if piece.first.bold:
        return follows_plain
    body_follows = (
        following.kind == BlockKind.ITEM
        or following.marker == "number"
        or (following.kind == BlockKind.PARAGRAPH and len(following.text.split()) >= TEXT_WORDS)
    )
    return (
        len(piece.lines) == 1
        and words <= TITLE_LINE_WORDS
        and text[:1].isupper()
        and not re.search(r"[,;:]$", text)
        and body_follows
    )


def layout_blocks(pages: Sequence[list[Line]]) -> list[Block]:
    """The document's blocks from its pages' lines (running lines already removed)."""
    spacing = Spacing(pages)
    counts = word_counts(pages)
    sizes: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            sizes[line.size] += sum(len(word.glyphs) for word in line.words)
    body_size = sizes.most_common(1)[0][0] if sizes else 0.0
    pieces: list[_Piece] = []
    page_start = 0
    for lines in pages:
        page_pieces = _page_pieces(lines, spacing)
        if page_pieces and pieces and page_pieces[0].kind != BlockKind.ROW:
            # A paragraph cut by the page break is one paragraph; footnotes printed between
            # its parts go before it, so that the text still runs page after page.
            end = _footnotes(pieces, page_start, page_pieces[0])
            if _continues(pieces[end - 1], page_pieces[0]):
                continued = pieces.pop(end - 1)
                continued.lines.extend(page_pieces.pop(0).lines)
                pieces.append(continued)
        page_start = len(pieces)
        pieces.extend(page_pieces)
    blocks: list[Block] = []
    group = 0
    for i, piece in enumerate(pieces):
        if piece.kind == BlockKind.ROW:
            group += 1
            for row in piece.rows:
                writer = _Writer(counts)
                for column, cell in enumerate(row):
                    if column:
                        writer.add(" | ")
                    writer.lines(cell)
                blocks.append(Block(BlockKind.ROW, writer.text(), group, writer.origins))
            continue
        if piece.kind == BlockKind.ITEM and (not blocks or blocks[-1].kind != BlockKind.ITEM):
            group += 1
        writer = _Writer(counts)
        writer.lines([line.words for line in piece.lines], piece.marker)
        following = pieces[i + 1] if i + 1 < len(pieces) else None
        kind = BlockKind.HEADING if _is_heading(piece, following, body_size) else piece.kind
        blocks.append(Block(kind, writer.text(), group, writer.origins))
    return blocks
