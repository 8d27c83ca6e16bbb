"""Recommendation tracking: the "what needs to improve" items of each report, linked across reports.

Extraction (pure) reads a document's own structure, never its wording on a topic:

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

Tracking links items of different reports by embedding similarity and gives each a
status; see :func:`track_recommendations`.

Example::

    for entry in track_recommendations(documents, chunks, embedder):
        print(entry.status, entry.recommendation.text)
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa.index.embedders import Embedder
from qa.index.store import Snapshot
from qa.pipeline.select import Candidate
from qa.pipeline.understand import Query
from qa.text import SENTENCE_BREAK, leading_number, parse_item, text_start
from qa.types import AnswerSentence, Chunk, Document, Hit, Status, page_span

IMPROVEMENT = "improvement"
DECISION = "decision"


# Cosine similarities of the bundled all-MiniLM-L6-v2, measured on the shipped corpus and on
# tests/fixtures/other_council (tests/test_recommendations.py checks the outcomes):
# - linking: the two right pairs scored 0.94 and 0.77; the best wrong pair that is also a
#   mutual best match scored 0.59 ("homeless 16- and 17-year-olds" ~ "children out of hours"),
#   every other wrong pair at most 0.67. 0.68 lies between. (A looser paraphrase of a right
#   pair, "how often children in care have to move home", scored 0.62: not linked.)
# - progress evidence: the sentences that do report progress on an item scored 0.61 to 0.78;
#   the best sentence owned by an item with no such sentence scored 0.57 (Croydon placement
#   sufficiency), 0.43 and 0.39 (Northmoor young carers, placement stability). 0.59 lies between.
LINK_THRESHOLD = 0.68
EVIDENCE_THRESHOLD = 0.59

_HEADING = re.compile(
    r"(?:(?:section|part|chapter)\s+)?(?:[a-z]|\d+(?:\.\d+)*)?[.):]?\s*(?:[-–:]\s*)?"
    r"(?:recommendations?(?:\s+for\s+(?:improvement|development|action))?"
    r"|what\s+(?:needs|does\s+.{1,40}\s+need)\s+to\s+(?:improve|be\s+better|change)"
    r"|areas?\s+(?:for|of|requiring|needing)\s+(?:further\s+)?(?:improvement|development)"
    r"|areas?\s+(?:to|that\s+need\s+to|which\s+need\s+to)\s+improve)",
    re.IGNORECASE,
)
_QUESTION_CUE = re.compile(
    r"\brecommend\w*|\bareas?\s+(?:for|of|requiring|needing|that\s+need\w*|which\s+need\w*)\s+"
    r"(?:further\s+)?(?:improv|develop)\w*|\bneed(?:s|ed)?\s+(?:to\s+)?improv\w*",
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
_PROGRESS = re.compile(
    r"\b(?:improved|improving|progress|now|strength|strong|effective|effectively|good|better"
    r"|positive|benefit|benefits|benefited|addressed|resolved|achieved|success\w*|rapid|timely)\b",
    re.IGNORECASE,
)
_SETBACK = re.compile(
    r"\b(?:not|too\s+slow|too\s+long|too\s+soon|insufficient\w*|inconsistent\w*|lack\w*"
    r"|still\s+need\w*|requires?\s+improvement|weak\w*|delay\w*|wait\w*)\b",
    re.IGNORECASE,
)
_PARAGRAPH = re.compile(r"\S(?:.|\n(?![ \t]*\n))*")  # text between blank lines
_FULL_SENTENCE = re.compile(r"[.!?][\"'”’)]*$")


@dataclass(frozen=True)
class Place:
    """Where an item is printed: enough to cite it and to show it in its document.

    ``paragraph`` is the numbered paragraph as printed ("4.16") and ``item`` the list
    number or letter ("1", "b"), or the position of a bullet in its list ("3").
    ``document.text[start:end]`` is the item as printed, without its bullet or number.
    """

    section: str | None
    paragraph: str | None
    item: str | None
    start: int
    end: int
    page: int | None = None
    page_end: int | None = None


@dataclass(frozen=True)
class Recommendation:
    """One item a report asks to improve; ``places[0]`` is where it is first printed.

    ``text`` is the printed item with its whitespace collapsed. ``kind`` is ``"improvement"``
    or ``"decision"`` (a step put to a council body, not a finding).
    """

    source: str
    title: str
    date: str | None
    text: str
    kind: str
    places: tuple[Place, ...]


@dataclass(frozen=True)
class Evidence:
    """A sentence of a later report saying that progress was made on an item."""

    source: str
    title: str
    date: str | None
    text: str
    place: Place
    similarity: float


@dataclass(frozen=True)
class Link:
    """Another report's item judged to be the same recommendation."""

    recommendation: Recommendation
    similarity: float


