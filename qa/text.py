"""Text structure shared by every stage that reads text (pure): bullets and list items,
numbered paragraphs, capitalised headings, sentences, words.

Chunking, the extractive answer and recommendation extraction must agree on what a list
item or a sentence is, or a passage cut at a "sentence" would quote half of one: so each
of these is defined once, here.

Example::

    item = parse_item("◼ Services to children out of hours.")
    item.style, item.text_start          # ("bullet", 2)
    sentence_spans("1.1 The panel met. It approved 14 adopters.")
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Characters that print as a list bullet when they begin a line, as printed and as extracted
# from PDF, DOCX and HTML ("\uf0b7" is the Symbol font's bullet in Word exports). The dashes
# and "*" are bullets only when set apart from the text (a PDF's layout, a space after them).
SYMBOL_BULLETS = "•◼▪■●◦○◆◇►▸▶➢✓✔·§\uf0b7"
DASH_BULLETS = "–—*-"  # "-" last: not a range in a character class
BULLETS = SYMBOL_BULLETS + DASH_BULLETS
BULLET = f"[{BULLETS}]"
# A paragraph number as printed in reports: "3", "3.5", "4.16", "12.", "1.2.3".
PARAGRAPH_NUMBER = r"\d{1,2}(?:\.\d{1,2}){0,3}\.?"

# A list item at the start of a line, by style. "(i)" is read as a letter: one style.
_ITEM = re.compile(
    rf"^[ \t]*(?:"
    rf"(?:{BULLET}[ \t]*)?(?P<paragraph>\d{{1,2}}(?:\.\d{{1,2}}){{1,3}}\.?)[ \t]+"
    rf"|(?P<bullet>{BULLET})[ \t]*"
    rf"|(?P<number>\d{{1,2}})[.)][ \t]+"
    rf"|\((?P<letter>[a-z])\)[ \t]*|(?P<letter2>[a-z])\)[ \t]+"
    rf"|\((?P<roman>[ivx]{{1,4}})\)[ \t]*"
    rf")(?P<text>\S.*)$"
)
# A sentence end, or the line break before a list item: where a long paragraph may be cut
# without quoting half a sentence. Cheap enough to run over every paragraph at build time.
SENTENCE_BREAK = re.compile(r"(?<=[.?!])[\"'”’)]?\s+(?=[\"'“‘(]?[A-Z0-9])|\n\s*(?=[-–•▪◼][ \t])")
# Letters only: what counts as a word when judging whether a unit says something.
WORD = re.compile(r"[^\W\d_]+")
_ANY_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class ListItem:
    """A list item opening a line: ``style`` is bullet, number, letter or paragraph;
    ``marker`` the printed number or letter ("2", "b"; None for bullets and paragraphs);
    ``paragraph`` the paragraph number ("2.1") when numbered paragraphs form the list;
    ``text_start`` where the item's words begin in the line."""

    style: str
    marker: str | None
    paragraph: str | None
    text_start: int


def parse_item(line: str) -> ListItem | None:
    """The list item ``line`` opens, if any (a line ending in a colon introduces a list)."""
    match = _ITEM.match(line)
    if match is None or line.rstrip().endswith(":"):
        return None
    group = next(
        g for g in ("paragraph", "bullet", "number", "letter", "letter2", "roman") if match[g]
    )
    style = {"letter2": "letter", "roman": "letter"}.get(group, group)
    marker = None if style in ("bullet", "paragraph") else match[group]
    paragraph = match[group] if style == "paragraph" else None
    return ListItem(style, marker, paragraph, match.start("text"))


def leading_number(line: str) -> str | None:
    """The paragraph or list number opening ``line`` ("4.16", "2"), if any."""
    match = _ITEM.match(line)
    return (match["paragraph"] or match["number"]) if match else None


def text_start(line: str) -> int:
    """Where a line's words start, after any bullet, list number or paragraph number."""
    match = _ITEM.match(line.split("\n", 1)[0])
    return match.start("text") if match else len(line) - len(line.lstrip())


