"""Word documents (.docx) → :class:`~qa.corpus.structure.Extracted`: headings, paragraphs,
list items with the bullet or number Word prints, and table rows, with the conventions of
:mod:`qa.corpus.structure`."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from qa.corpus.structure import (
    Block,
    BlockKind,
    DocumentError,
    ElementCounter,
    Extracted,
    ReadLimits,
    compose,
    ordinal,
    printed_bullet,
)

_DOCX_MAX_EXPANSION = 200  # uncompressed / compressed size above this is treated as a zip bomb


def _check_zip(path: Path, limits: ReadLimits) -> None:
    """Refuse a DOCX whose members expand too much, or whose XML holds more than the limits.

    The sizes an archive states are checked first, but they can be forged to look small, and
    honest ones say nothing of what parsing costs: 3 MB of DOCX inflated to 390 MB of XML
    within both checks, which python-docx then parsed into 5.8 GB over five minutes. So each
    member is also inflated here in 1 MB blocks (where zipfile stops at the stated size and
    fails the CRC), and each XML part, all of which python-docx parses, goes through a
    parser that builds nothing and counts its elements and characters against ``limits``.
    """
    from lxml import etree

    counter = ElementCounter(limits, "DOCX", count_text=True)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            expanded = sum(m.file_size for m in members)
            packed = max(1, sum(m.compress_size for m in members))
            if expanded > limits.max_bytes * 4 or expanded / packed > _DOCX_MAX_EXPANSION:
                raise DocumentError(
                    f"DOCX expands to {expanded:,} bytes from {packed:,}: refused as a possible zip bomb"
                )
            for member in members:
                parser = (
                    etree.XMLParser(target=counter, resolve_entities=False, no_network=True)
                    if member.filename.lower().endswith((".xml", ".rels"))
                    else None
                )
                with archive.open(member) as stream:
                    while block := stream.read(1 << 20):
                        if parser is not None:
                            parser.feed(block)
                if parser is not None:
                    parser.close()
    except DocumentError:
        raise
    except zipfile.BadZipFile as error:
        raise DocumentError(f"corrupt DOCX (not a valid zip archive: {error})") from error
    except Exception as error:  # zlib.error, XMLSyntaxError, an encrypted member, ...
        raise DocumentError(f"corrupt DOCX ({error})") from error


class _WordNumbering:
    """The bullets and numbers Word prints before list paragraphs, which are not in their text.

    A paragraph is a list item when it, or its style, has a numbering reference (``w:numPr``);
    the numbering definitions give each level's format ("bullet" with its symbol, "decimal",
    "lowerLetter", ...) and pattern ("%1.", "%1.%2"). Counters run per list and reset the
    levels below the one that counts.
    """

    def __init__(self, document: Any) -> None:
        from docx.oxml.ns import qn

        self._qn = qn
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError):  # no numbering part: no lists
            numbering = None
        self._levels: dict[tuple[str, str], tuple[str, str, int]] = {}
        if numbering is not None:
            abstract = {
                a.get(qn("w:abstractNumId")): a for a in numbering.findall(qn("w:abstractNum"))
            }
            for num in numbering.findall(qn("w:num")):
                reference = num.find(qn("w:abstractNumId"))
                definition = (
                    abstract.get(reference.get(qn("w:val"))) if reference is not None else None
                )
                for level in definition.findall(qn("w:lvl")) if definition is not None else ():
                    self._levels[(num.get(qn("w:numId")), level.get(qn("w:ilvl")))] = (
                        self._value(level, "w:numFmt") or "decimal",
                        self._value(level, "w:lvlText") or "",
                        int(self._value(level, "w:start") or 1),
                    )
        self._counters: dict[str, list[int]] = {}

    def _value(self, element: Any, tag: str) -> str | None:
        child = element.find(self._qn(tag))
        return child.get(self._qn("w:val")) if child is not None else None

    def _reference(self, paragraph: Any) -> tuple[str, str] | None:
        """The paragraph's (list id, level), from itself or its style's chain."""
        holders = [paragraph._p.pPr]
        style = paragraph.style
        while style is not None:
            holders.append(style.element.pPr)
            style = style.base_style
        for properties in holders:
            numbering = properties.find(self._qn("w:numPr")) if properties is not None else None
            if numbering is not None:
                list_id = self._value(numbering, "w:numId")
                if list_id in (None, "0"):  # numbering switched off
                    return None
                return list_id, self._value(numbering, "w:ilvl") or "0"
        return None

    def marker(self, paragraph: Any) -> str | None:
        """The bullet or number printed before ``paragraph``, or None if it is no list item."""
        reference = self._reference(paragraph)
        if reference is None or reference not in self._levels:
            return None
        list_id, level = reference
        style, pattern, start = self._levels[reference]
        if style == "bullet":
            return printed_bullet(pattern[:1]) if pattern.strip() else "•"
        depth = int(level)
        counters = self._counters.setdefault(list_id, [])
        while len(counters) <= depth:
            counters.append(self._levels.get((list_id, str(len(counters))), ("", "", 1))[2] - 1)
        counters[depth] += 1
        for deeper in range(depth + 1, len(counters)):
            counters[deeper] = self._levels.get((list_id, str(deeper)), ("", "", 1))[2] - 1
        text = re.sub(
            r"%(\d)",
            lambda m: ordinal(
                counters[int(m[1]) - 1] if int(m[1]) - 1 < len(counters) else start,
                self._levels.get((list_id, str(int(m[1]) - 1)), (style, "", 1))[0],
            ),
            pattern,
        )
        return text.strip() or None


def _docx_text(text: str) -> str:
    """A paragraph's text on one line, keeping only its manual line breaks."""
    lines = (re.sub(r"\s+", " ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def read_docx(path: Path, limits: ReadLimits) -> Extracted:
    """A DOCX as blocks: Heading and Title styles as headings, list paragraphs with the bullet
    or number Word prints before them, table rows with their cells."""
    _check_zip(path, limits)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except Exception as error:  # python-docx raises several unrelated types for bad files
        raise DocumentError(f"corrupt DOCX ({error})") from error
    numbering = _WordNumbering(document)
    blocks: list[Block] = []
    group = 0
    for content in document.iter_inner_content():
        if isinstance(content, Paragraph):
            text = _docx_text(content.text)
            if not text:
                continue
            style = (content.style.name if content.style is not None else "") or ""
            marker = numbering.marker(content)
            if re.match(r"(Heading \d|Title)\b", style):
                blocks.append(Block(BlockKind.HEADING, text))
            elif marker is not None:
                if not blocks or blocks[-1].kind != BlockKind.ITEM:
                    group += 1
                blocks.append(Block(BlockKind.ITEM, f"{marker} {text}", group))
            else:
                blocks.append(Block(BlockKind.PARAGRAPH, text))
        elif isinstance(content, Table):
            group += 1
            for row in content.rows:
                cells = list({id(cell._tc): cell for cell in row.cells}.values())  # merged once
                texts = [_docx_text(cell.text).replace("\n", " ") for cell in cells]
                if any(texts):
                    blocks.append(Block(BlockKind.ROW, " | ".join(texts), group))
    composed = compose(blocks)
    return Extracted(
        composed.text, document.core_properties.title or None, headings=composed.headings
    )