@dataclass(frozen=True)
class TrackedRecommendation:
    """An item, the same item in earlier and later reports, and what became of it.

    ``status`` is one of:

    * ``"repeated"``: a later report lists it again, or (in the latest reports) it
      repeats an earlier report's item;
    * ``"addressed"``: no later report lists it, and one says progress was made
      (``evidence`` quotes that sentence);
    * ``"new"``: first raised in the latest reports;
    * ``"not mentioned later"``: later reports neither list it nor report progress;
    * ``"undated"``: the document has no date, so it cannot be placed in time.
    """

    recommendation: Recommendation
    status: Status
    earlier: tuple[Link, ...]
    later: tuple[Link, ...]
    evidence: Evidence | None


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


def _lines(text: str, start: int, end: int) -> list[_Line]:
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
    lines = _lines(document.text, section.start, section.end)
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


def _later(date: str, other: str) -> bool:
    """Whether ``other`` is strictly later than ``date`` at the precision both state."""
    precision = min(len(date), len(other))
    return other[:precision] > date[:precision]


def _paragraph_at(text: str, chunk: Chunk, offset: int) -> str | None:
    """The number of the numbered paragraph that ``offset`` falls in, else the chunk's label."""
    line_end = text.find("\n", offset, chunk.end)
    lines = _lines(text, chunk.start, chunk.end if line_end < 0 else line_end)
    numbers = [leading_number(line.text) for line in lines]
    return next((n for n in reversed(numbers) if n), chunk.paragraph)


def _progress_sentences(document: Document, chunks: Sequence[Chunk]) -> list[Evidence]:
    """Sentences that report progress, as unscored evidence.

    A sentence reports progress when it, or the opening sentence of its paragraph ("Since
    the last inspection, leaders have made good progress."), has a progress word, and it
    has no setback word. Headings, table rows and list fragments (no full stop) are left out.
    """
    found: dict[int, Evidence] = {}
    for chunk in chunks:
        for block in _PARAGRAPH.finditer(chunk.text):
            breaks = [m.span() for m in SENTENCE_BREAK.finditer(block.group())]
            bounds = zip(
                [0] + [e for _, e in breaks],
                [s for s, _ in breaks] + [len(block.group())],
                strict=True,
            )
            opening_reports_progress = False
            for number, (first, last) in enumerate(bounds):
                piece = block.group()[first:last]
                start = chunk.start + block.start() + first + text_start(piece)
                end = chunk.start + block.start() + last
                sentence = " ".join(document.text[start:end].split())
                reports_progress = bool(_PROGRESS.search(sentence))
                if number == 0:
                    opening_reports_progress = reports_progress
                if (
                    start not in found
                    and _FULL_SENTENCE.search(sentence)
                    and (reports_progress or opening_reports_progress)
                    and not _SETBACK.search(sentence)
                ):
                    paragraph = _paragraph_at(document.text, chunk, start)
                    place = Place(
                        chunk.section, paragraph, None, start, end, *page_span(document, start, end)
                    )
                    found[start] = Evidence(
                        document.source, document.title, document.date, sentence, place, 0.0
                    )
    return sorted(found.values(), key=lambda e: e.place.start)


