"""Tables on a PDF page (pure): lines side by side whose column gaps line up down the page,
as rows of cells. See :mod:`qa.corpus.pdf` for the rules and measurements.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from statistics import median

from qa.corpus.pdf.lines import Line, Segment, Spacing, segment_box

# Between lines, the columns of a table are the strips no text crosses, at least this many font
# sizes wide: a strip between one line's text and another's cannot be a word space. The
# narrowest in the 17 reports is 1.37 (Croydon 2020: a first-column line ends 15 pt before the
# second column of 11 pt text).
SEPARATOR = 0.5
# Lines side by side share a band when they overlap by this share of the smaller height. A
# one-line cell centred beside a two-line cell overlaps each of its lines by 37-39 % in the 17
# reports; consecutive lines of a paragraph overlap by at most 10-12 % even when set solid
# (font boxes are 1.1-1.2 x the type size).
BAND_OVERLAP = 0.3


@dataclass(frozen=True)
class Table:
    """Rows of cells; a cell is its lines' segments from top to bottom."""

    order: int  # stream position of its first line
    rows: list[list[list[Segment]]]


def _separators(segments: Iterable[Segment], gap: float) -> list[tuple[float, float]]:
    """The vertical strips at least ``gap`` wide that no segment crosses, between segments."""
    spans = sorted(segment_box(segment) for segment in segments)
    merged: list[list[float]] = []
    for left, right in spans:
        if merged and left - merged[-1][1] < gap:
            merged[-1][1] = max(merged[-1][1], right)
        else:
            merged.append([left, right])
    return [(a[1], b[0]) for a, b in pairwise(merged)]


def _bands(lines: list[Line]) -> list[list[Line]]:
    """Lines grouped by the height they are printed at, top to bottom (see BAND_OVERLAP)."""
    bands: list[list[Line]] = []
    for line in sorted(lines, key=lambda line: -line.top):
        if bands:
            band = bands[-1]
            low, high = min(x.bottom for x in band), max(x.top for x in band)
            shared = min(high, line.top) - max(low, line.bottom)
            if shared >= BAND_OVERLAP * min(high - low, line.top - line.bottom):
                band.append(line)
                continue
        bands.append([line])
    return bands


def _band_segments(band: list[Line]) -> list[Segment]:
    return [segment for line in band for segment in line.segments]


def _columns_of(segment: Segment, separators: list[tuple[float, float]]) -> int:
    left = segment_box(segment)[0]
    return sum(1 for _, right in separators if right <= left)


def _table(bands: list[list[Line]], spacing: Spacing) -> Table | None:
    """The bands as a table, or None when they are text set in columns rather than a table."""
    lines = sorted((line for band in bands for line in band), key=lambda line: line.order)
    size = median(line.size for line in lines)
    separators = _separators((s for line in lines for s in line.segments), SEPARATOR * size)
    column_count = len(separators) + 1
    columns: list[list[tuple[Line, Segment]]] = [[] for _ in range(column_count)]
    switches, previous = 0, -1
    for line in lines:
        for segment in line.segments:
            column = _columns_of(segment, separators)
            columns[column].append((line, segment))
            switches += previous not in (-1, column)
            previous = column
    # Cells: a column's segments top to bottom, a new cell where the line spacing breaks.
    cells: list[tuple[float, float, int, list[Segment]]] = []  # top, bottom, column, segments
    split = False
    for column, items in enumerate(columns):
        items.sort(key=lambda item: -item[0].top)
        for i, (line, segment) in enumerate(items):
            if i and not spacing.breaks(items[i - 1][0], line):
                top, _, _, segments = cells[-1]
                cells[-1] = (top, line.bottom, column, [*segments, segment])
            else:
                split = split or i > 0
                cells.append((line.top, line.bottom, column, [segment]))
    rows: list[list[list[Segment]]]
    extents: list[float]
    if not split:  # evenly spaced lines: every band is a row
        rows = [
            [
                [s for line in band for s in line.segments if _columns_of(s, separators) == c]
                for c in range(column_count)
            ]
            for band in bands
        ]
    else:
        rows, extents = [], []  # extents: the bottom of each row so far
        for top, bottom, column, segments in sorted(cells, key=lambda cell: -cell[0]):
            if rows and top > extents[-1]:
                rows[-1][column].extend(segments)
                extents[-1] = min(extents[-1], bottom)
            else:
                rows.append([[] for _ in range(column_count)])
                rows[-1][column].extend(segments)
                extents.append(bottom)
    # A table's stream visits each row's cells in turn; text set in columns runs down a column.
    if len(rows) < 2 or switches < len(rows):
        return None
    return Table(order=lines[0].order, rows=rows)


def find_tables(lines: list[Line], spacing: Spacing) -> list[tuple[Table, set[int]]]:
    """Tables on a page, each with the stream positions of the lines it takes."""
    bands = _bands(lines)
    found: list[tuple[Table, set[int]]] = []

    def gap(band: list[Line]) -> float:
        return SEPARATOR * median(line.size for line in band)

    def columnar(band: list[Line]) -> bool:
        return bool(_separators(_band_segments(band), gap(band)))

    i = floor = 0  # floor: the first band after the last table found
    while i < len(bands):
        if not columnar(bands[i]):
            i += 1
            continue
        count = len(_separators(_band_segments(bands[i]), gap(bands[i])))
        segments = _band_segments(bands[i])
        end = last = i
        while end + 1 < len(bands):
            widened = segments + _band_segments(bands[end + 1])
            if len(_separators(widened, gap(bands[i]))) != count:
                break
            segments, end = widened, end + 1
            if columnar(bands[end]):
                last = end
        # Lines after the last row that shares the columns belong to it only as a cell's
        # continuation; before the first, only as the start of a cell.
        while last < end and not spacing.breaks(bands[last][-1], bands[last + 1][0]):
            last += 1
        first = i
        while first > floor:
            above = _band_segments(bands[first - 1])
            widened = _band_segments(bands[first]) + above
            if len(_separators(widened, gap(bands[i]))) != count or spacing.breaks(
                bands[first - 1][0], bands[first][0]
            ):
                break
            first -= 1
        region = bands[first : last + 1]
        table = _table(region, spacing) if sum(map(columnar, region)) >= 2 else None
        if table is not None:
            found.append((table, {line.order for band in region for line in band}))
            i = floor = last + 1
        else:
            i += 1
    return found
