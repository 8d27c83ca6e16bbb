"""Printed lines of a PDF page (pure): glyphs in stream order → lines in reading order, with
their words, column segments, type and list markers; running headers and footers removed.

See :mod:`qa.corpus.pdf` for the rules and the measurements behind the constants.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from itertools import pairwise
from statistics import median
from typing import NamedTuple

from qa.corpus.structure import is_private_use
from qa.text import DASH_BULLETS, SYMBOL_BULLETS

# A gap between glyphs of one line wider than this many font sizes separates columns. Word
# spaces in the 17 reports are at most 0.95 x the font size (a tab after "Lead inspector:"),
# the gap after a "◼" bullet 0.75 and after a paragraph number up to 2.15 (numbers are joined
# to their text, see _MARKER); the narrowest gap between table columns is 1.88.
COLUMN_GAP = 1.5
# A bullet dash or number sets itself apart from its text by at least this many font sizes
# (0.74-0.75 after bullets, 1.28-2.15 after paragraph numbers in the 17 reports; word spaces
# in justified lines reach 0.6 only rarely), which tells "– item" from a line that wraps
# before a dash.
MARKER_GAP = 0.6
# Running headers and footers sit within this fraction of the page height from its top or
# bottom edge: within 46 pt (5.5 %) of the bottom of the A4 page in the 17 reports; 10 % allows
# taller templates, and body lines that reach into the band are never repeated on most pages.
EDGE_BAND = 0.10
# ... and recur, digits aside, on at least this share of the pages: the reports' header is on
# every page but the title page (10 of 11); body lines in the band recur on at most 2 of 12.
RECURRING_SHARE = 0.5
# A footnote mark is at most this share of its line's type size and raised by at least
# RAISED x that size: 9 pt marks by 14 pt headings and 6.5 pt by 10 pt footnotes, raised
# 0.4 x the line's size.
SUPERSCRIPT_SIZE = 0.8
RAISED = 0.25
# A new paragraph starts when the next baseline is further than this many times the
# document's usual line spacing for that type size. In the 17 reports the lines of a
# paragraph follow at 1.08-1.21 x the font size (1.21 the most common), list items at
# 1.53-1.71 and paragraphs at 2.16 or more: 1.2 x 1.21 = 1.45 falls in the gap.
PARAGRAPH_SPACING = 1.2
# Line spacing used when the document has too few lines of a type size to measure it:
# Word's and most layout programs' single spacing is 1.15-1.2 x the font size.
DEFAULT_SPACING = 1.2

# A list or paragraph number: "1.", "4.16", "12)", "(a)", "ii.", "(iv)".
_MARKER = re.compile(
    r"^(?:\(?\d{1,3}(?:\.\d{1,3})*[.)]|\d{1,3}(?:\.\d{1,3})+|\(?[a-z]{1,2}[.)]|\([ivx]{1,5}\))$"
)
# A paragraph number printed against its first word ("24.The emotional health needs ...": 1 pt
# apart, where Word lost the tab in Croydon 2020) is still a number, written with a space.
GLUED_NUMBER = re.compile(r"^\d{1,3}(?:\.\d{1,3})*\.(?=[A-Z])")
# A page number on its own: "7", "Page 7", "7 of 12", "7/12", "vii", "- 7 -".
_PAGE_NUMBER = re.compile(
    r"^(?:[Pp]age\s+)?(?:\d{1,4}|[ivxlc]{1,6}|[IVXLC]{1,6})(?:\s*(?:of|/)\s*\d{1,4})?$"
    r"|^[-–]\s*\d{1,4}\s*[-–]$"
)
# What a footnote mark is: digits, or the symbols that stand for them.
_FOOTNOTE_MARK = re.compile(r"^[\d*†‡]+$")


class Glyph(NamedTuple):
    """One printed character: its text, where it came from and its box in PDF points (y up).

    ``origin`` identifies the character in its file (see :mod:`qa.corpus.pdf`), so that a
    passage can be traced back to the page. ``text`` may be longer than one character (a
    ligature "ﬁ" is "fi").
    """

    text: str
    origin: int
    left: float
    bottom: float
    right: float
    top: float
    size: float
    bold: bool


class Word(NamedTuple):
    """A run of glyphs between spaces."""

    text: str
    glyphs: tuple[Glyph, ...]


# A segment is a run of words on one line without a column gap between them.
Segment = tuple[Word, ...]


@dataclass(frozen=True)
class Line:
    """Glyphs printed one after another on one baseline, split into segments at column gaps."""

    page: int
    order: int  # position in the page's content stream
    segments: tuple[Segment, ...]
    size: float  # the type size of most of its glyphs
    bold: bool
    left: float
    right: float
    bottom: float
    top: float

    @cached_property
    def words(self) -> tuple[Word, ...]:
        return tuple(word for segment in self.segments for word in segment)

    @cached_property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)


def segment_box(segment: Segment) -> tuple[float, float]:
    return segment[0].glyphs[0].left, segment[-1].glyphs[-1].right


# --- lines, words and segments ------------------------------------------------------------------


def _without_footnote_marks(glyphs: list[Glyph | None]) -> list[Glyph | None]:
    """The line without small raised digits after its text ("improve?¹"): a mark refers to a
    footnote that is kept where it is printed, and left in it would glue a number to the word
    before it. The number a footnote itself starts with stays."""
    real = [g for g in glyphs if g is not None]
    if min(g.size for g in real) > SUPERSCRIPT_SIZE * max(g.size for g in real):
        return glyphs  # one type size: nothing is small beside it
    size = Counter(round(g.size, 1) for g in real).most_common(1)[0][0]
    base = median(g.bottom for g in real if round(g.size, 1) == size)

    def is_mark(g: Glyph) -> bool:
        return g.size <= SUPERSCRIPT_SIZE * size and g.bottom >= base + RAISED * size

    kept: list[Glyph | None] = []
    run: list[Glyph] = []
    for glyph in [*glyphs, None]:
        if glyph is not None and is_mark(glyph):
            run.append(glyph)
            continue
        at_start = all(g is None for g in kept)
        if run and (at_start or not _FOOTNOTE_MARK.match("".join(g.text for g in run))):
            kept.extend(run)  # a footnote's own number, or raised letters ("4th")
        run = []
        kept.append(glyph)
    return kept[:-1]


def _line(page: int, order: int, glyphs: list[Glyph | None]) -> Line | None:
    glyphs = _without_footnote_marks(glyphs)
    words: list[Word] = []
    current: list[Glyph] = []
    for glyph in [*glyphs, None]:
        if glyph is None:
            if current:
                words.append(Word("".join(g.text for g in current), tuple(current)))
                current = []
        else:
            current.append(glyph)
    if not words:
        return None
    everything = [g for word in words for g in word.glyphs]
    size = Counter(round(g.size, 1) for g in everything).most_common(1)[0][0]
    segments: list[list[Word]] = [[words[0]]]
    for before, after in pairwise(words):
        if after.glyphs[0].left - before.glyphs[-1].right > COLUMN_GAP * size:
            segments.append([after])
        else:
            segments[-1].append(after)
    if len(segments) > 1 and len(segments[0]) == 1 and _is_marker(segments[0][0].text):
        segments[1] = segments[0] + segments[1]  # "1." or "◼" and its text are one cell
        del segments[0]
    return Line(
        page=page,
        order=order,
        segments=tuple(tuple(segment) for segment in segments),
        size=size,
        bold=all(g.bold for g in everything),
        left=min(g.left for g in everything),
        right=max(g.right for g in everything),
        bottom=min(g.bottom for g in everything),
        top=max(g.top for g in everything),
    )


def page_lines(page: int, stream: Iterable[Glyph | None]) -> list[Line]:
    """The lines of a page in reading order from its glyphs in stream order (None: a space).

    A glyph starts a new line when it does not overlap the current line by half its height
    or steps back left of the previous glyph: the stream has moved to another line.
    """
    lines: list[Line] = []
    current: list[Glyph | None] = []

    def end_line() -> None:
        line = _line(page, len(lines), current)
        if line is not None:
            lines.append(line)
        current.clear()

    bottom = top = 0.0
    previous: Glyph | None = None
    for glyph in stream:
        if glyph is None:
            if current:
                current.append(None)
            continue
        if previous is None:
            bottom, top = glyph.bottom, glyph.top
        elif (
            min(top, glyph.top) - max(bottom, glyph.bottom)
            < 0.5 * min(top - bottom, glyph.top - glyph.bottom)
            or glyph.left < previous.left - glyph.size
        ):
            end_line()
            bottom, top = glyph.bottom, glyph.top
        else:
            bottom, top = min(bottom, glyph.bottom), max(top, glyph.top)
        current.append(glyph)
        previous = glyph
    if current:
        end_line()
    return _reading_order(lines)


def _reading_order(lines: list[Line]) -> list[Line]:
    """The lines with each run the stream printed after text below it moved up before it.

    A content stream mostly runs down the page, but may print a block late: Hampshire 2019
    prints the two lines at the top of its page 2 after the rest of the page. A run (lines
    going down the page) moves back before the runs printed before it that it lies wholly
    above, in the same column, passing runs beside it (a page number in the margin); runs
    side by side (columns, table cells) keep the stream's order.
    """
    runs: list[list[Line]] = []
    for line in lines:
        if runs and line.bottom > runs[-1][-1].top:
            runs.append([line])
        elif runs:
            runs[-1].append(line)
        else:
            runs.append([line])
    placed: list[list[Line]] = []
    for run in runs:
        at = back = len(placed)
        while back:
            overlap = _shared_width(run, placed[back - 1])
            if overlap > 0 and not _above(run, placed[back - 1]):
                break
            back -= 1
            at = back if overlap > 0 else at
        placed.insert(at, run)
    ordered = [line for run in placed for line in run]
    return [replace(line, order=order) for order, line in enumerate(ordered)]


def _shared_width(run: list[Line], other: list[Line]) -> float:
    left = max(min(line.left for line in run), min(line.left for line in other))
    return min(max(line.right for line in run), max(line.right for line in other)) - left


def _above(run: list[Line], other: list[Line]) -> bool:
    return min(line.bottom for line in run) > max(line.top for line in other)


def _is_marker(text: str) -> bool:
    """A bullet or a paragraph/list number standing before its text ("◼", "1.", "4.16", "(a)")."""
    return (
        len(text) == 1 and (text in SYMBOL_BULLETS or text in DASH_BULLETS or is_private_use(text))
    ) or bool(_MARKER.match(text))


def list_marker(line: Line) -> str | None:
    """``"bullet"`` or ``"number"`` when the line starts with one set apart from its text."""
    words = line.words
    text = words[0].text
    if text[0] in SYMBOL_BULLETS or is_private_use(text[0]):
        return "bullet"
    apart = (
        len(words) > 1
        and words[1].glyphs[0].left - words[0].glyphs[-1].right >= MARKER_GAP * line.size
    )
    if text in DASH_BULLETS and apart:
        return "bullet"
    if (_MARKER.match(text) and apart) or GLUED_NUMBER.match(text):
        return "number"
    return None


# --- running headers and footers ----------------------------------------------------------------


def _edge(line: Line, bottom: float, top: float) -> str | None:
    band = EDGE_BAND * (top - bottom)
    if line.bottom >= top - band:
        return "top"
    if line.top <= bottom + band:
        return "bottom"
    return None


def remove_running_lines(pages: Sequence[list[Line]], edges: Sequence[tuple[float, float]]) -> int:
    """Drop running headers, footers and page numbers from ``pages`` in place; return how many.

    ``edges`` are each page's bottom and top in the glyphs' coordinates. Only pages with text
    between the bands have running lines: a header runs above something, and a document of
    pages that each hold one line (slides, an annex of forms) keeps them.
    """
    keys: list[list[tuple[str, str] | None]] = []
    seen: Counter[tuple[str, str]] = Counter()
    for lines, (bottom, top) in zip(pages, edges, strict=True):
        page_edges = [_edge(line, bottom, top) for line in lines]
        page_keys = [
            (edge, re.sub(r"\d+", "#", line.text.casefold()))
            if edge and not all(page_edges)
            else None
            for line, edge in zip(lines, page_edges, strict=True)
        ]
        seen.update({key for key in page_keys if key is not None})
        keys.append(page_keys)
    needed = max(2, RECURRING_SHARE * len(pages))
    removed = 0
    for lines, page_keys in zip(pages, keys, strict=True):
        kept = [
            line
            for line, key in zip(lines, page_keys, strict=True)
            if key is None or (seen[key] < needed and not _PAGE_NUMBER.match(line.text))
        ]
        removed += len(lines) - len(kept)
        lines[:] = kept
    return removed


# --- line spacing -------------------------------------------------------------------------------


class Spacing:
    """The usual distance between baselines of a paragraph's lines, per type size."""

    def __init__(self, pages: Sequence[list[Line]]) -> None:
        distances: dict[float, Counter[float]] = {}
        for lines in pages:
            for before, after in pairwise(lines):
                distance = before.bottom - after.bottom
                if (
                    abs(before.size - after.size) < 0.5
                    and 0.9 * after.size < distance < 2 * after.size
                ):
                    distances.setdefault(after.size, Counter())[round(distance * 2) / 2] += 1
        self._usual = {size: counts.most_common(1)[0][0] for size, counts in distances.items()}

    def breaks(self, before: Line, after: Line) -> bool:
        """Whether ``after`` is too far below ``before`` to continue its paragraph or cell."""
        usual = self._usual.get(after.size, DEFAULT_SPACING * after.size)
        distance = before.bottom - after.bottom
        return distance < 0 or distance > PARAGRAPH_SPACING * usual
