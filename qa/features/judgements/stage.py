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

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.features.judgements.extract import Judgement, extract_judgements
from qa.features.judgements.timeline import Entry, Row, direction, judgement_rows
from qa.index.embedders import Embedder
from qa.index.store import Snapshot
from qa.pipeline.select import Candidate
from qa.pipeline.understand import Query
from qa.types import AnswerSentence, Hit, display_date

_CUE = re.compile(
    r"\b(?:judg(?:e|ed|ement|ements|ment|ments)|grade[ds]?|grading|rated|rating|ratings"
    r"|outstanding|inadequate|requires\s+improvement|how\s+good)\b",
    re.IGNORECASE,
)
_CHANGE = re.compile(
    r"\b(?:chang\w*|improv\w*|declin\w*|worse\w*|better|compar\w*|over\s+time|since|trend\w*"
    r"|go\s+(?:up|down)|went\s+(?:up|down)|fell|rose)\b",
    re.IGNORECASE,
)
# Cosine similarity (bundled all-MiniLM-L6-v2) from which a question is taken to name an
# aspect ("help and protection", "children in care"); below it, the question asks for the
# overall judgement ("What did Ofsted judge Croydon in 2020?"). Measured on the judgement
# questions of eval/questions.jsonl and eval/ilacs/questions.jsonl.
ASPECT_THRESHOLD = 0.45
_MAX_ROWS = 3


@dataclass(frozen=True)
class Found:
    """The rows a question asks about and, per row, the entries that answer it."""

    rows: tuple[tuple[Row, tuple[Entry, ...]], ...]


class JudgementStage:
    """Judgement records of an index version, computed once per version, and the stage that
    answers questions about grades from them."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._cache: dict[Path, tuple[list[Row], np.ndarray, list[int]]] = {}
        self._lock = threading.Lock()

    def applies(self, query: Query) -> bool:
        return bool(_CUE.search(query.text))

    def rows(self, snapshot: Snapshot) -> list[Row]:
        return self._records(snapshot)[0]

    def _records(self, snapshot: Snapshot) -> tuple[list[Row], np.ndarray, list[int]]:
        """The rows, a vector per aspect wording, and the row of each wording."""
        with self._lock:
            if snapshot.path not in self._cache:
                judgements: list[Judgement] = []
                for source, rows in snapshot.rows_of.items():
                    chunks = snapshot.chunks[rows.start : rows.stop]
                    judgements += extract_judgements(snapshot.documents[source], chunks)
                rows_found = judgement_rows(judgements, snapshot.catalog, self.embedder)
                wordings = [(w, i) for i, row in enumerate(rows_found) for w in row.wordings]
                vectors = (
                    self.embedder.encode([w for w, _ in wordings])
                    if wordings
                    else np.zeros((0, self.embedder.dimension), np.float32)
                )
                if len(self._cache) >= 4:
                    self._cache.clear()
                self._cache[snapshot.path] = (rows_found, vectors, [i for _, i in wordings])
            return self._cache[snapshot.path]

    def find(self, snapshot: Snapshot, query: Query) -> Found:
        """The rows of the organisations and aspect the question names, with the entries
        of the periods it names (all for a change without years; the latest otherwise)."""
        rows, vectors, owners = self._records(snapshot)
        if not rows:
            return Found(())
        vector = (
            query.vector
            if query.vector is not None
            else self.embedder.encode_queries([query.text])[0]
        )
        similarity = np.zeros(len(rows), np.float32)
        np.maximum.at(similarity, owners, vectors @ vector)
        candidates = [
            i
            for i, row in enumerate(rows)
            if not query.organisations or row.organisation in query.organisations
        ]
        if not candidates:
            return Found(())
        best = max(candidates, key=lambda i: similarity[i])
        if similarity[best] >= ASPECT_THRESHOLD:
            wanted = {rows[best].aspect}
            chosen = [i for i in candidates if rows[i].aspect in wanted or i == best]
        else:
            chosen = [i for i in candidates if rows[i].overall]
        chosen.sort(key=lambda i: -similarity[i])
        found = []
        for i in chosen[:_MAX_ROWS]:
            entries = _entries(rows[i], query)
            if entries:
                found.append((rows[i], entries))
        return Found(tuple(found))

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
        """The statement of the grades and their change, and one quoted line per inspection
        (oldest first), each citing the hit that holds it."""
        statements: list[str] = []
        quotes: list[AnswerSentence] = []
        for row, entries in self.find(snapshot, query).rows:
            parts = []
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
                quotes.append(
                    AnswerSentence(
                        hit.chunk.text[place.start - hit.chunk.start : place.end - hit.chunk.start],
                        hit.rank,
                        judgement.source,
                        place.start,
                        place.end,
                    )
                )
                parts.append(f"{entry.grade.label} ({display_date(entry.inspection)}) [{hit.rank}]")
            if parts:
                who = f"{row.organisation}: " if row.organisation else ""
                change = direction(entries) if len(parts) == len(entries) else None
                ending = f": {change}" if change else ""
                statements.append(f"{who}{row.aspect}: {' → '.join(parts)}{ending}.")
        return " ".join(statements), tuple(quotes)


def _entries(row: Row, query: Query) -> tuple[Entry, ...]:
    dated = [e for e in row.entries if e.year is not None]
    if query.sides:
        by_side = []
        for side in query.sides:
            inside = [e for e in dated if side.holds(e.year)]
            if inside:
                by_side.append(inside[-1])
        return tuple(dict.fromkeys(by_side))
    if _CHANGE.search(query.text) and len(dated) >= 2:
        return tuple(dated)
    return tuple(dated[-1:] or row.entries[-1:])