def is_table_row(line: str) -> bool:
    """A row of a table: cells separated by tabs (text exports) or " | " (the readers'
    convention for PDF, DOCX and HTML tables). A row is one unit to search and to quote."""
    return "\t" in line or " | " in line


def mostly_capitals(text: str) -> bool:
    """At least 80% of the letters are capitals: a heading or a banner ("AREAS FOR
    IMPROVEMENT"), which names a topic but answers nothing."""
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and sum(ch.isupper() for ch in letters) >= 0.8 * len(letters)


def normalise_space(text: str) -> str:
    """Runs of whitespace as one space, ends trimmed: how quotes are compared with passages."""
    return _SPACE.sub(" ", text).strip()


def shingles(text: str, size: int = 4) -> frozenset[tuple[str, ...]]:
    """The word ``size``-grams of ``text``, lower-cased: what two passages share when one
    repeats the other."""
    words = _ANY_WORD.findall(text.lower())
    return frozenset(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


# --- sentences ---------------------------------------------------------------------------------

_MIN_WORDS = 3
_WRAPPED_LINE_LENGTH = 60
_QUOTE_BULLETS = BULLETS.replace("*", "").replace("-", "") + ">-"  # ">": e-mail quotes
# Bullets, list and paragraph numbers ("4.12", "1.", "(a)") and markup tags around a sentence
# are not part of it. A dotted number counts only before a capital, so "22.2 million" stays.
_MARKER = re.compile(
    rf"""[\s{_QUOTE_BULLETS}]+ | \*(?=[ \t]) | </?[a-z][a-z0-9]*>
    | (?:\d{{1,2}}(?:\.\d{{1,2}})+\.?|\d{{1,2}}\.)(?=[ \t]+[A-Z"'“‘(*])
    | \(?(?:\d{{1,2}}|[a-z]|[ivx]{{1,4}})\)(?=[ \t])
    """,
    re.VERBOSE,
)
_TRAILING_TAG = re.compile(r"\s*</?[a-z][a-z0-9]*>$")
_LIST_LINE = re.compile(
    rf"[ \t]*(?:[*{_QUOTE_BULLETS}]|\d{{1,2}}(?:\.\d{{1,2}})*\.?[ \t]|\(?(?:[a-z]|[ivx]{{1,4}})\)[ \t])"
)
# What may stand before a list item on its line: a bullet or a one-level number ("2.", "b)").
_ITEM_PREFIX = re.compile(
    rf"[ \t]*(?:[*{_QUOTE_BULLETS}][ \t]*|\(?(?:\d{{1,2}}|[a-z]|[ivx]{{1,4}})[.)][ \t]*)?"
)
_MAX_ITEM_LENGTH = 300
_MAX_ITEMS = 12
# A sentence introduces the list after it when it ends in a colon, or, before bulleted items,
# when it stops on a word no sentence ends with ("... priority for children and young people
# to." above "- make Croydon safer"): a lead-in whose colon was lost in the layout.
_DANGLING_END = re.compile(
    r"\b(?:to|of|for|and|or|the|a|an|by|with|on|in|that|are|were|is|was|include|includes"
    r"|including|follows|following|below)\.$",
    re.IGNORECASE,
)
_BULLET = re.compile(rf"[ \t]*[*{_QUOTE_BULLETS}]")


@lru_cache(maxsize=1)
def _british_english() -> Any:
    """pysbd's English rules plus abbreviations common in UK public documents ("Cllr.", "para.")."""
    from pysbd.lang.english import English

    class BritishEnglish(English):
        class Abbreviation(English.Abbreviation):
            ABBREVIATIONS = (*English.Abbreviation.ABBREVIATIONS, "cllr", "cllrs", "para", "paras")
            PREPOSITIVE_ABBREVIATIONS = (
                *English.Abbreviation.PREPOSITIVE_ABBREVIATIONS,
                "cllr",
                "cllrs",
            )
            NUMBER_ABBREVIATIONS = (*English.Abbreviation.NUMBER_ABBREVIATIONS, "para", "paras")

    return BritishEnglish


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without surrounding whitespace, bullets, paragraph numbers and markup tags."""
    while start < end and (marker := _MARKER.match(text, start, end)) and marker.end() > start:
        start = marker.end()
    while end > start and (tag := _TRAILING_TAG.search(text, start, end)):
        end = tag.start()
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def says_something(text: str) -> bool:
    """A unit that can answer something: not a heading, not a one- or two-word table cell."""
    return len(WORD.findall(text)) >= _MIN_WORDS and not mostly_capitals(text)


def _continues(line: str, following: str) -> bool:
    """Whether the line break between ``line`` and ``following`` falls inside a sentence:
    the line stops without punctuation and the next one is no list item or table row, but
    carries on in lower case or follows a line long enough to have been wrapped."""
    stripped = line.rstrip()
    return (
        bool(stripped)
        and bool(following.strip())
        and not stripped.endswith((".", "!", "?", ":", ";"))
        and not is_table_row(line)
        and not is_table_row(following)
        and not _LIST_LINE.match(following)
        and (following.lstrip()[:1].islower() or len(stripped) >= _WRAPPED_LINE_LENGTH)
    )


def _unwrapped(text: str) -> str:
    """``text`` with the line breaks inside sentences turned into spaces (same length)."""
    lines = text.split("\n")
    pieces = [lines[0]]
    for line, following in itertools.pairwise(lines):
        pieces.append((" " if _continues(line, following) else "\n") + following)
    return "".join(pieces)


@lru_cache(maxsize=512)
def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) offsets in ``text`` of its sentences that say something, in order.

    pysbd finds sentence ends; a line break ends a unit too unless the sentence
    wraps onto the next line, so a list item or table row without punctuation is
    one unit. Spans exclude bullets and paragraph numbers, so ``text[start:end]``
    is the sentence exactly as printed. A passage that begins in lower case begins
    mid-sentence: that fragment is left out.
    """
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    segmenter.language_module = _british_english()
    unwrapped = _unwrapped(text)  # same length, so pysbd's offsets are offsets in ``text``
    spans: list[tuple[int, int]] = []
    position = 0
    for piece in segmenter.segment(unwrapped):
        if piece.start < position:  # pysbd lost its place; never cite an overlapping span
            continue
        position = piece.end
        for line in re.finditer(r"[^\n]+", unwrapped[piece.start : piece.end]):
            start, end = _trimmed(text, piece.start + line.start(), piece.start + line.end())
            opening = not text[:start].strip() and text[start : start + 1].islower()
            if says_something(text[start:end]) and not opening:
                spans.append((start, end))
    return tuple(spans)


def _is_list_item(text: str, start: int, end: int) -> bool:
    """A short unit alone on its line(s), after at most a bullet or a one-level list number."""
    line_start = text.rfind("\n", 0, start) + 1
    return end - start <= _MAX_ITEM_LENGTH and bool(_ITEM_PREFIX.fullmatch(text, line_start, start))


def _bulleted(text: str, start: int) -> bool:
    """Whether the line holding ``start`` begins with a bullet."""
    return bool(_BULLET.match(text, text.rfind("\n", 0, start) + 1))


def list_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of a sentence ending in a colon together with the list items after it (or a
    lead-in that lost its colon, before bulleted items).

    A question such as "what were the four recommendations?" is answered by the list
    rather than by the sentence introducing it, which alone says nothing.
    """
    spans = sentence_spans(text)
    lists = []
    for i, (start, end) in enumerate(spans):
        colon = text[start:end].endswith(":")
        if not colon and not _DANGLING_END.search(text[start:end]):
            continue
        items = list(itertools.takewhile(lambda s: _is_list_item(text, *s), spans[i + 1 :]))
        if not colon:
            items = list(itertools.takewhile(lambda s: _bulleted(text, s[0]), items))
        if items:
            lists.append((start, items[:_MAX_ITEMS][-1][1]))
    return tuple(lists)
