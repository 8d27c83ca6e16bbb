"""Where a quoted text is, in the words a reader uses to find it in the source.

Every line the product shows must be checkable against its document, so every way a place
is shown (a terminal line, JSON and CSV fields, a Markdown heading, the app's HTML) is made
from one :class:`Citation`, and :func:`cite` is the one way to get one: from a ranked passage,
a recommendation or a sentence reporting progress. To cite a new kind of place (a page, an
organisation), add the field to :class:`Citation`, fill it in :func:`cite` and name it in
:attr:`Citation.where`: every rendering follows.

Example::

    citation = cite(hit)
    print(citation.line())  # Cabinet Report, 4 December 2024, 2. DETAIL, para 2.1–2.3
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from qa.features.judgements.extract import Judgement
from qa.features.recommendations import Evidence, Place, Recommendation
from qa.types import Hit, display_date


@dataclass(frozen=True)
class Citation:
    """A quoted text's document and its place there; ``document_text[start:end]`` is the text.

    ``source`` is the document's path relative to the corpus folder, ``date`` a partial ISO
    date, ``paragraph`` the paragraph number as printed and ``item`` a list item's number or
    letter. ``also`` cites the other places of the same document printing the same text (a
    recommendation listed in a report and again in its appendix), each without ``also``.
    """

    source: str
    title: str
    date: str | None
    section: str | None
    paragraph: str | None
    start: int
    end: int
    item: str | None = None
    page: int | None = None
    page_end: int | None = None
    also: tuple[Citation, ...] = ()

    @property
    def when(self) -> str:
        """The date as people write it ("4 December 2024", "undated")."""
        return display_date(self.date)

    @property
    def where(self) -> tuple[str, ...]:
        """The place inside the document, broadest first: ("2. DETAIL", "para 2.1", "item 3")."""
        parts = [self.section] if self.section else []
        if self.paragraph:
            parts.append(f"para {self.paragraph}")
        if self.item:
            parts.append(f"item {self.item}")
        if self.page is not None:
            pages = f"p. {self.page}" if not self.page_end else f"pp. {self.page}–{self.page_end}"
            parts.append(pages)
        return tuple(parts)

    def places(self) -> tuple[Citation, ...]:
        """One citation per place printing the text, this one first."""
        return (replace(self, also=()), *self.also)

    def line(self) -> str:
        """Title, date and every place, as a person writes a citation in a report:
        "Cabinet Report, 4 December 2024, 2. DETAIL, para 2.1; Appendix, item 3"."""
        places = "; ".join(", ".join(c.where) for c in self.places() if c.where)
        return ", ".join(part for part in (self.title, self.when, places) if part)


def cite(quoted: Hit | Recommendation | Evidence | Judgement) -> Citation:
    """The citation of a ranked passage, a recommendation (every place it is printed), a
    sentence reporting progress or a judgement (every place it is stated, most structured
    first)."""
    if isinstance(quoted, Hit):
        chunk = quoted.chunk
        source = chunk.source
        places: tuple[Place, ...] = (
            Place(
                chunk.section,
                chunk.paragraph,
                None,
                chunk.start,
                chunk.end,
                chunk.page,
                chunk.page_end,
            ),
        )
    elif isinstance(quoted, Judgement):
        source = quoted.source
        places = tuple(
            Place(p.section, p.paragraph, None, p.start, p.end, p.page, p.page_end)
            for p in quoted.places
        )
    else:
        source = quoted.source
        places = quoted.places if isinstance(quoted, Recommendation) else (quoted.place,)
    first, *others = (
        Citation(
            source,
            quoted.title,
            quoted.date,
            p.section,
            p.paragraph,
            p.start,
            p.end,
            p.item,
            p.page,
            p.page_end,
        )
        for p in places
    )
    return replace(first, also=tuple(others))
