"""Judgements as records: the grades a document states, with where it states them (pure).

Inspection frameworks grade aspects of a service on a fixed scale (Ofsted: Outstanding,
Good, Requires improvement to be good, Inadequate). Documents state a grade in four
forms, each read by a rule about the FORM, never about one council or report:

* a table row: ``aspect | grade`` (or tab-separated), the last cell exactly a grade;
* a heading or list line: ``aspect: grade``, ``aspect – 'Good'``, ``aspect - **'Good'**``;
* prose: ``... judged children's services as 'inadequate'``, ``... has been rated as
  "Good"``, ``"the experiences and progress of children in care" still requires
  improvement`` (the grade quoted, or the aspect quoted, so an ordinary "good quality"
  is never read as a grade).

A record's ``inspection`` is when the graded inspection took place: a date the sentence
states before the grade ("the inspection which concluded on 25th October 2024 and judged
..."; "the Ofsted inspection in 2017 which judged ..."), else the date of a previous
inspection it names ("rated as 'Inadequate' after the previous inspection, in June and July
2017"), else the document's own date. A grade stated with no date of its own (a table row,
most often) takes the inspection's date from the same document when it gives one: the last
day of an "Inspection dates: 3 to 14 November 2025" field (the line Ofsted reports open with,
which papers quoting a report copy), else the one date its prose gives that year's inspection,
in a grade sentence ("the inspection which concluded on 25th October 2024 judged ...") or
in one saying when it ended ("A full re-inspection ... took place between 27th January and
14th February 2020"; of the document's year or the one before). A paper of January 2026
then dates its grade table November 2025, with the inspection, not with itself.

Example::

    for judgement in extract_judgements(document, chunks):
        print(judgement.aspect, judgement.grade, judgement.places[0].start)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from qa.corpus.dates import find_dates, inspection_end_dates, inspection_ended_in_prose
from qa.text import normalise_space, sentence_spans, text_start
from qa.types import Choice, Chunk, Document, page_span, year_of


class Grade(Choice):
    """The four-point scale, worst first; ``rank`` orders it."""

    INADEQUATE = "inadequate"
    REQUIRES_IMPROVEMENT = "requires improvement to be good"
    GOOD = "good"
    OUTSTANDING = "outstanding"

    @property
    def rank(self) -> int:
        return list(Grade).index(self)

    @property
    def label(self) -> str:
        """As printed in reports: "Requires improvement to be good"."""
        return self.value[:1].upper() + self.value[1:]


class Form(Choice):
    """How a document states a grade, in the order a statement is quoted: a heading or a
    list line reads as a sentence ("... children in care: good"), a table row needs its
    table's header to be read, prose may hold other things besides the grade."""

    HEADING = "heading"
    LIST = "list"
    TABLE = "table"
    PROSE = "prose"


@dataclass(frozen=True)
class Place:
    """Where a grade is stated: ``document.text[start:end]`` is the line or clause that states
    it (the quotable unit), with its chunk's section, paragraph and page."""

    section: str | None
    paragraph: str | None
    page: int | None
    page_end: int | None
    start: int
    end: int
    form: Form


@dataclass(frozen=True)
class Judgement:
    """One grade a document states for one aspect of one inspection.

    ``aspect`` is as printed ("The experiences and progress of children in care");
    ``inspection`` the partial ISO date of the inspection graded; ``places`` every place
    the document states it, in the order of :class:`Form` (the first is quoted).
    ``title`` and ``date`` are the document's.
    """

    source: str
    title: str
    date: str | None
    aspect: str
    grade: Grade
    inspection: str | None
    places: tuple[Place, ...]

    @property
    def year(self) -> int | None:
        return year_of(self.inspection)


