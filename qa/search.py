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
from collections.abc import Iterator
from contextlib import contextmanager

from qa.backends.loading import load_version
from qa.corpus.organisations import mentions_other
from qa.features.judgements.stage import JudgementStage
from qa.features.recommendations import RecommendationStage
from qa.index.build import build_spec
from qa.index.embedders import Embedder, load_query_embedder
from qa.index.snapshot import Snapshot
from qa.index.store import IndexStore
from qa.pipeline.answer import extract_answer
from qa.pipeline.assemble import assemble_hits, document_groups, missing_periods
from qa.pipeline.findings import unstated_finding
from qa.pipeline.gaps import Gap, find_gaps, unanswerable
from qa.pipeline.retrieve import (
    Rankings,
    candidates_of,
    period_candidates,
    retrieve,
    search_scope,
)
from qa.pipeline.select import choose
from qa.pipeline.understand import Query, understand
from qa.settings import Settings
from qa.types import Answer, AnswerSentence, Diversity, Filters, Hit, Mode

ANSWER_PASSAGES = 5
"""The best passages whose sentences the extractive answer weighs, whatever k.

Every sentence it weighs is run through the encoder: 3.5 s at k = 100 (issue 16). Measured
on the 126 reference questions at k = 100 on the shipped corpus: the first passage holding
a gold quote is among the best 5 for 91 of the 99 answerable questions that have one (the
best 3 for 86); answers from the best 5 are those of k = 5 for 124 questions and hold a
gold quote as often (first sentence 42, any sentence 55), where answers from all 100 hold
fewer (40, 52), and from the best 8 too (39, 54)."""

LATER_PERIOD_SENTENCES = 2
"""How many sentences of a later period a recommendation comparison quotes when no item
answered is from it (:meth:`Searcher._with_every_period`), within the answer's relevance
margin. One sentence of another report rarely settles what came of an item: with one, 10 of
the 12 home comparisons had a gold sentence for every period (the 2024 sentence chosen for
"Did anything come of the 2020 recommendation about care leavers' emotional health needs?"
was on care leavers' health histories, the gold one second); with two, 11 before the
reference set's correction of q108 (12 after), nothing else changed at home or on ilacs."""


NO_SENTENCES: tuple[AnswerSentence, ...] = ()


