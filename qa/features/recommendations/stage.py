"""The question path's recommendations feature: a question about what reports asked to
improve is answered from the tracked items."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.features.recommendations.records import TrackedRecommendation
from qa.features.recommendations.track import snapshot_recommendations
from qa.index.embedders import Embedder
from qa.index.snapshot import Snapshot
from qa.pipeline.gaps import Gap
from qa.pipeline.select import Candidate
from qa.pipeline.understand import Query
from qa.text import list_spans
from qa.types import AnswerSentence, Hit, Status, display_date

# How similar (cosine, bundled MiniLM) an item must be to a question for the question to name
# its topic, and how close to the best item another must be to share it. Measured on the
# questions of both reference sets answered from these records: those naming a topic ("the
# 2020 recommendation about care leavers' emotional health", "homeless 16- and 17-year-olds",
# "return home interviews", "the response to children who go missing") scored 0.47-0.71 with
# their item; those asking for the lists ("What did Ofsted ask Sutton to improve?") at most
# 0.38. The second item of a topic question scored 0.07-0.08 below the first when it was on
# the topic too (another report's wording), 0.2 or more when not.
TOPIC_SIMILARITY = 0.45
TOPIC_MARGIN = 0.1

_QUESTION_CUE = re.compile(
    r"\brecommend\w*|\bareas?\s+(?:for|of|requiring|needing|that\s+need\w*|which\s+need\w*)\s+"
    r"(?:further\s+)?(?:improv|develop)\w*|\bneed(?:s|ed)?\s+(?:to\s+)?improv\w*"
    r"|\b(?:ask|asked|tell|told|want|wanted|require|required)\b.{0,40}\bto\s+improve\b"
    r"|\bimprovement\s+(?:areas?|points?|priorities)\b|\bareas?\s+to\s+improve\b"
    # "flagged for improvement", "since Ofsted raised it"
    r"|\b(?:flagged|raised|identified|highlighted)\s+(?:\w+\s+){0,2}?(?:for|as)\s+(?:an?\s+)?"
    r"(?:improvement|area|concern|weakness)"
    r"|\b(?:Ofsted|inspectors?)\s+(?:first\s+)?(?:raised|flagged)\b",
    re.IGNORECASE,
)


# Words asking what came of a recommendation rather than what it was: council papers and later
# reports can answer those for a year whose report the corpus lacks.
_OUTCOME_CUE = re.compile(
    r"\b(?:result\w*|came\s+of|come\s+of|happen\w*|respon\w*|progress\w*|dealt|address\w*"
    r"|fix\w*|remain\w*|still|implement\w*|follow\w*|action\w*)\b",
    re.IGNORECASE,
)


# "What did the council say it would do in response to Ofsted's recommendations?" asks about
# the response, which the council's papers state; the items are not its answer.
_RESPONSE = re.compile(r"\b(?:in\s+response\s+to|respond(?:s|ed|ing)?\s+to)\b", re.IGNORECASE)


def asks_about_recommendations(question: str) -> bool:
    """Whether a question is about what reports asked to improve, so the tracked items answer
    it (not what was done in response to them)."""
    return bool(_QUESTION_CUE.search(question)) and not _RESPONSE.search(question)


_STATUS_CUES = {
    Status.REPEATED: re.compile(
        r"\b(?:remain\w*|still|repeat\w*|again|persist\w*|outstanding)\b", re.I
    ),
    Status.ADDRESSED: re.compile(
        r"\b(?:resolv\w*|address\w*|progress\w*|improved|met|fixed|achiev\w*|implement\w*"
        r"|dealt\s+with)\b",
        re.I,
    ),
    Status.NEW: re.compile(r"\b(?:new|first\s+(?:raised|made|time))\b", re.I),
}


def statuses_asked(question: str) -> frozenset[Status]:
    """The statuses a question about recommendations asks for; empty means all of them."""
    return frozenset(status for status, cue in _STATUS_CUES.items() if cue.search(question))


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
        self._encoded: dict[Path, dict[str, np.ndarray]] = {}

    def applies(self, query: Query) -> bool:
        return asks_about_recommendations(query.text)

    def _tracked(self, snapshot: Snapshot) -> list[TrackedRecommendation]:
        return snapshot_recommendations(snapshot, self.embedder, self.up_to_documents)

    def gaps(self, snapshot: Snapshot, query: Query) -> tuple[Gap, ...]:
        """The periods a question about recommendations names that no tracked list comes
        from ("What did Ofsted ask Croydon to improve in 2017?" when the corpus only refers
        to that report); blocking when none of them has one and the question asks for the
        list itself, not what came of it. Said only of a tracked corpus."""
        if not self.applies(query) or not query.sides:
            return ()
        tracked = self._tracked(snapshot)
        if not tracked:
            return ()
        years = {snapshot.catalog[t.recommendation.source].year for t in tracked}
        outcome = bool(_OUTCOME_CUE.search(query.text))
        missing = [side for side in query.sides if not any(side.holds(y) for y in years)]
        return tuple(
            Gap(
                side.label,
                f"No document in the corpus lists recommendations from {side.label}.",
                period=False,
                blocking=len(missing) == len(query.sides) and not outcome,
            )
            for side in missing
        )

    def lift(
        self, snapshot: Snapshot, query: Query, candidates: list[Candidate]
    ) -> list[Candidate]:
        """Candidates with the passages holding the items asked about (:meth:`asked`), and
        the progress reported on them, ahead of the rest (in fused order)."""
        rows = set()
        for tracked in self.asked(snapshot, query):
            places = [(tracked.recommendation.source, tracked.recommendation.places[0].start)]
            if tracked.evidence is not None:
                places.append((tracked.evidence.source, tracked.evidence.place.start))
            for source, offset in places:
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

    def asked(self, snapshot: Snapshot, query: Query) -> list[TrackedRecommendation]:
        """The tracked items the question asks about, oldest report first: of the reports of
        the organisations and periods it names (all, if none); those on the topic it names,
        if it names one ("Were homeless 16- and 17-year-olds still an improvement area?":
        whatever their status, since the status is what it asks), else those of the statuses
        it asks for (all, if none)."""
        catalog = snapshot.catalog
        items = [
            tracked
            for tracked in self._tracked(snapshot)
            if (
                not query.organisations
                or catalog[tracked.recommendation.source].organisation in query.organisations
            )
            and (
                not query.sides
                or any(
                    side.holds(catalog[tracked.recommendation.source].year) for side in query.sides
                )
            )
        ]
        on_topic = self._on_topic(snapshot, query, items)
        if on_topic:
            return on_topic
        wanted = statuses_asked(query.text)
        return [tracked for tracked in items if not wanted or tracked.status in wanted]

    def _on_topic(
        self, snapshot: Snapshot, query: Query, items: Sequence[TrackedRecommendation]
    ) -> list[TrackedRecommendation]:
        """The items within :data:`TOPIC_MARGIN` of the one most similar to the question,
        when that one is at least :data:`TOPIC_SIMILARITY` similar: the question names its
        topic."""
        if not items or query.blank:
            return []
        # a council's name in the question and in its items is no topic they share
        names = re.compile(
            "|".join(rf"\b{re.escape(name)}(?:['’]s)?\b" for name in sorted(snapshot.organisations))
            or r"(?!)",
            re.IGNORECASE,
        )
        texts = [names.sub("", t.recommendation.text) for t in items]
        vectors = self._vectors(snapshot, texts)
        question = self.embedder.encode_queries([names.sub("", query.text)])[0]
        similarity = vectors @ question
        best = float(similarity.max())
        if best < TOPIC_SIMILARITY:
            return []
        return [
            t for t, score in zip(items, similarity, strict=True) if score >= best - TOPIC_MARGIN
        ]

    def _vectors(self, snapshot: Snapshot, texts: Sequence[str]) -> np.ndarray:
        """The items' vectors, encoded once per index version."""
        cached = self._encoded.setdefault(snapshot.path, {})
        if len(self._encoded) > 4:
            self._encoded.clear()
            cached = self._encoded.setdefault(snapshot.path, {})
        missing = [text for text in dict.fromkeys(texts) if text not in cached]
        if missing:
            cached.update(zip(missing, self.embedder.encode(missing), strict=True))
        return np.stack([cached[text] for text in texts])

    def answer(
        self, snapshot: Snapshot, query: Query, hits: Sequence[Hit], limit: int
    ) -> tuple[str, tuple[AnswerSentence, ...]]:
        """The tracked items the question asks about ("remained": the repeated ones, with
        the later report's wording), quoted from the passages shown, oldest report first;
        addressed items bring the sentence that reports the progress. "How many ...?" is
        answered with each report's number of items, quoting the list that holds them."""
        asked = self.asked(snapshot, query)
        if _HOW_MANY.search(query.text):
            return _counted(snapshot, asked, hits)
        quoted: dict[tuple[str, int], AnswerSentence] = {}
        for tracked in asked:
            item = tracked.recommendation
            # one place per item (the first shown), then the progress sentence if shown
            spans = [[(item.source, place) for place in item.places]]
            if tracked.evidence is not None:
                spans.append([(tracked.evidence.source, tracked.evidence.place)])
            for places in spans:
                for source, place in places:
                    hit = _shown(hits, source, place.start, place.end)
                    if hit is not None:
                        if (source, place.start) not in quoted:
                            text = snapshot.documents[source].text[place.start : place.end]
                            quoted[(source, place.start)] = AnswerSentence(
                                text, hit.rank, source, place.start, place.end
                            )
                        break
        return "", tuple(quoted.values())[:limit]