_QUOTE = "'‘’\"“”*"
GRADE_WORDS = r"requires\s+improvement(?:\s+to\s+be\s+good)?|outstanding|good|inadequate"
_CELL_SPLIT = re.compile(r"\t+| \| ")
_LINE_GRADE = re.compile(
    rf"^(?P<aspect>.{{6,200}}?)\s*(?::|\s[–—-]|\sis)\s*[{_QUOTE}]*(?P<grade>{GRADE_WORDS})"
    rf"[{_QUOTE}]*\.?\s*$",
    re.IGNORECASE,
)
# Prose: the grade after a verb of judging ("judged children's services as inadequate",
# "rates Croydon's services 'Good'": quoted, or unquoted after "as"), or the aspect quoted
# before an unquoted grade. "of good quality" has neither and is not a grade.
_JUDGED = re.compile(
    rf"\b(?:judged|rated|rates|graded|judgement\s+of|grade\s+of)\s+(?P<aspect>[^.;:]{{3,120}}?)?\s*"
    rf"(?:as\s+(?:being\s+)?[{_QUOTE}]*(?P<grade>{GRADE_WORDS})\b|[{_QUOTE}]+(?P<quoted>{GRADE_WORDS})[{_QUOTE}]+)",
    re.IGNORECASE,
)
_PASSIVE = re.compile(
    rf"(?P<aspect>[A-Z][^.;:]{{3,120}}?)\s+(?:was|were|is|are|has|have|had)\s+"
    rf"(?:(?:now|finally|previously|also)\s+)?(?:been\s+)?(?:rated|judged|graded)\s+(?:as\s+)?"
    rf"[{_QUOTE}]+(?P<grade>(?i:{GRADE_WORDS}))[{_QUOTE}]+",
)
_QUOTED_ASPECT = re.compile(
    r"[“\"‘](?P<aspect>[^”\"’]{10,160})[”\"’]\s+(?:still\s+|now\s+)?(?:is\s+|are\s+)?"
    r"(?P<grade>requires\s+improvement(?:\s+to\s+be\s+good)?|outstanding|good|inadequate)\b",
    re.IGNORECASE,
)
_INSPECTION_YEAR = re.compile(
    r"\b(?:inspection|judgement|judgment|visit)s?\s+(?:in|of|from)\s+(?P<year>(?:19|20)\d\d)\b"
)
_PREVIOUS = re.compile(
    r"\b(?:previous|last|earlier|prior)\s+(?:\w+\s+)?(?:inspection|judgement|judgment|visit)\b"
)
_MIN_ASPECT_WORDS = 2
_PARAGRAPH = re.compile(r"\S(?:.|\n(?![ \t]*\n))*")  # text between blank lines


def read_grade(text: str) -> Grade | None:
    """The grade ``text`` is, exactly (quotes, bold and a full stop aside), else None."""
    words = normalise_space(text.strip(_QUOTE + " .").lower())
    if words == "requires improvement":
        return Grade.REQUIRES_IMPROVEMENT
    try:
        return Grade(words)
    except ValueError:
        return None


def _aspect(text: str) -> str | None:
    """An aspect as printed, without bullets, list numbers, quotes or a trailing "is"."""
    aspect = normalise_space(text[text_start(text) :]).strip(_QUOTE + " ,–—-")
    aspect = re.sub(r"^(?:the\s+)?grades?\s+for\s+", "", aspect, flags=re.IGNORECASE)
    if len(aspect.split()) < _MIN_ASPECT_WORDS or read_grade(aspect) is not None:
        return None
    return aspect


def _dates(text: str) -> list[tuple[int, str]]:
    """Full dates and "inspection in 2017" years in ``text``, in order."""
    found = find_dates(text) + [(m.start(), m["year"]) for m in _INSPECTION_YEAR.finditer(text)]
    return sorted(found)


def _inspection_date(sentence: str, grade_at: int, document: Document) -> str | None:
    """When the inspection a sentence grades took place (see the module's docstring)."""
    before = _dates(sentence[:grade_at])
    if before:
        return before[-1][1]
    previous = _PREVIOUS.search(sentence)
    after = _dates(sentence[previous.end() :]) if previous else []
    return after[0][1] if after else document.date


def _line_judgement(line: str) -> tuple[str, Grade, Form] | None:
    """A table row or an ``aspect: grade`` line."""
    cells = [c for c in _CELL_SPLIT.split(line.strip()) if c.strip()]
    if len(cells) >= 2 and (grade := read_grade(cells[-1])) and (aspect := _aspect(cells[0])):
        return aspect, grade, Form.TABLE
    match = _LINE_GRADE.match(line.strip())
    if match and (grade := read_grade(match["grade"])) and (aspect := _aspect(match["aspect"])):
        listed = text_start(line) > len(line) - len(line.lstrip())
        return aspect, grade, Form.LIST if listed else Form.HEADING
    return None