def _mutual_best(similarity: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """(row, column) pairs that are each other's best match and at least ``threshold``."""
    if similarity.size == 0:
        return []
    best_column = similarity.argmax(axis=1)
    best_row = similarity.argmax(axis=0)
    return [
        (row, int(column))
        for row, column in enumerate(best_column)
        if best_row[column] == row and similarity[row, column] >= threshold
    ]


def _best_evidence(
    similarity: np.ndarray, candidates: list[Evidence], threshold: float
) -> dict[int, Evidence]:
    """Row → the most similar sentence among those closer to that row than to any other row.

    ``similarity`` is items × sentences for the items of one report: a sentence is evidence
    for the one item it is most about, so "health assessments are now timely" cannot also
    count for "assessment of young carers".
    """
    evidence: dict[int, Evidence] = {}
    if similarity.size == 0:
        return evidence
    owner = similarity.argmax(axis=0)
    for row in range(similarity.shape[0]):
        owned = np.flatnonzero(owner == row)
        if len(owned) == 0:
            continue
        best = int(owned[similarity[row, owned].argmax()])
        score = float(similarity[row, best])
        if score >= threshold:
            found = candidates[best]
            evidence[row] = Evidence(
                found.source, found.title, found.date, found.text, found.place, round(score, 4)
            )
    return evidence


def _status(dated: bool, later: bool, evidence: bool, earlier: bool, later_lists: bool) -> Status:
    if not dated:
        return Status.UNDATED
    if later:
        return Status.REPEATED
    if evidence:
        return Status.ADDRESSED
    if not later_lists:
        return Status.REPEATED if earlier else Status.NEW
    return Status.NOT_MENTIONED


def track_recommendations(
    documents: Sequence[Document],
    chunks: Sequence[Chunk],
    embedder: Embedder,
    link_threshold: float = LINK_THRESHOLD,
    evidence_threshold: float = EVIDENCE_THRESHOLD,
) -> list[TrackedRecommendation]:
    """Every improvement item of the documents, by document date, with links and a status.

    Two items of reports of different dates are the same recommendation when each is the
    other's most similar item in the other report and their cosine similarity is at least
    ``link_threshold`` (one-to-one, so that a broad earlier item is not linked to every
    later item that shares words with it). An item no later report lists is
    ``"addressed"`` when a later report has a progress sentence (see
    :func:`_progress_sentences`) most about that item and at least ``evidence_threshold``
    similar to it.
    """
    chunks_of: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        chunks_of.setdefault(chunk.source, []).append(chunk)
    ordered = sorted(documents, key=lambda d: (d.date is None, d.date or ""))
    items = [
        record
        for document in ordered
        for record in extract_recommendations(document, chunks_of.get(document.source, []))
        if record.kind == IMPROVEMENT
    ]
    if not items:
        return []
    vectors = embedder.encode([r.text for r in items])
    rows_of = {d.source: [i for i, r in enumerate(items) if r.source == d.source] for d in ordered}
    dated = [d for d in ordered if d.date]

    def later_reports(document: Document) -> list[Document]:
        return [d for d in dated if document.date and _later(document.date, d.date or "")]

    earlier: dict[int, list[Link]] = {}
    later: dict[int, list[Link]] = {}
    for first in dated:
        for second in later_reports(first):
            left, right = rows_of[first.source], rows_of[second.source]
            similarity = vectors[left] @ vectors[right].T
            for row, column in _mutual_best(similarity, link_threshold):
                score = float(similarity[row, column])
                later.setdefault(left[row], []).append(Link(items[right[column]], score))
                earlier.setdefault(right[column], []).append(Link(items[left[row]], score))

    # Progress sentences are looked for only in reports later than some report's items.
    first_items = next((d.date for d in dated if rows_of[d.source]), None)
    searched = [d for d in dated if first_items and _later(first_items, d.date or "")]
    candidates = [e for d in searched for e in _progress_sentences(d, chunks_of.get(d.source, []))]
    sentence_vectors = embedder.encode([e.text for e in candidates]) if candidates else None
    tracked: list[TrackedRecommendation] = []
    for document in ordered:
        rows = rows_of[document.source]
        following = later_reports(document)
        allowed = {d.source for d in following}
        columns = [i for i, e in enumerate(candidates) if e.source in allowed]
        evidence: dict[int, Evidence] = {}
        if rows and columns and sentence_vectors is not None:
            similarity = vectors[rows] @ sentence_vectors[columns].T
            evidence = _best_evidence(
                similarity, [candidates[i] for i in columns], evidence_threshold
            )
        later_lists = any(rows_of[d.source] for d in following)
        for position, row in enumerate(rows):
            status = _status(
                document.date is not None,
                row in later,
                position in evidence,
                row in earlier,
                later_lists,
            )
            tracked.append(
                TrackedRecommendation(
                    items[row],
                    status,
                    tuple(earlier.get(row, ())),
                    tuple(later.get(row, ())),
                    evidence.get(position) if status == Status.ADDRESSED else None,
                )
            )
    return tracked


_cache: dict[tuple[Path, str], list[TrackedRecommendation]] = {}
_cache_lock = threading.Lock()


def asks_about_recommendations(question: str) -> bool:
    """Whether a question is about what reports asked to improve, so the tracked items answer it."""
    return bool(_QUESTION_CUE.search(question))


_STATUS_CUES = {
    Status.REPEATED: re.compile(
        r"\b(?:remain\w*|still|repeat\w*|again|persist\w*|outstanding)\b", re.I
    ),
    Status.ADDRESSED: re.compile(
        r"\b(?:resolv\w*|address\w*|progress\w*|improved|met|fixed|achiev\w*|implement\w*)\b", re.I
    ),
    Status.NEW: re.compile(r"\b(?:new|first\s+(?:raised|made|time))\b", re.I),
}


def statuses_asked(question: str) -> frozenset[Status]:
    """The statuses a question about recommendations asks for; empty means all of them."""
    return frozenset(status for status, cue in _STATUS_CUES.items() if cue.search(question))


def snapshot_recommendations(
    snapshot: Snapshot, embedder: Embedder, up_to_documents: int | None = None
) -> list[TrackedRecommendation]:
    """The tracked recommendations of a loaded index, computed once per index version.

    Tracking embeds every item and progress sentence of the corpus (about 0.4 s per document
    here), so with ``up_to_documents`` a larger corpus not yet tracked gives none instead of
    making the caller wait: search stays interactive at any size.
    """
    key = (snapshot.path, embedder.name)
    with _cache_lock:
        if key not in _cache:
            if up_to_documents is not None and len(snapshot.catalog) > up_to_documents:
                return []
            if len(_cache) >= 4:
                _cache.clear()
            _cache[key] = track_recommendations(
                list(snapshot.documents.values()), snapshot.chunks, embedder
            )
        return _cache[key]


class RecommendationStage:
    """The question path's recommendations feature: for a question about what reports
    asked to improve, the tracked items (and the progress reported on them) lead the
    candidates, and the answer quotes the items with the status asked for.

    Only a corpus of at most ``up_to_documents`` documents is tracked within a question
    (tracking takes about 0.4 s per document); a larger one only once tracked elsewhere
    (the Recommendations tab, ``qa recommendations``), so search stays interactive.
    """

    def __init__(self, embedder: Embedder, up_to_documents: int) -> None:
        self.embedder = embedder
        self.up_to_documents = up_to_documents

    def applies(self, query: Query) -> bool:
        return asks_about_recommendations(query.text)

    def _tracked(self, snapshot: Snapshot) -> list[TrackedRecommendation]:
        return snapshot_recommendations(snapshot, self.embedder, self.up_to_documents)

    def lift(
        self, snapshot: Snapshot, query: Query, candidates: list[Candidate]
    ) -> list[Candidate]:
        """Candidates with the passages holding tracked items, and the progress reported on
        them, ahead of the rest (in fused order); only the reports of the periods the question
        names count, when it names any."""
        rows = set()
        for tracked in self._tracked(snapshot):
            places = [(tracked.recommendation.source, tracked.recommendation.places[0].start)]
            if tracked.evidence is not None:
                places.append((tracked.evidence.source, tracked.evidence.place.start))
            for source, offset in places:
                year = snapshot.catalog[source].year
                if not query.sides or any(side.holds(year) for side in query.sides):
                    rows.add(snapshot.chunks.row_at(snapshot.rows_of[source], offset))
        if not rows:
            return candidates
        top = max((c.score for c in candidates), default=0.0)
        known = {c.row for c in candidates}
        missing = []
        for row in sorted(rows - known):
            source = snapshot.chunks.source_of(row)
            missing.append(Candidate(row, 0.0, source, snapshot.catalog[source].year))
        lifted = [
            Candidate(c.row, c.score + top, c.source, c.year) if c.row in rows else c
            for c in [*candidates, *missing]
        ]
        return sorted(lifted, key=lambda c: -c.score)

    def answer(
        self, snapshot: Snapshot, query: Query, hits: Sequence[Hit], limit: int
    ) -> tuple[AnswerSentence, ...]:
        """The tracked items the question asks about ("remained": the repeated ones, with
        the later report's wording), quoted from the passages shown, oldest report first;
        addressed items bring the sentence that reports the progress."""
        wanted = statuses_asked(query.text)
        quoted: dict[tuple[str, int], AnswerSentence] = {}
        for tracked in self._tracked(snapshot):
            item = tracked.recommendation
            year = snapshot.catalog[item.source].year
            if (query.sides and not any(side.holds(year) for side in query.sides)) or (
                wanted and tracked.status not in wanted
            ):
                continue
            spans = [(item.source, place) for place in item.places]
            if tracked.evidence is not None:
                spans.append((tracked.evidence.source, tracked.evidence.place))
            for source, place in spans:
                hit = next(
                    (
                        h
                        for h in hits
                        if h.chunk.source == source
                        and h.chunk.start <= place.start
                        and place.end <= h.chunk.end
                    ),
                    None,
                )
                if hit is not None and (source, place.start) not in quoted:
                    text = snapshot.documents[source].text[place.start : place.end]
                    quoted[(source, place.start)] = AnswerSentence(
                        text, hit.rank, source, place.start, place.end
                    )
                    if source == item.source:
                        break  # one place per item; the progress sentence may follow
        return tuple(quoted.values())[:limit]
