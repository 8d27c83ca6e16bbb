"""The printed page beside a PDF passage: the view opens where the passage is on the page.

A real PDF is drawn with reportlab (tests/conftest.py ``make_pdf``), one line every 20
points from the top; the passage's position is checked against where the line was drawn.
"""

from __future__ import annotations

from pathlib import Path

from qa.app.source import passage_top
from qa.corpus.pdf import Box, passage_boxes, read_pdf
from tests.conftest import make_pdf

A4_HEIGHT = 841.89
LINES = [f"Paragraph {n} of the inspection findings about children in care." for n in range(20)]


def test_the_passage_top_is_where_its_first_line_is_printed(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "report.pdf", [LINES[:10], LINES[10:]])
    text = read_pdf(path, None).extracted.text
    start = text.index(LINES[7])
    end = text.index(LINES[12]) + len(LINES[12])
    first = passage_top(passage_boxes(path, 1, start, end), A4_HEIGHT)
    baseline = 750 - 20 * 7  # make_pdf's eighth line, in points from the bottom
    assert first is not None and abs(first - (1 - baseline / A4_HEIGHT)) < 0.02
    second = passage_top(passage_boxes(path, 2, start, end), A4_HEIGHT)
    assert second is not None and second < 0.15, "the rest starts at the top of page 2"


def test_a_page_without_the_passage_has_no_passage_top() -> None:
    assert passage_top([], A4_HEIGHT) is None
    assert passage_top([Box(72, 600, 300, 612)], 0) is None


def test_the_highest_box_of_the_passage_sets_its_top() -> None:
    boxes = [Box(72, 600, 300, 612), Box(72, 620, 300, 632), Box(320, 610, 500, 622)]
    assert passage_top(boxes, 800) == 1 - 632 / 800
