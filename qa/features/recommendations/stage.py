"""The question path's recommendations feature: a question about what reports asked to
improve is answered from the tracked items."""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.features.recommendations.records import TrackedRecommendation
from qa.features.recommendations.track import snapshot_recommendations
from qa.index.embedders import Embedder
from qa.index.snapshot import Snapshot
from qa.pipeline.gaps import Gap
from qa.pipeline.select import Candidate
from qa.pipeline.understand import Query
from qa.text import list_spans
from qa.types import AnswerSentence, Hit, Status, display_date

_QUESTION_CUE = re.compile(
    r"\brecommend\w*|\bareas?\s+(?:for|of|requiring|needing|that\s+need\w*|which\s+need\w*)\s+"
    r"(?:further\s+)?(?:improv|develop)\w*|\bneed(?:s|ed)?\s+(?:to\s+)?improv\w*"
    r"|\b(?:ask|asked|tell|told|want|wanted|require|required)\b.{0,40}\bto\s+improve\b",
    re.IGNORECASE,
)


# Words asking what came of a recommendation rather than what it was: council papers and later
# reports can answer those for a year whose report the corpus lacks.
_OUTCOME_CUE = re.compile(
    r"\b(?:result\w*|came\s+of|come\s+of|happen\w*|respon\w*|progress\w*|dealt|address\w*"
    r"|fix\w*|remain\w*|still|implement\w*|follow\w*|action\w*)\b",
    re.IGNORECASE,
)


def asks_about_recommendations(question: str) -> bool:
    """Whether a question is about what reports asked to improve, so the tracked items answer it."""
    return bool(_QUESTION_CUE.search(question))


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
        """Candidates with the passages holding tracked items, and the progress reported on
        them, ahead of the rest (in fused order); only the reports of the periods the question
        names count, when it names any, and only the items of the statuses it asks for
        ("dealt with": the addressed ones and their progress), when it asks for any."""
        rows = set()
        wanted = statuses_asked(query.text)
        for tracked in self._tracked(snapshot):
            if wanted and tracked.status not in wanted:
                continue
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

    def asked(self, snapshot: Snapshot, query: Query) -> list[TrackedRecommendation]:
        """The tracked items the question asks about: of the reports of the periods it names
        (all, if none) and of the statuses it asks for (all, if none), oldest report first."""
        wanted = statuses_asked(query.text)
        return [
            tracked
            for tracked in self._tracked(snapshot)
            if not (
                query.sides
                and not any(
                    side.holds(snapshot.catalog[tracked.recommendation.source].year)
                    for side in query.sides
                )
            )
            and not (wanted and tracked.status not in wanted)
        ]

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
