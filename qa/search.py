"""Searcher: load an index once, answer many questions with ranked, cited passages.

The CLI, the app and the evaluation all search through this class.

Example::

    searcher = Searcher.open(load_settings())
    answer = searcher.search("Which recommendations from 2020 remained in 2024?", k=5)
    for hit in answer.hits:
        print(hit.rank, hit.citation)
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.corpus import scan_corpus
from qa.features.recommendations import (
    TrackedRecommendation,
    asks_about_recommendations,
    snapshot_recommendations,
    statuses_asked,
)
from qa.features.timeframe import Side, read_timeframe
from qa.index.build import CorpusChanges, build_spec, corpus_changes
from qa.index.embedders import Embedder, load_query_embedder
from qa.index.lexical import tokenize
from qa.index.store import IndexStore, Snapshot
from qa.pipeline.answer import extract_answer
from qa.pipeline.fusion import Ranking, reciprocal_rank_fusion, weighted_score_fusion
from qa.pipeline.select import Candidate, boost_in_time, containment, select, shingles
from qa.settings import Settings
from qa.types import Answer, AnswerSentence, Diversity, DocumentGroup, Fusion, Hit, Mode, year_of

SIDE_MARGIN = 0.2
_SURROGATES = re.compile("[\ud800-\udfff]")


class StaleIndex(RuntimeError):
    """The corpus changed since the index was built."""

    def __init__(self, changes: CorpusChanges) -> None:
        super().__init__(
            f"the corpus changed since the index was built ({changes.describe()}): run `qa index` to update it"
        )
        self.changes = changes


@dataclass(frozen=True)
class Filters:
    """Which documents a search may return; None means no restriction."""

    sources: frozenset[str] | None = None
    year_from: int | None = None
    year_to: int | None = None

    def allows(self, source: str, date: str | None) -> bool:
        if self.sources is not None and source not in self.sources:
            return False
        if self.year_from is None and self.year_to is None:
            return True
        year = year_of(date)
        if year is None:
            return False
        return (self.year_from is None or year >= self.year_from) and (
            self.year_to is None or year <= self.year_to
        )


class Searcher:
    """Hybrid search over one index version; :meth:`refresh` moves to a newer version."""

    def __init__(self, settings: Settings, snapshot: Snapshot, embedder: Embedder) -> None:
        self.settings = settings
        self.snapshot = snapshot
        self.embedder = embedder
        self._lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> Searcher:
        """Load the live index; raises IndexProblem subclasses with a message saying what to run."""
        embedder = embedder or load_query_embedder(
            settings.model, settings.index, settings.batch_size
        )
        snapshot = IndexStore(settings.index).load(build_spec(settings, embedder))
        return cls(settings, snapshot, embedder)

    def changes(self) -> CorpusChanges:
        """What changed in the corpus folder since this index version was built."""
        files, _ = scan_corpus(self.settings.corpus)
        return corpus_changes(files, self.snapshot.manifest)

    def check_current(self) -> None:
        changes = self.changes()
        if changes.any:
            raise StaleIndex(changes)

    def refresh(self) -> bool:
        """Switch to the live index version if a rebuild made a new one; True if it did."""
        store = IndexStore(self.settings.index)
        live = store.current()
        if live is None or live == self.snapshot.path:
            return False
        with self._lock:
            if live != self.snapshot.path:
                self.snapshot = store.load(build_spec(self.settings, self.embedder))
        return True

    def _allowed(
        self, snapshot: Snapshot, filters: Filters | None, side: Side | None = None
    ) -> np.ndarray | None:
        if (filters is None or filters == Filters()) and side is None:
            return None
        allowed = np.zeros(len(snapshot.chunks), dtype=bool)
        for source, rows in snapshot.rows_of.items():
            document = snapshot.catalog[source]
            if (filters is None or filters.allows(source, document.date)) and (
                side is None or side.holds(document.year)
            ):
                allowed[rows.start : rows.stop] = True
        return allowed

    def _rank(
        self,
        snapshot: Snapshot,
        terms: list[str],
        query: np.ndarray | None,
        mode: Mode,
        depth: int,
        allowed: np.ndarray | None,
        timings: dict[str, float],
    ) -> tuple[Ranking, Ranking, Ranking]:
        """Fused, lexical and dense rankings of the passages ``allowed`` lets through."""
        empty = (np.zeros(0, np.int64), np.zeros(0, np.float32))
        started = time.perf_counter()
        lexical = snapshot.bm25.top(terms, depth, allowed) if mode != Mode.DENSE else empty
        timings["lexical"] = timings.get("lexical", 0.0) + time.perf_counter() - started
        started = time.perf_counter()
        dense = snapshot.vectors.search(query, depth, allowed) if query is not None else empty
        timings["dense"] = timings.get("dense", 0.0) + time.perf_counter() - started
        started = time.perf_counter()
        if mode == Mode.LEXICAL:
            fused = lexical
        elif mode == Mode.DENSE:
            fused = dense
        elif self.settings.fusion == Fusion.WEIGHTED:
            weight = self.settings.lexical_weight
            fused = weighted_score_fusion([lexical, dense], [weight, 1 - weight])
        else:
            fused = reciprocal_rank_fusion([lexical, dense], k=self.settings.rrf_k)
        timings["fusion"] = timings.get("fusion", 0.0) + time.perf_counter() - started
        return fused, lexical, dense

    def search(
        self,
        question: str,
        k: int | None = None,
        mode: Mode | str = Mode.HYBRID,
        filters: Filters | None = None,
        extract: bool = True,
    ) -> Answer:
        """The ``k`` best passages for ``question``; every hit comes from one index version.

        With ``extract`` the answer also holds the sentences of those passages that best
        answer the question (not when confidence is low: then there is no answer to give).
        """
        try:
            mode = Mode.from_str(mode)
        except ValueError as error:
            raise ValueError(f"mode {error}") from None
        if k is not None and k < 1:  # a negative k sliced off the end of the ranking
            raise ValueError(f"k must be at least 1, got {k}")
        # Undecodable bytes in a command line arrive as lone surrogates, which the model's
        # tokenizer (TypeError) and UTF-8 output refuse: each becomes U+FFFD.
        question = _SURROGATES.sub("\ufffd", question)
        snapshot = self.snapshot
        settings = self.settings
        k = k or settings.top_k
        depth = max(settings.candidates, k)
        timings: dict[str, float] = {}
        terms = tokenize(question)

        query = None
        if mode != Mode.LEXICAL and question.strip():
            started = time.perf_counter()
            query = self.embedder.encode_queries([question])[0]
            timings["embed"] = time.perf_counter() - started

        allowed = self._allowed(snapshot, filters)
        (rows, scores), lexical, dense = self._rank(
            snapshot, terms, query, mode, depth, allowed, timings
        )
        timeframe = read_timeframe(question)
        sides = timeframe.sides(snapshot.years)
        comparison = timeframe.comparison and len(sides) >= 2
        candidates = self._candidates(snapshot, rows, scores)
        # Each side's places alternate between the fused and the single rankings, unless
        # tracked recommendations were lifted to the front of the fused one.
        other_rankings = [dense[0].tolist(), lexical[0].tolist()]
        if asks_about_recommendations(question):
            candidates = self._recommendations_first(snapshot, candidates, sides)
            other_rankings = []
        if comparison and settings.diversity == Diversity.SIDES:
            candidates += self._side_candidates(
                snapshot, candidates, sides, terms, query, mode, filters, timings
            )

        started = time.perf_counter()
        candidates = boost_in_time(candidates, sides, settings.time_boost)
        embeddings = snapshot.embeddings
        texts: dict[int, frozenset[tuple[str, ...]]] = {}

        def words(row: int) -> frozenset[tuple[str, ...]]:
            if row not in texts:
                texts[row] = shingles(snapshot.chunks[row].text)
            return texts[row]

        chosen = select(
            candidates,
            k,
            is_duplicate=lambda a, b: containment(words(a), words(b)) >= settings.duplicate_overlap,
            sides=sides if comparison and settings.diversity == Diversity.SIDES else (),
            side_quota=settings.side_quota,
            other_rankings=other_rankings,
            similarity=lambda a, b: float(embeddings[a] @ embeddings[b]),
            mmr_lambda=settings.mmr_lambda if settings.diversity == Diversity.MMR else 1.0,
        )
        timings["select"] = time.perf_counter() - started

        lexical_rank = {int(r): i + 1 for i, r in enumerate(lexical[0])}
        dense_rank = {int(r): i + 1 for i, r in enumerate(dense[0])}

        def hit(rank: int, row: int, score: float, duplicates: tuple[Hit, ...] = ()) -> Hit:
            chunk = snapshot.chunks[row]
            document = snapshot.catalog[chunk.source]
            return Hit(
                rank=rank,
                row=row,
                chunk=chunk,
                title=document.title,
                date=document.date,
                score=float(score),
                lexical_rank=lexical_rank.get(row),
                dense_rank=dense_rank.get(row),
                duplicates=duplicates,
            )

        hits = tuple(
            hit(rank, s.row, s.score, tuple(hit(rank, d, s.score) for d in s.duplicates))
            for rank, s in enumerate(chosen, start=1)
        )
        best = float(dense[1][0]) if len(dense[1]) else None
        low_confidence = mode != Mode.LEXICAL and (best is None or best < settings.min_similarity)
        sentences: tuple[AnswerSentence, ...] = ()
        if extract and not low_confidence and question.strip():
            started = time.perf_counter()
            if asks_about_recommendations(question):
                sentences = self._recommendation_sentences(snapshot, hits, question, sides)
            side_ranks = [[h.rank for h in hits if side.holds(h.year)] for side in sides]
            sentences = sentences or extract_answer(
                question, hits, self.embedder, sides=side_ranks if comparison else ()
            )
            timings["answer"] = time.perf_counter() - started
        return Answer(
            question=question,
            hits=hits,
            timings=timings,
            low_confidence=low_confidence,
            best_similarity=best,
            sentences=sentences,
            groups=document_groups(hits),
            comparison=comparison,
            missing=self._missing(snapshot, hits, sides, query, best) if comparison else (),
        )

    def _candidates(
        self, snapshot: Snapshot, rows: np.ndarray, scores: np.ndarray
    ) -> list[Candidate]:
        out = []
        for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
            source = snapshot.chunks[row].source
            out.append(Candidate(row, float(score), source, snapshot.catalog[source].year))
        return out

    def _tracked(self, snapshot: Snapshot) -> list[TrackedRecommendation]:
        """Tracked recommendations if the corpus is small enough to track them within a
        question, or they are tracked already; otherwise none, and plain retrieval answers."""
        limit = self.settings.track_up_to_documents
        return snapshot_recommendations(snapshot, self.embedder, limit)

    def _recommendations_first(
        self, snapshot: Snapshot, candidates: list[Candidate], sides: tuple[Side, ...]
    ) -> list[Candidate]:
        """Candidates with the passages holding tracked recommendations, and the progress
        reported on them, ahead of the rest (in fused order), for questions about them.

        Only the reports of the periods the question names count, when it names any.
        """
        rows = set()
        for tracked in self._tracked(snapshot):
            places = [(tracked.recommendation.source, tracked.recommendation.places[0].start)]
            if tracked.evidence is not None:
                places.append((tracked.evidence.source, tracked.evidence.place.start))
            for source, offset in places:
                year = snapshot.catalog[source].year
                if not sides or any(side.holds(year) for side in sides):
                    rows.add(snapshot.chunks.row_at(snapshot.rows_of[source], offset))
        if not rows:
            return candidates
        top = max((c.score for c in candidates), default=0.0)
        known = {c.row for c in candidates}
        missing = [
            Candidate(
                row,
                0.0,
                snapshot.chunks[row].source,
                snapshot.catalog[snapshot.chunks[row].source].year,
            )
            for row in sorted(rows - known)
        ]
        lifted = [
            Candidate(c.row, c.score + top, c.source, c.year) if c.row in rows else c
            for c in [*candidates, *missing]
        ]
        return sorted(lifted, key=lambda c: -c.score)

    def _recommendation_sentences(
        self, snapshot: Snapshot, hits: tuple[Hit, ...], question: str, sides: tuple[Side, ...]
    ) -> tuple[AnswerSentence, ...]:
        """The tracked items the question asks about ("remained": the repeated ones, with
        the later report's wording), quoted from the passages shown, oldest report first;
        addressed items bring the sentence that reports the progress."""
        wanted = statuses_asked(question)
        quoted: dict[tuple[str, int], AnswerSentence] = {}
        for tracked in self._tracked(snapshot):
            item = tracked.recommendation
            year = snapshot.catalog[item.source].year
            if (sides and not any(side.holds(year) for side in sides)) or (
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
        return tuple(quoted.values())[: 2 * self.settings.top_k]

    def _side_candidates(
        self,
        snapshot: Snapshot,
        candidates: list[Candidate],
        sides: tuple[Side, ...],
        terms: list[str],
        query: np.ndarray | None,
        mode: Mode,
        filters: Filters | None,
        timings: dict[str, float],
    ) -> list[Candidate]:
        """The best passages of each side the overall ranking missed, ranked below it.

        In a large corpus the overall top candidates can all come from one year; each
        side is then searched on its own, and its passages enter below the others so
        that they fill that side's quota without outranking better evidence.
        """
        floor = min((c.score for c in candidates), default=1.0)
        known = {c.row for c in candidates}
        extra: list[Candidate] = []
        quota = max(self.settings.side_quota, 1)
        for side in sides:
            if sum(side.holds(c.year) for c in candidates) >= quota:
                continue
            allowed = self._allowed(snapshot, filters, side)
            (rows, scores), _, _ = self._rank(
                snapshot, terms, query, mode, quota * 4, allowed, timings
            )
            top = float(scores.max()) if len(scores) else 1.0
            for candidate in self._candidates(snapshot, rows, scores):
                if candidate.row not in known:
                    known.add(candidate.row)
                    scaled = floor * 0.5 * candidate.score / (top or 1.0)
                    extra.append(Candidate(candidate.row, scaled, candidate.source, candidate.year))
        return extra

    def _missing(
        self,
        snapshot: Snapshot,
        hits: tuple[Hit, ...],
        sides: tuple[Side, ...],
        query: np.ndarray | None,
        best: float | None,
    ) -> tuple[str, ...]:
        """One sentence per side of a comparison that has no relevant passage among the hits.

        A side's passages are relevant when the closest is within ``SIDE_MARGIN`` of the
        best passage's similarity to the question. Measured on the reference set's
        comparisons: sides holding gold evidence were at most 0.18 below the best.
        """
        notes = []
        for side in sides:
            if not any(side.holds(year) for year in snapshot.years):
                notes.append(f"No document in the corpus is dated {side.label}.")
                continue
            similarities = [
                float(snapshot.embeddings[h.row] @ query) if query is not None else 1.0
                for h in hits
                if side.holds(h.year)
            ]
            if not similarities or (best is not None and max(similarities) < best - SIDE_MARGIN):
                notes.append(f"No passage from the {side.label} documents answers this question.")
        return tuple(notes)


def document_groups(hits: Sequence[Hit]) -> tuple[DocumentGroup, ...]:
    """The hits grouped by document, oldest document first (undated last), for side by side."""
    groups: dict[str, list[Hit]] = {}
    for hit in hits:
        groups.setdefault(hit.chunk.source, []).append(hit)
    ordered = sorted(
        groups.values(),
        key=lambda group: (group[0].date is None, group[0].date or "", group[0].rank),
    )
    return tuple(
        DocumentGroup(
            source=group[0].chunk.source,
            title=group[0].title,
            date=group[0].date,
            ranks=tuple(h.rank for h in group),
        )
        for group in ordered
    )
