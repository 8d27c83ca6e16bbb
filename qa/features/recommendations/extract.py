"""Recommendation items read from a document's own structure (pure), never its wording on a topic.

* a section whose heading *is* a recommendation heading ("Recommendations",
  "What needs to improve?", "Areas for improvement", "Areas for development"):
  its first list, after any lead-in text;
* anywhere, a lead-in line ending in a colon that announces recommendations or
  improvements ("Inspectors made four recommendations for improvement:", "lists four
  areas which also need improvement:"): the list right after it, in the same section.

A list is a run of items of one style (bullets, ``1.``, ``(a)``, ``(iv)``, or numbered
paragraphs ``2.1``). Items addressed to a decision-making body ("The Cabinet is asked
to: Note the findings ...") are kind ``"decision"`` and are not tracked. The same item
printed twice in one document (a summary and an appendix) is one record citing both places.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from qa.features.recommendations.records import DECISION, IMPROVEMENT, Place, Recommendation
from qa.text import leading_number, parse_item
from qa.types import Chunk, Document, page_span

_HEADING = re.compile(
    r"(?:(?:section|part|chapter)\s+)?(?:[a-z]|\d+(?:\.\d+)*)?[.):]?\s*(?:[-–:]\s*)?"
    r"(?:recommendations?(?:\s+for\s+(?:improvement|development|action))?"
    r"|what\s+(?:needs|does\s+.{1,40}\s+need)\s+to\s+(?:improve|be\s+better|change)"
    r"|areas?\s+(?:for|of|requiring|needing)\s+(?:further\s+)?(?:improvement|development)"
    r"|areas?\s+(?:to|that\s+need\s+to|which\s+need\s+to)\s+improve)",
    re.IGNORECASE,
)
_LEAD_IN_CUE = re.compile(
    r"\b(?:recommend\w*|improv\w*|develop\w*|needs?\s+to|should|must)\b", re.IGNORECASE
)
_PROGRESS_LEAD_IN = re.compile(
    r"\b(?:progress|improved|achieved|addressed|met|completed)\b", re.IGNORECASE
)
_DECISION_LEAD_IN = re.compile(
    r"\b(?:is|are|be)\s+(?:asked|recommended|invited|requested)\s+to\b"
    r"|\bresolves?\s+to\b|\bdecisions?\b",
    re.IGNORECASE,
)
_PROCEDURAL_VERB = re.compile(
    r"^(?:note|agree|approve|endorse|delegate|authori[sz]e|adopt|receive|ratify|comment)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Item:
    style: str
    marker: str | None
    paragraph: str | None
    start: int
    end: int


@dataclass(frozen=True)
class _Section:
    name: str | None
    start: int
    end: int


def _sections(chunks: Sequence[Chunk]) -> list[_Section]:
    """Runs of consecutive chunks under one heading; each run starts at its heading line."""
    sections: list[_Section] = []
    for chunk in sorted(chunks, key=lambda c: c.start):
        if sections and sections[-1].name == chunk.section:
            last = sections[-1]
            sections[-1] = _Section(last.name, last.start, max(last.end, chunk.end))
        else:
            sections.append(_Section(chunk.section, chunk.start, chunk.end))
    return sections


def lines_of(text: str, start: int, end: int) -> list[_Line]:
    lines, position = [], start
    for line in text[start:end].split("\n"):
        lines.append(_Line(position, position + len(line), line))
        position += len(line) + 1
    return lines


def _parse_item(line: _Line) -> _Item | None:
    """The list item a line starts, if any."""
    item = parse_item(line.text)
    if item is None:
        return None
    start = line.start + item.text_start
    return _Item(item.style, item.marker, item.paragraph, start, line.start + len(line.text))


def _list_after(lines: list[_Line], first: int) -> list[_Item]:
    """The run of items of one style starting at ``lines[first]`` (blank lines between items
    allowed; an unmarked line right under an item continues it)."""
    items: list[_Item] = []
    blank = False
    for line in lines[first:]:
        if not line.text.strip():
            blank = True
            continue
        item = _parse_item(line)
        if item is not None and (not items or item.style == items[0].style):
            items.append(item)
        elif item is None and items and not blank:
            last = items[-1]
            items[-1] = _Item(last.style, last.marker, last.paragraph, last.start, line.end)
        else:
            break
        blank = False
    return items


def _first_content(lines: list[_Line], after: int) -> int | None:
    for i in range(after, len(lines)):
        if lines[i].text.strip():
            return i
    return None


def _is_recommendation_heading(name: str | None) -> bool:
    return name is not None and _HEADING.fullmatch(name.strip().rstrip("?:. ")) is not None


def _lists(document: Document, section: _Section) -> list[tuple[_Line | None, list[_Item]]]:
    """(lead-in line, items) of every recommendation list in one section."""
    lines = lines_of(document.text, section.start, section.end)
    found: list[tuple[_Line | None, list[_Item]]] = []
    if _is_recommendation_heading(section.name):
        lead_in: _Line | None = None
        position = _first_content(lines, 0)
        position = _first_content(lines, position + 1) if position is not None else None
        while position is not None:  # lead-in text before the first list
            items = _list_after(lines, position)
            if items:
                found.append((lead_in, items))
                break
            if lines[position].text.rstrip().endswith(":"):
                lead_in = lines[position]
            position = _first_content(lines, position + 1)
    for i, line in enumerate(lines):
        stripped = line.text.strip()
        if (
            stripped.endswith(":")
            and _LEAD_IN_CUE.search(stripped)
            and not _PROGRESS_LEAD_IN.search(stripped)
        ):
            following = _first_content(lines, i + 1)
            items = _list_after(lines, following) if following is not None else []
            if items and all(items[0].start != other[0].start for _, other in found):
                found.append((line, items))
    return found


def _kind(lead_in: _Line | None, texts: list[str]) -> str:
    if lead_in is not None and _DECISION_LEAD_IN.search(lead_in.text):
        return DECISION
    procedural = sum(bool(_PROCEDURAL_VERB.match(text)) for text in texts)
    return DECISION if texts and procedural * 2 >= len(texts) else IMPROVEMENT


def _without_joiner(printed: str) -> str:
    """An item without the ``;`` or ``; and`` that joins it to the next item."""
    return re.sub(r"\s*[;,]\s*(?:and|or)?\s*$", "", printed)


def _same_item_key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def extract_recommendations(document: Document, chunks: Sequence[Chunk]) -> list[Recommendation]:
    """The recommendation items of one document, in reading order, from its chunks' sections."""
    records: dict[str, Recommendation] = {}
    for section in _sections([c for c in chunks if c.source == document.source]):
        for lead_in, items in _lists(document, section):
            printed = [_without_joiner(document.text[i.start : i.end]) for i in items]
            texts = [" ".join(p.split()) for p in printed]
            kind = _kind(lead_in, texts)
            lead_number = leading_number(lead_in.text) if lead_in is not None else None
            for position, (item, text) in enumerate(zip(items, texts, strict=True), start=1):
                marker = item.marker or (None if item.style == "paragraph" else str(position))
                end = item.start + len(printed[position - 1])
                place = Place(
                    section.name,
                    item.paragraph or lead_number,
                    marker,
                    item.start,
                    end,
                    *page_span(document, item.start, end),
                )
                key = _same_item_key(text)
                if key in records:
                    records[key] = replace(records[key], places=(*records[key].places, place))
                else:
                    records[key] = Recommendation(
                        document.source, document.title, document.date, text, kind, (place,)
                    )
    return sorted(records.values(), key=lambda r: r.places[0].start)