def _prose_judgements(sentence: str) -> list[tuple[str, Grade, int]]:
    """(aspect, grade, where the grade ends) for each grade a sentence states."""
    found = []
    for pattern in (_JUDGED, _PASSIVE, _QUOTED_ASPECT):
        for match in pattern.finditer(sentence):
            named = "grade" if match["grade"] else "quoted"
            grade = read_grade(match[named])
            aspect = _aspect(match["aspect"] or "")
            if grade is not None and aspect is not None:
                found.append((aspect, grade, match.end(named)))
    return found


def _chunk_at(chunks: Sequence[Chunk], offset: int) -> Chunk | None:
    return next((c for c in chunks if c.start <= offset < c.end), None)


def extract_judgements(document: Document, chunks: Sequence[Chunk]) -> list[Judgement]:
    """Every grade ``document`` states, one record per (aspect, grade, inspection), in reading
    order; the same grade stated in a table, a heading and a list is one record citing all."""
    mine = [c for c in chunks if c.source == document.source]
    records: dict[tuple[str, Grade, int | None], Judgement] = {}
    stated: list[tuple[str, Grade, Form, int, int, str | None]] = []
    position = 0
    for line in document.text.split("\n"):
        start, position = position, position + len(line) + 1
        if (found := _line_judgement(line)) is not None:
            left = start + text_start(line)  # a list item is quoted without its bullet
            stated.append((*found, left, start + len(line.rstrip()), document.date))
    lines = [(begin, end) for *_, begin, end, _ in stated]
    for paragraph in _PARAGRAPH.finditer(document.text):
        # Sentences as quoted (pysbd; wrapped lines, paragraph numbers and bullets handled).
        for first, last in sentence_spans(paragraph.group()):
            begin, end = paragraph.start() + first, paragraph.start() + last
            if any(begin < e and b < end for b, e in lines):
                continue
            # Read as one line: a sentence wraps over lines in text files (same offsets).
            text = document.text[begin:end].replace("\n", " ")
            for aspect, grade, grade_at in _prose_judgements(text):
                inspection = _inspection_date(text, grade_at, document)
                stated.append((aspect, grade, Form.PROSE, begin, end, inspection))
    for aspect, grade, form, begin, end, inspection in sorted(stated, key=lambda s: s[3]):
        chunk = _chunk_at(mine, begin)
        place = Place(
            chunk.section if chunk else None,
            chunk.paragraph if chunk else None,
            *page_span(document, begin, end),
            begin,
            end,
            form,
        )
        key = (aspect.lower(), grade, year_of(inspection))
        if key in records:
            places = sorted((*records[key].places, place), key=lambda p: list(Form).index(p.form))
            records[key] = replace(records[key], places=tuple(places))
        else:
            records[key] = Judgement(
                document.source, document.title, document.date, aspect, grade, inspection, (place,)
            )
    dated = _dated_alike(list(records.values()), document)
    return sorted(dated, key=lambda j: min(p.start for p in j.places))


def _dated_alike(records: list[Judgement], document: Document) -> list[Judgement]:
    """Records dated by the document's own date, given the inspection's date the document
    states, if it states one (see the module docstring)."""
    if document.date is None:
        return records
    this_year = year_of(document.date) or 0
    fields = inspection_end_dates(document.text)
    stated = {
        j.inspection
        for j in records
        if j.inspection not in (None, document.date) and j.year == this_year
    }
    # A paper's prose may also say when an inspection of the year before ended (a January
    # paper on a November inspection), but not one of years before: "the 2017 inspection
    # concluded on ..." in a 2020 paper says nothing of the inspection it reports.
    ended = {
        d for d in inspection_ended_in_prose(document.text) if (year_of(d) or 0) >= this_year - 1
    }
    candidates = fields if fields else stated | ended
    if len(candidates) != 1:
        return records
    (date,) = candidates
    # A date after the document's cannot be of an inspection it reports.
    after = (year_of(date) or 0) > this_year
    if after or len(date) < len(document.date):
        return records
    return [replace(j, inspection=date) if j.inspection == document.date else j for j in records]
