"""The question path's judgements feature: a question about a grade is answered from the
records, stating the grade first, each period quoted from the statement that gives it.

"How did the judgement for help and protection change between 2020 and 2024?" becomes the
statement "Help and protection ...: Good (March 2020) → Requires improvement to be good
(October 2024): declined" and one quoted line per inspection ("Children in need of help
and protection – 'Good'" [2], "The experiences and progress of children who need help and
protection: requires improvement to be good" [1]). The passages holding those lines are
lifted to the front of the candidates so that every quote cites a passage shown.

Example::

    stage = JudgementStage(embedder)
    if stage.applies(query):
        candidates = stage.lift(snapshot, query, candidates)
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.corpus.organisations import mentions_other
from qa.features.judgements.asked import (
    ASPECT_COVERAGE,
    asks_about_change,
    asks_about_grades,
    asks_for_every_aspect,
    asks_if_it_persists,
    asks_which_organisation,
    aspect_coverage,
    distinctive_rows,
    grade_order,
    grades_named,
    how_good_subject,
    names_only_graded,
    says_change_verb,
)
from qa.features.judgements.extract import Grade, Judgement, extract_judgements
from qa.features.judgements.timeline import Entry, Row, direction, judgement_rows
from qa.index.embedders import Embedder
from qa.index.snapshot import Snapshot
from qa.pipeline.findings import Finding, finding_asked
from qa.pipeline.gaps import Gap, published_in
from qa.pipeline.select import Candidate
from qa.pipeline.timeframe import Side
from qa.pipeline.understand import Query
from qa.types import AnswerSentence, Hit, display_date

_MAX_ROWS = 3


@dataclass(frozen=True)
class Found:
    """The rows a question asks about and, per row, the entries that answer it."""

    rows: tuple[tuple[Row, tuple[Entry, ...]], ...]


class JudgementStage:
    """Judgement records of an index version, computed once per version, and the stage that
    answers questions about grades from them.

    Reading the records takes about 4 ms a passage here (3.5 s for the 850 of the ilacs
    corpus; minutes at 100k), so within a question they are read only for a corpus of at most
    ``up_to_documents`` documents, or once :meth:`rows` has read them (``qa judgements``, the
    app's Judgements page): a question never waits for a large corpus's records.
    """

    def __init__(self, embedder: Embedder, up_to_documents: int | None = None) -> None:
        self.embedder = embedder
        self.up_to_documents = up_to_documents
        self._cache: dict[Path, list[Row]] = {}
        self._lock = threading.Lock()

    def applies(self, query: Query, snapshot: Snapshot | None = None) -> bool:
        """A question about grades, unless it asks for a person or a figure ("Who led the
        inspection that rated it inadequate?"): a grade does not answer that, or names only a
        place spelled like one of the corpus's organisations without being one ("How was
        Northamptonshire County Council judged?" of West Northamptonshire's reports): the
        passages may say, the records hold only the corpus's organisations.

        With ``snapshot``, also a question comparing periods on an aspect the corpus grades,
        named without a grade word ("Did the impact of leaders on social work practice
        improve between 2022 and 2026?"): the grades are its evidence. "What leadership
        changes followed the 2017 inspection?" compares nothing and stays with the passages.
        """
        if finding_asked(query.text) not in (None, Finding.DAY, Finding.DATE):
            return False
        if query.others and not query.organisations:
            return False  # the records are the corpus's organisations', not this one's
        if asks_about_grades(query.text):
            subject = how_good_subject(query.text)
            return (
                subject is None
                or snapshot is None
                or names_only_graded(subject, self._records(snapshot))
            )
        return (
            snapshot is not None
            and query.comparison
            and says_change_verb(query.text)
            and self.names_aspect(snapshot, query)
        )

    def unstated_grade(
        self, snapshot: Snapshot, query: Query, sentences: Sequence[AnswerSentence]
    ) -> str | None:
        """For a question about the grades of a place the corpus has no documents of ("What
        grades did North Northamptonshire receive?", asked of West Northamptonshire's
        reports), the note saying no passage states one, unless a quoted sentence names the
        place and a grade ("the predecessor authority, Northamptonshire County Council, were
        judged inadequate in 2019"). The records are the corpus's organisations', never
        that place's."""
        if not query.others or query.organisations or not asks_about_grades(query.text):
            return None
        if any(
            grades_named(s.text) and mentions_other(s.text, query.others, snapshot.organisations)
            for s in sentences
        ):
            return None
        return f"No passage found states a grade given to {' or '.join(query.others)}."

    def names_aspect(self, snapshot: Snapshot, query: Query) -> bool:
        """Whether the question names an aspect the corpus grades (of the organisations it
        names, if any) by its distinctive words."""
        rows = self._records(snapshot)
        return any(
            score >= ASPECT_COVERAGE
            for row, score in zip(rows, aspect_coverage(rows, query.text), strict=True)
            if not query.organisations or row.organisation in query.organisations
        )

    def rows(self, snapshot: Snapshot) -> list[Row]:
        """Every judgement row of ``snapshot``, read whatever the corpus's size."""
        return self._records(snapshot, any_size=True)

    def _records(self, snapshot: Snapshot, any_size: bool = False) -> list[Row]:
        """The judgement rows of ``snapshot``, read from its documents once per version; none
        for a corpus over ``up_to_documents`` not read yet, unless ``any_size``."""
        with self._lock:
            if snapshot.path not in self._cache:
                too_many = self.up_to_documents is not None and (
                    len(snapshot.catalog) > self.up_to_documents
                )
                if too_many and not any_size:
                    return []
                judgements: list[Judgement] = []
                for source, rows in snapshot.rows_of.items():
                    chunks = snapshot.chunks[rows.start : rows.stop]
                    judgements += extract_judgements(snapshot.documents[source], chunks)
                if len(self._cache) >= 4:
                    self._cache.clear()
                self._cache[snapshot.path] = judgement_rows(
                    judgements, snapshot.catalog, self.embedder
                )
            return self._cache[snapshot.path]

    def find(self, snapshot: Snapshot, query: Query) -> Found:
        """The rows of the organisations and aspect the question names, with the entries
        of the periods it names (all for a change without years; the latest otherwise).

        A question names an aspect by its distinctive words ("help and protection", "care
        leavers"); one that names none asks for the overall judgement, or for every aspect
        when it asks about the judgement areas as a whole ("which area was rated lowest").
        A period the aspect's row lacks is taken from the organisation's row whose wording
        covers the question as well (before 2023 Ofsted graded "children in care and care
        leavers" as one aspect).
        """
        rows = self._records(snapshot)
        chosen = _chosen(rows, query)
        coverage = aspect_coverage(rows, query.text)
        graded = _organisations_by_grade(query)
        found = []
        for i in chosen if len(chosen) > _MAX_ROWS else chosen[:_MAX_ROWS]:
            if graded:  # the organisations are the answer: those given the named grades
                entries = _with_grades(rows[i], graded, query.timeframe.latest)
                if entries:
                    found.append((rows[i], entries))
                continue
            entries = _entries(rows[i], query)
            missing = _missing_sides(entries, query)
            if missing:
                entries = _borrowed(rows, i, coverage, missing, entries)
            if entries:
                found.append((rows[i], entries))
        return Found(tuple(found))

    def gaps(self, snapshot: Snapshot, query: Query) -> tuple[Gap, ...]:
        """The periods a question about a named aspect asks for that no document grades
        ("What grade did the 2017 inspection give for help and protection?" when the
        corpus states only 2017's overall grade).

        Blocking when none is graded and the question's organisation is known (named, or
        the only one in the corpus): a question naming none of the corpus's organisations
        may be about a predecessor that a report grades only in prose ("the previous
        authority ... were judged inadequate in 2019"), which the records do not hold.
        Measured on both reference sets: blocking flags one unanswerable question more in
        each; blocking also without a known organisation refused an answerable one."""
        if not self.applies(query, snapshot):
            return ()
        if _organisations_by_grade(query):
            return self._none_graded(snapshot, query)
        if not query.sides:
            return ()
        rows = self._records(snapshot)
        coverage = aspect_coverage(rows, query.text)
        named = [
            row
            for row, score in zip(rows, coverage, strict=True)
            if score >= ASPECT_COVERAGE
            and (not query.organisations or row.organisation in query.organisations)
        ]
        if not named:
            return ()
        found = self.find(snapshot, query).rows
        graded = [e for _, entries in found for e in entries]
        missing = [side for side in query.sides if not graded_in(side, graded)]
        aspect = named[0].aspect
        known = bool(query.organisations) or len(snapshot.organisations) == 1
        return tuple(
            Gap(
                side.label,
                f"No document in the corpus states a grade for {aspect} in {side.label}.",
                period=False,
                blocking=len(missing) == len(query.sides) and known,
            )
            for side in missing
        )

    def _none_graded(self, snapshot: Snapshot, query: Query) -> tuple[Gap, ...]:
        """For "Which councils were judged inadequate at their latest inspection?" when none
        was: a blocking gap saying so, instead of quoting passages about earlier grades."""
        if self.find(snapshot, query).rows:
            return ()
        rows = self._records(snapshot)
        chosen = _chosen(rows, query)
        aspect = rows[chosen[0]].aspect if chosen else "any aspect"
        grades = " then ".join(grade.label for grade in _organisations_by_grade(query))
        when = " at its latest inspection" if query.timeframe.latest else ""
        note = f"No organisation in the corpus was graded {grades} for {aspect}{when}."
        return (Gap(grades, note, period=False, blocking=True),)

    def lift(
        self, snapshot: Snapshot, query: Query, candidates: list[Candidate]
    ) -> list[Candidate]:
        """Candidates with the passages stating the grades asked about in front."""
        wanted = []
        for _, entries in self.find(snapshot, query).rows:
            for entry in entries:
                judgement, _ = entry.best
                place = judgement.places[0]
                wanted.append(
                    snapshot.chunks.row_at(snapshot.rows_of[judgement.source], place.start)
                )
        if not wanted:
            return candidates
        top = max((c.score for c in candidates), default=0.0) + 1.0
        rest = [c for c in candidates if c.row not in wanted]
        lifted = []
        for position, row in enumerate(dict.fromkeys(wanted)):
            source = snapshot.chunks.source_of(row)
            score = top + (len(wanted) - position) * 1e-3
            lifted.append(Candidate(row, score, source, snapshot.catalog[source].year))
        return lifted + rest

    def answer(
        self, snapshot: Snapshot, query: Query, hits: Sequence[Hit]
    ) -> tuple[str, tuple[AnswerSentence, ...]]:
        """The statement of the grades and their change, and one quoted line per inspection,
        each citing the hit that holds it: oldest first, or the latest first when the question
        asks whether a grade still holds."""
        statements: list[str] = []
        quotes: list[AnswerSentence] = []
        latest_first = asks_if_it_persists(query.text)
        for row, entries in self.find(snapshot, query).rows:
            parts = []
            lines: list[AnswerSentence] = []
            for entry in entries:
                judgement, _ = entry.best
                place = judgement.places[0]
                hit = next(
                    (
                        h
                        for h in hits
                        if h.chunk.source == judgement.source
                        and h.chunk.start <= place.start
                        and place.end <= h.chunk.end
                    ),
                    None,
                )
                if hit is None:
                    continue
                lines.append(
                    AnswerSentence(
                        hit.chunk.text[place.start - hit.chunk.start : place.end - hit.chunk.start],
                        hit.rank,
                        judgement.source,
                        place.start,
                        place.end,
                    )
                )
                parts.append(f"{entry.grade.label} ({display_date(entry.inspection)}) [{hit.rank}]")
            quotes += reversed(lines) if latest_first else lines
            if parts:
                who = f"{row.organisation}: " if row.organisation else ""
                change = direction(entries) if len(parts) == len(entries) else None
                ending = f": {change}" if change else ""
                statements.append(f"{who}{row.aspect}: {' → '.join(parts)}{ending}.")
        return " ".join(statements), tuple(quotes)


def _entries(row: Row, query: Query) -> tuple[Entry, ...]:
    """The inspections of ``row`` a question asks about: every one in a range it names
    ("since 2017", "between 2018 and 2024"); the one of each year it names (with the one
    before when it asks about a change); every one for a change without years; else the
    latest."""
    dated = [e for e in row.entries if e.year is not None]
    change = asks_about_change(query.text)
    timeframe = query.timeframe
    if timeframe.year_from is not None or timeframe.year_to is not None:
        first, last = timeframe.year_from or 0, timeframe.year_to or 9999
        return tuple(e for e in dated if e.year is not None and first <= e.year <= last)
    if query.sides:
        picked: list[Entry] = []
        for side in query.sides:
            inside = graded_in(side, dated)
            if inside:
                picked.append(inside[-1])
        if change and len(picked) == 1 and dated.index(picked[0]) > 0:
            picked.insert(0, dated[dated.index(picked[0]) - 1])
        return tuple(dict.fromkeys(picked))
    if change and len(dated) >= 2:
        return tuple(dated)
    return tuple(dated[-1:] or row.entries[-1:])


def _chosen(rows: Sequence[Row], query: Query) -> list[int]:
    """The rows a question asks about: of the organisations it names, the aspect it names
    (see :meth:`JudgementStage.find`), in the order it asks for."""
    candidates = [
        i
        for i, row in enumerate(rows)
        if not query.organisations or row.organisation in query.organisations
    ]
    if not candidates:
        return []
    coverage = aspect_coverage(rows, query.text)
    best = max(candidates, key=lambda i: coverage[i])
    named = distinctive_rows(rows, candidates, query.text)
    if coverage[best] >= ASPECT_COVERAGE:  # each organisation's row that covers it best
        top = {
            rows[i].organisation: coverage[i] for i in sorted(candidates, key=coverage.__getitem__)
        }
        chosen = [
            i
            for i in candidates
            if coverage[i] >= ASPECT_COVERAGE and coverage[i] >= top[rows[i].organisation] - 1e-9
        ]
        if rows[best].overall:  # every organisation's, however its documents word it
            chosen = [i for i in candidates if rows[i].overall]
    elif named:
        chosen = named
    elif asks_for_every_aspect(query.text):
        chosen = list(candidates)
    else:
        chosen = [i for i in candidates if rows[i].overall]
    sign = grade_order(query.text)
    if sign is not None:
        chosen.sort(key=lambda i: sign * (rows[i].entries[-1].grade.rank if rows[i].entries else 0))
    return chosen


def _organisations_by_grade(query: Query) -> tuple[Grade, ...]:
    """The grades that find the organisations a question asks for ("Which councils were
    judged outstanding?"); none for other questions. Their "latest" is each organisation's
    own, so the corpus's newest year is no gap."""
    return grades_named(query.text) if asks_which_organisation(query.text) else ()


def _with_grades(row: Row, grades: Sequence[Grade], latest: bool) -> tuple[Entry, ...]:
    """The inspections of ``row`` given ``grades``: for one grade, every inspection given it
    (the latest only, if ``latest`` and it was); for two, each inspection given the first
    followed by the next one given the second ("went from inadequate to good")."""
    if len(grades) == 1:
        pool = row.entries[-1:] if latest else row.entries
        return tuple(e for e in pool if e.grade == grades[0])
    return tuple(
        entry
        for before, after in itertools.pairwise(row.entries)
        if before.grade == grades[0] and after.grade == grades[-1]
        for entry in (before, after)
    )


def graded_in(side: Side, entries: Sequence[Entry]) -> list[Entry]:
    """The entries of inspections in ``side``'s years; failing those, of inspections whose
    report came out in them: "the 2023 judgement" of a report on a December 2022 inspection
    published in January 2023 (see :data:`qa.pipeline.gaps.PUBLICATION_LAG`)."""
    inspected = [e for e in entries if side.holds(e.year)]
    return inspected or [
        e for e in entries if e.inspection and side.holds(published_in(e.inspection))
    ]


def _missing_sides(entries: Sequence[Entry], query: Query) -> list[Side]:
    return [side for side in query.sides if not graded_in(side, entries)]


def _borrowed(
    rows: Sequence[Row],
    chosen: int,
    coverage: Sequence[float],
    sides: Sequence[Side],
    entries: Sequence[Entry],
) -> tuple[Entry, ...]:
    """``entries`` with, for each side it lacks, the organisation's entry of that side in the
    row whose wording covers the question best (at least :data:`ASPECT_COVERAGE`)."""
    found = list(entries)
    for side in sides:
        others = [
            (coverage[i], entry)
            for i, row in enumerate(rows)
            if i != chosen
            and row.organisation == rows[chosen].organisation
            and coverage[i] >= ASPECT_COVERAGE
            for entry in graded_in(side, row.entries)
        ]
        if others:
            found.append(max(others, key=lambda pair: pair[0])[1])
    return tuple(sorted(found, key=lambda e: e.inspection or ""))
