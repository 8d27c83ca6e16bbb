"""HTML pages → :class:`~qa.corpus.structure.Extracted`: headings, paragraphs, list items and
table rows as blocks, with the conventions of :mod:`qa.corpus.structure`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from qa.corpus.structure import (
    Block,
    BlockKind,
    ElementCounter,
    Extracted,
    ReadLimits,
    compose,
    ordinal,
)

_HTML_HIDDEN = frozenset({"script", "style", "noscript", "template"})
_HTML_BLOCKS = frozenset(
    {
        "p",
        "div",
        "li",
        "tr",
        "table",
        "section",
        "article",
        "header",
        "footer",
        "blockquote",
        "pre",
        "ul",
        "ol",
        "dd",
        "dt",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
    }
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_LINE_BREAK = "\0"  # stands for <br> in the text being gathered, where spaces are collapsed


def _block_text(parts: list[str]) -> str:
    """Gathered text as one block: spaces collapsed, a line break only where ``<br>`` was."""
    lines = (re.sub(r"\s+", " ", line).strip() for line in "".join(parts).split(_LINE_BREAK))
    return "\n".join(line for line in lines if line)


class _HtmlBlocks:
    """Blocks of an HTML page, gathered during one walk over its tree (see :func:`_read_html`)."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.heading = 0  # depth of h1-h6 elements open
        self.items: list[str | None] = []  # marker of each open <li>, None once written
        self.lists: list[tuple[str, list[int]]] = []  # ("ul" or the <ol> type, [next number])
        self.list_group = 0
        self.cells: list[str] | None = None  # cells of the open table row
        self.cell_depth = 0
        self.table_group = 0

    def flush(self) -> None:
        """End the block being gathered, unless inside a table cell (a cell is one text)."""
        if self.cell_depth:
            return
        text = _block_text(self.parts)
        self.parts.clear()
        if not text:
            return
        if self.heading:
            self.blocks.append(Block(BlockKind.HEADING, text))
        elif self.items and self.items[-1] is not None:
            self.blocks.append(Block(BlockKind.ITEM, f"{self.items[-1]} {text}", self.list_group))
            self.items[-1] = None
        else:
            self.blocks.append(Block(BlockKind.PARAGRAPH, text))

    def enter(self, name: str, attributes: dict[str, Any]) -> None:
        if self.cell_depth and name in ("td", "th", "tr"):
            self.parts.append(" ")
        if self.cell_depth:
            self.cell_depth += name in ("td", "th")
            return
        if name in _HTML_BLOCKS:
            self.flush()
        if name in _HEADINGS:
            self.heading += 1
        elif name in ("ul", "ol", "menu"):
            kind = str(attributes.get("type") or "1") if name == "ol" else "ul"
            start = str(attributes.get("start", "1"))
            self.lists.append((kind, [int(start) if start.isdigit() else 1]))
            if len(self.lists) == 1:
                self.list_group += 1
        elif name == "li":
            kind, counter = self.lists[-1] if self.lists else ("ul", [1])
            value = str(attributes.get("value", ""))
            if value.isdigit():
                counter[0] = int(value)
            self.items.append("•" if kind == "ul" else ordinal(counter[0], kind) + ".")
            counter[0] += 1
        elif name == "table":
            self.table_group += 1
        elif name == "tr":
            self.cells = []
        elif name in ("td", "th"):
            self.cell_depth = 1

    def leave(self, name: str) -> None:
        if self.cell_depth:
            if name in ("td", "th"):
                self.cell_depth -= 1
            if self.cell_depth:
                self.parts.append(" ")
                return
            if self.cells is None:  # a cell outside any row: a block of its own
                self.flush()
                return
            self.cells.append(_block_text(self.parts).replace("\n", " "))
            self.parts.clear()
            return
        if name in _HTML_BLOCKS:
            self.flush()
        if name in _HEADINGS:
            self.heading -= 1
        elif name in ("ul", "ol", "menu") and self.lists:
            self.lists.pop()
        elif name == "li" and self.items:
            self.items.pop()
        elif name == "tr" and self.cells is not None:
            if any(self.cells):
                self.blocks.append(Block(BlockKind.ROW, " | ".join(self.cells), self.table_group))
            self.cells = None


def read_html(data: bytes, limits: ReadLimits) -> Extracted:
    """An HTML page as blocks: ``h1``-``h6`` headings, list items with their bullet or number,
    table rows with their cells; no script, style or ``<head>`` text.

    The page's elements are counted first by lxml's parser building nothing: BeautifulSoup
    holds 1.3 kB per element (a million took 1.2 GB and 46 s), so a page of tags within the
    size limit could otherwise fill memory. Its text needs no count here: it is smaller than
    the file. Then one walk over the parsed tree with an explicit stack, not by editing the
    tree (``insert_before`` per block is quadratic in bs4: a 170 kB page of 10,000
    paragraphs took 20 s, 100,000 nested ``<div>`` hours), and not by recursion.
    """
    from bs4 import BeautifulSoup, CData, NavigableString, Tag
    from lxml import etree

    counting = etree.HTMLParser(target=ElementCounter(limits, "HTML page", count_text=False))
    counting.feed(data)
    counting.close()
    soup = BeautifulSoup(data, "lxml")
    head = soup.head
    title: str | None = None
    page = _HtmlBlocks()
    # (children still to visit, the element they belong to, whether their text is shown)
    stack: list[tuple[Iterator[Any], str | None, bool]] = [(iter(soup.contents), None, True)]
    while stack:
        children, element, shown = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if element is not None:
                page.leave(element)
        elif isinstance(child, NavigableString):
            if shown and type(child) in (NavigableString, CData):
                page.parts.append(str(child))
        elif isinstance(child, Tag) and child.name not in _HTML_HIDDEN:
            if child.name == "title" and title is None:
                title = child.get_text(" ", strip=True)
            visible = shown and child is not head
            if child.name == "br":
                if visible:
                    page.parts.append(_LINE_BREAK)
                continue
            if visible:
                page.enter(child.name, child.attrs)
            stack.append((iter(child.contents), child.name if visible else None, visible))
    page.flush()
    composed = compose(page.blocks)
    return Extracted(composed.text, title, headings=composed.headings)