_HOW_MANY = re.compile(r"\bhow\s+many\b", re.IGNORECASE)


def _shown(hits: Sequence[Hit], source: str, start: int, end: int) -> Hit | None:
    """The first hit whose passage holds ``source[start:end]``."""
    return next(
        (
            h
            for h in hits
            if h.chunk.source == source and h.chunk.start <= start and end <= h.chunk.end
        ),
        None,
    )


def _counted(
    snapshot: Snapshot, asked: Sequence[TrackedRecommendation], hits: Sequence[Hit]
) -> tuple[str, tuple[AnswerSentence, ...]]:
    """Each report's number of items ("How many recommendations did Ofsted make in 2020, and
    how many in 2024?"), citing and quoting the list holding them, whose lead-in usually
    says the number ("Inspectors made four recommendations for improvement:")."""
    by_source: dict[str, list[TrackedRecommendation]] = {}
    for tracked in asked:
        by_source.setdefault(tracked.recommendation.source, []).append(tracked)
    parts: list[str] = []
    quotes: list[AnswerSentence] = []
    for source, items in by_source.items():
        entry = snapshot.catalog[source]
        shown = _list_shown(items, hits)
        cited = f" [{shown.rank}]" if shown else ""
        parts.append(f"{entry.title} ({display_date(entry.date)}){cited}: {len(items)}")
        if shown is not None:
            quotes.append(shown)
    return f"Items listed: {'; '.join(parts)}.", tuple(quotes)


def _list_shown(
    items: Sequence[TrackedRecommendation], hits: Sequence[Hit]
) -> AnswerSentence | None:
    """The list (with its lead-in) that holds one of ``items``, in a hit shown."""
    for tracked in items:
        for place in tracked.recommendation.places:
            hit = _shown(hits, tracked.recommendation.source, place.start, place.end)
            if hit is None:
                continue
            offset = place.start - hit.chunk.start
            for start, end in list_spans(hit.chunk.text):
                if start <= offset < end:
                    return AnswerSentence(
                        hit.chunk.text[start:end],
                        hit.rank,
                        hit.chunk.source,
                        hit.chunk.start + start,
                        hit.chunk.start + end,
                    )
    return None
