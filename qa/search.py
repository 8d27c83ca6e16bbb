"""Searcher: load an index once, answer many questions by running the question path's stages.

understand → retrieve → (features) → select → assemble → answer; each stage is a function
of :mod:`qa.pipeline`, and features such as recommendations plug in between them. The
CLI, the app and the evaluation all search through this class.

Example::

    searcher = Searcher.open(load_settings())
    answer = searcher.search("Which recommendations from 2020 remained in 2024?", k=5)
    for hit in answer.hits:
        print(hit.rank, cite(hit).line())  # qa.citation
"""

from __future__ import annotations

import threading
import time

from qa.backends.loading import load_version
from qa.features.judgements.stage import JudgementStage
from qa.features.recommendations import RecommendationStage
from qa.index.build import build_spec
from qa.index.embedders import Embedder, load_query_embedder
from qa.index.store import IndexStore, Snapshot
from qa.pipeline.answer import extract_answer
from qa.pipeline.assemble import assemble_hits, document_groups, missing_periods
from qa.pipeline.gaps import find_gaps, unanswerable
from qa.pipeline.retrieve import candidates_of, period_candidates, retrieve, search_scope
from qa.pipeline.select import choose
from qa.pipeline.understand import Query, understand
from qa.settings import Settings
from qa.types import Answer, AnswerSentence, Diversity, Filters, Hit, Mode


class Searcher:
    """Hybrid search over one index version; :meth:`refresh` moves to a newer version."""

    def __init__(self, settings: Settings, snapshot: Snapshot, embedder: Embedder) -> None:
        self.settings = settings
        self.snapshot = snapshot
        self.embedder = embedder
        self.recommendations = RecommendationStage(embedder, settings.track_up_to_documents)
        self.judgements = JudgementStage(embedder)
        self._lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> Searcher:
        """Load the live index; raises IndexProblem subclasses with a message saying what to run."""
        embedder = embedder or load_query_embedder(
            settings.model, settings.index, settings.batch_size
        )
        snapshot = load_version(settings, build_spec(settings, embedder))
        return cls(settings, snapshot, embedder)

    def refresh(self) -> bool:
        """Switch to the live index version if a rebuild made a new one; True if it did."""
        store = IndexStore(self.settings.index)
        live = store.current()
        if live is None or live == self.snapshot.path:
            return False
        with self._lock:
            if live != self.snapshot.path:
                self.snapshot = load_version(
                    self.settings, build_spec(self.settings, self.embedder)
                )
        return True

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
        k = k or self.settings.top_k
        snapshot, settings = self.snapshot, self.settings
        timings: dict[str, float] = {}

        started = time.perf_counter()
        query = understand(question, mode, self.embedder, snapshot.years, snapshot.organisations)
        timings["understand"] = time.perf_counter() - started
        rankings = retrieve(
            snapshot,
            query,
            max(settings.candidates, k),
            search_scope(filters),
            settings,
            timings,
        )
        candidates = candidates_of(snapshot, rankings.fused)
        # A period's places alternate between the fused and the single rankings, unless
        # tracked recommendations were lifted to the front of the fused one.
        other_rankings = [rankings.dense[0].tolist(), rankings.lexical[0].tolist()]
        if self.recommendations.applies(query):
            candidates = self.recommendations.lift(snapshot, query, candidates)
            other_rankings = []
        elif self.judgements.applies(query):
            candidates = self.judgements.lift(snapshot, query, candidates)
        if query.comparison and settings.diversity == Diversity.SIDES:
            candidates += period_candidates(snapshot, query, candidates, filters, settings, timings)

        started = time.perf_counter()
        chosen = choose(snapshot, candidates, k, query, other_rankings, settings)
        timings["select"] = time.perf_counter() - started

        hits = assemble_hits(snapshot, chosen, rankings)
        best = rankings.best_similarity
        gaps = find_gaps(query, snapshot) if not query.blank else ()
        missing = unanswerable(query, gaps)
        weak = mode != Mode.LEXICAL and (best is None or best < settings.min_similarity)
        statement = ""
        sentences: tuple[AnswerSentence, ...] = ()
        if extract and not query.blank and not missing:
            started = time.perf_counter()
            statement, sentences = self._answer_from_records(snapshot, query, hits)
            if not sentences and not weak:
                sentences = self._extract(query, hits)
            timings["answer"] = time.perf_counter() - started
        # Records (a grade, a tracked recommendation) answer even where the passages are only
        # weakly similar to the question's wording; nothing answers what the corpus lacks.
        low_confidence = missing or (weak and not sentences)
        return Answer(
            question=query.text,
            hits=hits,
            timings=timings,
            low_confidence=low_confidence,
            best_similarity=best,
            sentences=sentences,
            groups=document_groups(hits),
            comparison=query.comparison,
            missing=(
                *(gap.note for gap in gaps),
                *missing_periods(snapshot, query, hits, best, frozenset(g.label for g in gaps)),
            ),
            statement=statement,
        )

    def _answer_from_records(
        self, snapshot: Snapshot, query: Query, hits: tuple[Hit, ...]
    ) -> tuple[str, tuple[AnswerSentence, ...]]:
        """Stage 5, from records: the recommendation items asked about, or the grades asked
        about with their statement; nothing when the question is about neither."""
        if self.recommendations.applies(query):
            limit = 2 * self.settings.top_k
            return "", self.recommendations.answer(snapshot, query, hits, limit)
        if self.judgements.applies(query):
            return self.judgements.answer(snapshot, query, hits)
        return "", ()

    def _extract(self, query: Query, hits: tuple[Hit, ...]) -> tuple[AnswerSentence, ...]:
        """Stage 5, from text: the best sentences (one per compared period for a comparison;
        from the latest documents first for "now", "current", "at present")."""
        periods = [[h.rank for h in hits if side.holds(h.year)] for side in query.sides]
        if query.comparison:
            return extract_answer(query.text, hits, self.embedder, sides=periods)
        if query.timeframe.latest and periods and periods[-1]:
            latest = [h for h in hits if h.rank in periods[-1]]
            return extract_answer(query.text, latest, self.embedder)
        return extract_answer(query.text, hits, self.embedder)