class Searcher:
    """Hybrid search over one index version; :meth:`refresh` moves to a newer version."""

    def __init__(self, settings: Settings, snapshot: Snapshot, embedder: Embedder) -> None:
        self.settings = settings
        self.snapshot = snapshot
        self.embedder = embedder
        self.recommendations = RecommendationStage(embedder, settings.track_up_to_documents)
        self.judgements = JudgementStage(embedder, settings.track_up_to_documents)
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
        answer the question (not when the corpus does not hold what it asks, or when
        confidence is low: then there is no answer to give).
        """
        try:
            mode = Mode.from_str(mode)
        except ValueError as error:
            raise ValueError(f"mode {error}") from None
        if k is not None and k < 1:  # a negative k sliced off the end of the ranking
            raise ValueError(f"k must be at least 1, got {k}")
        k = k or self.settings.top_k
        snapshot = self.snapshot  # one version for the whole question, whatever refresh does
        timings: dict[str, float] = {}

        with _timed(timings, "understand"):
            query = understand(
                question, mode, self.embedder, snapshot.years, snapshot.organisation_years
            )
        rankings = retrieve(
            snapshot,
            query,
            max(self.settings.candidates, k),
            search_scope(filters),
            self.settings,
            timings,
        )
        hits = self._select(snapshot, query, rankings, k, filters, timings)
        with _timed(timings, "assemble"):
            gaps = self._gaps(snapshot, query)
            notes = (
                *(gap.note for gap in gaps),
                *missing_periods(
                    snapshot,
                    query,
                    hits,
                    rankings.best_similarity,
                    frozenset(g.label for g in gaps),
                ),
            )
        refused = unanswerable(query, gaps)
        weak = mode != Mode.LEXICAL and (
            rankings.best_similarity is None
            or rankings.best_similarity < self.settings.min_similarity
        )
        statement, sentences = "", NO_SENTENCES
        if extract and not query.blank and not refused:
            with _timed(timings, "answer"):
                statement, sentences, lacking = self._answer(snapshot, query, hits, weak)
            if lacking:
                notes, refused = (*notes, lacking), True
        # Records (a grade, a tracked recommendation) answer even where the passages are only
        # weakly similar to the question's wording; nothing answers what the corpus lacks.
        return Answer(
            question=query.text,
            hits=hits,
            timings=timings,
            low_confidence=refused or (weak and not sentences),
            best_similarity=rankings.best_similarity,
            sentences=sentences,
            groups=document_groups(hits),
            comparison=query.comparison,
            missing=notes,
            statement=statement,
        )

    def _select(
        self,
        snapshot: Snapshot,
        query: Query,
        rankings: Rankings,
        k: int,
        filters: Filters | None,
        timings: dict[str, float],
    ) -> tuple[Hit, ...]:
        """Stages 3 and 4: the features lift their records' passages, each compared period
        gets its candidates, and the k hits are chosen and cited."""
        candidates = candidates_of(snapshot, rankings.fused)
        # A period's places alternate between the fused and the single rankings, unless
        # tracked recommendations were lifted to the front of the fused one.
        other_rankings = [rankings.dense[0].tolist(), rankings.lexical[0].tolist()]
        by_period = True
        with _timed(timings, "features"):
            if self.recommendations.applies(query):
                candidates = self.recommendations.lift(snapshot, query, candidates)
                other_rankings = []
            elif self.judgements.applies(query, snapshot):
                lifted = self.judgements.lift(snapshot, query, candidates)
                by_period = lifted == candidates  # the records already give each period
                candidates = lifted
        if query.by_period and self.settings.diversity == Diversity.SIDES:
            candidates += period_candidates(
                snapshot, query, candidates, filters, self.settings, timings
            )
        with _timed(timings, "select"):
            chosen = choose(
                snapshot, candidates, k, query, other_rankings, self.settings, by_period
            )
        return assemble_hits(snapshot, chosen, rankings)

    def _gaps(self, snapshot: Snapshot, query: Query) -> tuple[Gap, ...]:
        """What the corpus does not hold of what the question asks: periods, organisations
        and reports (:mod:`qa.pipeline.gaps`), recommendation lists and grades (features)."""
        if query.blank:
            return ()
        return (
            *find_gaps(query, snapshot),
            *self.recommendations.gaps(snapshot, query),
            *self.judgements.gaps(snapshot, query),
        )

    def _answer(
        self, snapshot: Snapshot, query: Query, hits: tuple[Hit, ...], weak: bool
    ) -> tuple[str, tuple[AnswerSentence, ...], str | None]:
        """Stage 5: from records when the question is about them, else (unless even the best
        passage is a weak match) quoted from the best :data:`ANSWER_PASSAGES` passages; and,
        when the quoted sentences do not state the count, sum or role's holder the question
        asks for, the note saying so (then there is no answer to give).

        Records answer a weakly matched question only when it names what they are about, an
        organisation or a graded aspect ("Was the impact of leaders judged the same in 2020
        and 2024?", 0.225): "What is the interest rate set by the central bank?" (0.11) says
        "rate" but is not about a grade."""
        if weak and not (query.organisations or self.judgements.names_aspect(snapshot, query)):
            return "", NO_SENTENCES, None
        statement, sentences = self._answer_from_records(snapshot, query, hits)
        if sentences or weak:
            return statement, sentences, None
        sentences = self._extract(snapshot, query, hits[:ANSWER_PASSAGES])
        lacking = unstated_finding(query.text, sentences) or self.judgements.unstated_grade(
            snapshot, query, sentences
        )
        return statement, NO_SENTENCES if lacking else sentences, lacking

    def _answer_from_records(
        self, snapshot: Snapshot, query: Query, hits: tuple[Hit, ...]
    ) -> tuple[str, tuple[AnswerSentence, ...]]:
        """Stage 5, from records: the recommendation items asked about, or the grades asked
        about with their statement; nothing when the question is about neither."""
        if self.recommendations.applies(query):
            limit = 2 * self.settings.top_k
            statement, items = self.recommendations.answer(snapshot, query, hits, limit)
            return statement, self._with_every_period(query, hits, items)
        if self.judgements.applies(query, snapshot):
            return self.judgements.answer(snapshot, query, hits)
        return "", ()

    def _with_every_period(
        self, query: Query, hits: tuple[Hit, ...], sentences: tuple[AnswerSentence, ...]
    ) -> tuple[AnswerSentence, ...]:
        """``sentences`` (items quoted from records) and, when the question compares periods,
        the best sentences (:data:`LATER_PERIOD_SENTENCES`) of each later period none of them
        is from, quoted from that period's passages among the best :data:`ANSWER_PASSAGES`;
        in date order. "Did anything come of the 2020 recommendation about care leavers'
        emotional health needs?" gets the 2020 item and sentences of the 2024 report on the
        topic, though no tracked link says one addresses it. An earlier period is not filled:
        "Which improvement areas of 2024 are new?" has no 2020 item to quote, by design."""
        if not sentences or not query.comparison:
            return sentences
        by_rank = {hit.rank: hit for hit in hits}
        covered = {year for s in sentences if (year := by_rank[s.rank].year) is not None}
        added: list[AnswerSentence] = []
        for side in query.sides:
            if not covered or side.first <= max(covered):
                continue
            inside = [h for h in hits[:ANSWER_PASSAGES] if side.holds(h.year)]
            added += extract_answer(
                query.text, inside, self.embedder, max_sentences=LATER_PERIOD_SENTENCES
            )
        if not added:
            return sentences
        return tuple(sorted((*sentences, *added), key=lambda s: by_rank[s.rank].date or ""))

    def _extract(
        self, snapshot: Snapshot, query: Query, hits: tuple[Hit, ...]
    ) -> tuple[AnswerSentence, ...]:
        """Stage 5, from text: the best sentences (one per compared period for a comparison;
        from the latest documents for "now", "current", "at present"; from the documents of
        the period a question names when any passage comes from them, so "Who led the 2021
        inspection?" is not answered from the 2025 report). Likewise a question naming
        organisations is answered from their documents when any passage comes from them:
        "Who led Hampshire's 2024 inspection?" is not answered from another council's. A
        question naming a place the corpus has no documents of ("How were Northamptonshire
        County Council's services judged in 2019?", asked of West Northamptonshire's reports)
        is answered from the passages that mention it, when any do, whatever their date."""
        named = [h for h in hits if h.organisation in query.organisations]
        if not named and query.others:
            named = [
                h
                for h in hits
                if mentions_other(h.chunk.text, query.others, snapshot.organisations)
            ]
        hits = tuple(named) if named else hits
        periods = [[h.rank for h in hits if side.holds(h.year)] for side in query.sides]
        if query.comparison:
            return extract_answer(query.text, hits, self.embedder, sides=periods)
        if query.timeframe.latest and periods and periods[-1]:
            latest = [h for h in hits if h.rank in periods[-1]]
            return extract_answer(query.text, latest, self.embedder)
        in_period = [h for h in hits if any(h.rank in ranks for ranks in periods)]
        return extract_answer(query.text, in_period or hits, self.embedder)


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Add the time the block takes to ``timings[stage]`` (``qa ask -v`` prints them)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - started
