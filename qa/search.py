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
from dataclasses import dataclass

import numpy as np

from qa.corpus import scan_corpus
from qa.dense import Embedder, load_query_embedder
from qa.fusion import reciprocal_rank_fusion, weighted_score_fusion
from qa.indexer import CorpusChanges, build_spec, corpus_changes
from qa.lexical import tokenize
from qa.settings import Settings
from qa.store import IndexStore, Snapshot
from qa.types import Answer, Hit

MODES = ("hybrid", "lexical", "dense")
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
        if date is None:
            return False
        year = int(date[:4])
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

    def _allowed(self, snapshot: Snapshot, filters: Filters | None) -> np.ndarray | None:
        if filters is None or filters == Filters():
            return None
        allowed = np.zeros(len(snapshot.chunks), dtype=bool)
        for source, rows in snapshot.rows_of.items():
            document = snapshot.documents[source]
            if filters.allows(source, document.date):
                allowed[rows.start : rows.stop] = True
        return allowed

    def search(
        self,
        question: str,
        k: int | None = None,
        mode: str = "hybrid",
        filters: Filters | None = None,
    ) -> Answer:
        """The ``k`` best passages for ``question``; every hit comes from one index version."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if k is not None and k < 1:  # a negative k sliced off the end of the ranking
            raise ValueError(f"k must be at least 1, got {k}")
        # Undecodable bytes in a command line arrive as lone surrogates, which the model's
        # tokenizer (TypeError) and UTF-8 output refuse: each becomes U+FFFD.
        question = _SURROGATES.sub("\ufffd", question)
        snapshot = self.snapshot
        k = k or self.settings.top_k
        depth = max(self.settings.candidates, k)
        timings: dict[str, float] = {}
        allowed = self._allowed(snapshot, filters)

        started = time.perf_counter()
        lexical = (np.zeros(0, np.int64), np.zeros(0, np.float32))
        if mode != "dense":
            lexical = snapshot.bm25.top(tokenize(question), depth, allowed)
        timings["lexical"] = time.perf_counter() - started

        dense = (np.zeros(0, np.int64), np.zeros(0, np.float32))
        if mode != "lexical" and question.strip():
            started = time.perf_counter()
            query = self.embedder.encode([question])[0]
            timings["embed"] = time.perf_counter() - started
            started = time.perf_counter()
            dense = snapshot.vectors.search(query, depth, allowed)
            timings["dense"] = time.perf_counter() - started

        started = time.perf_counter()
        if mode == "lexical":
            rows, scores = lexical
        elif mode == "dense":
            rows, scores = dense
        elif self.settings.fusion == "weighted":
            weight = self.settings.lexical_weight
            rows, scores = weighted_score_fusion([lexical, dense], [weight, 1 - weight])
        else:
            rows, scores = reciprocal_rank_fusion([lexical, dense], k=self.settings.rrf_k)
        timings["fusion"] = time.perf_counter() - started

        lexical_rank = {int(r): i + 1 for i, r in enumerate(lexical[0])}
        dense_rank = {int(r): i + 1 for i, r in enumerate(dense[0])}
        hits = []
        for position, (row, score) in enumerate(
            zip(rows[:k].tolist(), scores[:k].tolist(), strict=True)
        ):
            chunk = snapshot.chunks[row]
            document = snapshot.documents[chunk.source]
            hits.append(
                Hit(
                    rank=position + 1,
                    row=row,
                    chunk=chunk,
                    title=document.title,
                    date=document.date,
                    score=float(score),
                    lexical_rank=lexical_rank.get(row),
                    dense_rank=dense_rank.get(row),
                )
            )
        best = float(dense[1][0]) if len(dense[1]) else None
        low_confidence = mode != "lexical" and (best is None or best < self.settings.min_similarity)
        return Answer(
            question=question,
            hits=tuple(hits),
            timings=timings,
            low_confidence=low_confidence,
            best_similarity=best,
        )
