"""Document → Chunks, following the document's own structure (pure).

Reports are written in numbered paragraphs (``3.5``, ``4.16``, ``12.``) under
headings in capitals or title case, with bulleted or numbered lists introduced
by a sentence ending in a colon. A chunk is one or more whole *units* (a
paragraph with its list and continuation) of one section; only a unit longer
than the chunk size is split, at sentence ends, with overlap. Every chunk keeps
its offsets, so ``chunk.text == document.text[chunk.start:chunk.end]``.

Example::

    chunks = chunk_document(document, size=1000, overlap=150)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.text import (
    BULLET,
    PARAGRAPH_NUMBER,
    SENTENCE_BREAK,
    is_table_row,
    mostly_capitals,
    normalise_space,
)
from qa.types import Chunk, Document, page_span

# 2: a heading no longer splits a paragraph that fits; cuts and overlaps fall at sentences
# 3: headings from the readers' layout, " | " table rows, pages
CHUNKER_VERSION = 3

_NUMBERED = re.compile(
    rf"^[ \t]*(?:{BULLET}[ \t]*)?(?P<number>{PARAGRAPH_NUMBER})(?=[ \t]|$)[ \t]*(?P<rest>.*)$"
)
_BULLET = re.compile(rf"^[ \t]*(?:{BULLET}|\(?[a-z]\)|\(?[ivx]+\))(?:[ \t]+|(?=[A-Z]))")
_MARKDOWN_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+\S")
_SENTENCE_END = re.compile(r"[.:;?!)\"'”’]$")
_MAX_HEADING_WORDS = 12


@dataclass
class _Block:
    """Consecutive non-blank lines that belong together."""

    start: int
    end: int
    text: str
    kind: str = "text"  # text | numbered | bullet | heading | table | number
    number: str | None = None


@dataclass
class _Unit:
    start: int
    end: int
    section: str | None
    number: str | None
    heading: bool = False
    blocks: list[_Block] = field(default_factory=list)


def _is_caps_heading(text: str) -> bool:
    words = re.findall(r"[^\W\d_]{3,}", text)
    return bool(words) and len(text) <= 100 and not is_table_row(text) and mostly_capitals(text)


def _lines(text: str) -> list[tuple[int, int]]:
    spans, position = [], 0
    for line in text.split("\n"):
        spans.append((position, position + len(line)))
        position += len(line) + 1
    return spans


def _starts_block(line: str, previous: str) -> bool:
    """Whether ``line`` begins a new paragraph, item or heading inside a run of lines."""
    if _BULLET.match(line) or _MARKDOWN_HEADING.match(line):
        return True
    if is_table_row(line) and not is_table_row(previous):
        return True
    if _NUMBERED.match(line) or _is_caps_heading(line.strip()):
        stripped = previous.strip()
        return not stripped or bool(_SENTENCE_END.search(stripped)) or _is_caps_heading(stripped)
    return False


def _blocks(text: str, headings: frozenset[int] = frozenset()) -> list[_Block]:
    """Runs of lines that belong together; a line starting at an offset in ``headings`` (the
    layout marked it: font size, a heading style, ``<h2>``) is a heading block of its own."""
    blocks: list[_Block] = []
    current: list[tuple[int, int]] = []

    def close() -> None:
        if current:
            start, end = current[0][0], current[-1][1]
            blocks.append(_Block(start, end, text[start:end]))
            current.clear()

    previous = ""
    for start, end in _lines(text):
        line = text[start:end]
        if start in headings:
            close()
            blocks.append(_Block(start, end, line, kind="heading"))
        elif not line.strip():
            close()
        else:
            if current and _starts_block(line, previous):
                close()
            current.append((start, end))
        previous = line
    close()
    for block in blocks:
        if block.kind != "heading":
            _classify(block)
    return blocks


def _classify(block: _Block) -> None:
    first_line = block.text.split("\n", 1)[0].strip()
    single_line = "\n" not in block.text.strip()
    numbered = _NUMBERED.match(first_line)
    if _MARKDOWN_HEADING.match(first_line) and single_line:
        block.kind = "heading"
    elif numbered and not numbered["rest"].strip() and single_line:
        block.kind, block.number = "number", numbered["number"]
    elif numbered and single_line and _is_caps_heading(numbered["rest"]):
        block.kind, block.number = "heading", numbered["number"]
    elif numbered:
        block.kind, block.number = "numbered", numbered["number"]
    elif _BULLET.match(first_line):
        block.kind = "bullet"
    elif all(is_table_row(line) for line in block.text.strip().split("\n")):
        block.kind = "table"
    elif single_line and _is_caps_heading(first_line):
        block.kind = "heading"


def _promote_title_headings(blocks: list[_Block]) -> None:
    """A short line standing alone before a paragraph is a heading ("What needs to improve?")."""
    for i, block in enumerate(blocks[:-1]):
        line = block.text.strip()
        following = blocks[i + 1]
        if (
            block.kind == "text"
            and "\n" not in line
            and len(line.split()) <= _MAX_HEADING_WORDS + (4 if following.kind == "numbered" else 0)
            and not re.search(r"[.,;:]$", line)
            and line[:1].isupper()
            and following.kind != "table"
            and (following.kind in ("numbered", "bullet") or len(following.text.split()) >= 15)
        ):
            block.kind = "heading"


def _heading_text(block: _Block) -> str:
    return normalise_space(block.text.strip().lstrip("#")).rstrip(":")


def _ends_with_colon(unit: _Unit) -> bool:
    return bool(unit.blocks) and unit.blocks[-1].text.rstrip().endswith((":", ";"))


def _is_list_number(number: str | None) -> bool:
    """``1.`` or ``2`` can number a list item; ``4.16`` is always a paragraph number."""
    return bool(number) and "." not in number.rstrip(".")  # type: ignore[union-attr]


def _next_number(previous: str | None, number: str | None) -> bool:
    if not previous or not number:
        return False
    try:
        return int(number.rstrip(".")) == int(previous.rstrip(".")) + 1
    except ValueError:
        return False


def _loose_number(block: _Block, section: str | None) -> _Unit:
    """A bare number that numbers nothing: kept as text so that no text is lost."""
    return _Unit(block.start, block.end, section, None, blocks=[block])


def _units(text: str, headings: frozenset[int] = frozenset()) -> list[_Unit]:
    blocks = _blocks(text, headings)
    _promote_title_headings(blocks)
    units: list[_Unit] = []
    section: str | None = None
    pending_number: _Block | None = None
    last_list_number: str | None = None
    for block in blocks:
        if block.kind == "number":
            if pending_number is not None:  # two bare numbers in a row: the first is kept as text
                units.append(_loose_number(pending_number, section))
            pending_number = block
            continue
        start = pending_number.start if pending_number else block.start
        number = block.number or (pending_number.number if pending_number else None)
        pending_number = None
        if block.kind == "heading":
            heading = _heading_text(block)
            if number and not heading.startswith(number):
                heading = f"{number} {heading}"
            section = heading
            units.append(_Unit(start, block.end, section, None, heading=True, blocks=[block]))
            last_list_number = None
            continue
        current = units[-1] if units and not units[-1].heading else None
        joins = current is not None and (
            block.kind == "bullet"
            or block.text.lstrip()[:1].islower()
            or (
                block.kind == "numbered"
                and _is_list_number(number)
                and (_ends_with_colon(current) or _next_number(last_list_number, number))
            )
            or (block.kind == "table" and current.blocks[-1].kind == "table")
        )
        if joins and current is not None:
            current.end = block.end
            current.blocks.append(block)
            last_list_number = number if block.kind == "numbered" else last_list_number
            continue
        last_list_number = None
        units.append(
            _Unit(
                start,
                block.end,
                section,
                number if block.kind == "numbered" else None,
                blocks=[block],
            )
        )
    if pending_number is not None:  # a number ending the text (a page number) is text too
        units.append(_loose_number(pending_number, section))
    return units


def _split_long(text: str, start: int, end: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """Spans of at most ``size`` characters covering ``text[start:end]``, cut at sentence ends."""
    spans: list[tuple[int, int]] = []
    position = start
    while end - position > size:
        window = text[position : position + size]
        cuts = [m.start() for m in SENTENCE_BREAK.finditer(window) if m.start() > size // 2]
        if not cuts:
            cuts = [m.start() for m in re.finditer(r"\s+", window) if m.start() > size // 2]
        cut = position + (cuts[-1] if cuts else size)
        spans.append((position, cut))
        back = text[max(position, cut - overlap) : cut]
        restart = SENTENCE_BREAK.search(back) or re.search(r"\s+", back)  # a sentence start if any
        position = cut - len(back) + restart.end() if overlap and restart else cut
        while position < end and text[position].isspace():
            position += 1
    spans.append((position, end))
    return spans


def _paragraph_label(numbers: list[str]) -> str | None:
    if not numbers:
        return None
    return numbers[0] if len(numbers) == 1 else f"{numbers[0]}–{numbers[-1]}"


def chunk_document(document: Document, size: int = 1000, overlap: int = 150) -> list[Chunk]:
    """Chunks of whole paragraphs, never mixing sections, each at most ``size`` characters
    unless a single paragraph is longer, in which case it is split with ``overlap``."""
    text = document.text
    chunks: list[Chunk] = []
    group: list[_Unit] = []

    def emit() -> None:
        if not group:
            return
        start, end = group[0].start, group[-1].end
        numbers = [u.number for u in group if u.number]
        section = group[-1].section
        for piece_start, piece_end in _split_long(text, start, end, size, overlap):
            piece = text[piece_start:piece_end]
            stripped_start = piece_start + (len(piece) - len(piece.lstrip()))
            stripped_end = piece_end - (len(piece) - len(piece.rstrip()))
            if stripped_end > stripped_start:
                page, page_end = page_span(document, stripped_start, stripped_end)
                chunks.append(
                    Chunk(
                        source=document.source,
                        start=stripped_start,
                        end=stripped_end,
                        text=text[stripped_start:stripped_end],
                        section=section,
                        paragraph=_paragraph_label(numbers),
                        page=page,
                        page_end=page_end,
                    )
                )
        group.clear()

    for unit in _units(text, frozenset(start for start, _ in document.headings)):
        if group and (
            unit.heading or unit.section != group[-1].section or unit.end - group[0].start > size
        ):
            # A heading stays with its first paragraph, unless together they would split a
            # paragraph that fits in a chunk on its own.
            last = group[-1]
            keeps_heading = last.heading and not unit.heading and unit.section == last.section
            if not keeps_heading or unit.end - unit.start <= size:
                emit()
        group.append(unit)
    emit()
    return chunks
