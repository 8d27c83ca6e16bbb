"""Choose the k passages to show from the fused candidates (pure).

Fusion ranks passages one by one; a reader needs k *distinct* pieces of evidence, and a
question that compares years needs evidence from each year. Three rules, applied in order:

1. **Time boost**: passages from documents dated in the periods the question names gain
   ``time_boost`` (relative) on their fused score.
2. **Sides** (``diversity="sides"``, comparisons only): the best ``side_quota`` passages of
   each side enter first, so "2020 against 2024" cannot come back as five 2024 passages.
   A side's picks alternate between the fused ranking and the single retrievers' ones.
   ``diversity="mmr"`` instead trades relevance against similarity to the passages already
   chosen (maximal marginal relevance), for every question.
3. **Duplicates**: a passage that repeats one already chosen *from the same document*
   (the summary of a report repeating its appendix) is folded into it, so the chosen hit
   cites both places. Passages of different documents are never folded: two reports saying
   the same thing are two pieces of evidence, often the two sides of a comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from qa.index.snapshot import Snapshot
from qa.pipeline.findings import Finding, asks_for_role_holder, states_finding
from qa.pipeline.timeframe import Side
from qa.pipeline.understand import Query
from qa.settings import Settings
from qa.text import shingles
from qa.types import Diversity


@dataclass(frozen=True)
class Candidate:
    row: int
    score: float
    source: str
    year: int | None


@dataclass
class Selected:
    row: int
    score: float
    duplicates: list[int] = field(default_factory=list)


def boost(
    candidates: Sequence[Candidate], favoured: Callable[[Candidate], bool], factor: float
) -> list[Candidate]:
    """Candidates with the ``favoured`` ones' scores raised by ``factor`` (relative), best
    first (stable for equal scores)."""
    if factor == 0:
        return list(candidates)
    boosted = [
        Candidate(c.row, c.score * (1 + factor), c.source, c.year) if favoured(c) else c
        for c in candidates
    ]
    return sorted(boosted, key=lambda c: -c.score)


def boost_in_time(
    candidates: Sequence[Candidate], sides: Sequence[Side], factor: float
) -> list[Candidate]:
    """Candidates from documents dated in the named periods raised by the time boost."""
    if not sides:
        return list(candidates)
    return boost(candidates, lambda c: any(side.holds(c.year) for side in sides), factor)


# How many of the best candidates are read for a role holder's name (a regular expression
# over each passage's text; the cover page naming the lead inspector was among the best 30
# wherever it was among the best 100, measured on the 32 lead-inspector phrasings below).
ROLE_HOLDER_DEPTH = 30


def boost_role_holders(
    snapshot: Snapshot, candidates: Sequence[Candidate], query: Query, factor: float
) -> list[Candidate]:
    """For a question asking who holds a role, the best candidates naming a person beside
    that role (or beside any role, for "Who led ...?") raised by ``factor``, when they come
    from the documents the question names (its organisations' and periods').

    "Who led Ofsted's most recent inspection of children's services in Hampshire?" shares
    more words with the inspectorate's boilerplate ("The Office for Standards in Education,
    Children's Services and Skills (Ofsted) regulates and inspects ...") than with the cover
    page's "Lead inspector: Kendra Bell". Measured on four phrasings of "who led the latest
    inspection" for each of the 8 ilacs councils: 22 of 32 answered at 0, 30 at 0.5 and 0.7,
    29 at 1.0; both reference sets unchanged at 0.5 (at 1.0, or lifting for every "who"
    question, "Who provides Sutton's out-of-hours service?" was answered with the inspector).
    """
    if factor == 0 or not asks_for_role_holder(query.text):
        return list(candidates)
    catalog = snapshot.catalog
    best = sorted(candidates, key=lambda c: -c.score)[:ROLE_HOLDER_DEPTH]
    naming = {
        c.row
        for c in best
        if (not query.organisations or catalog[c.source].organisation in query.organisations)
        and (not query.sides or any(side.holds(c.year) for side in query.sides))
        and states_finding(Finding.PERSON, snapshot.chunks[c.row].text, query.text)
    }
    return boost(candidates, lambda c: c.row in naming, factor)


def containment(first: frozenset[tuple[str, ...]], second: frozenset[tuple[str, ...]]) -> float:
    """Share of the smaller passage's word 4-grams found in the other; 0 for tiny passages.

    Passages under 10 four-grams (headings, titles) are never called duplicates: a
    heading is contained in the section it heads without repeating its evidence.
    """
    smaller = min(len(first), len(second))
    if smaller < 10:
        return 0.0
    return len(first & second) / smaller


def select(
    candidates: Sequence[Candidate],
    k: int,
    *,
    is_duplicate: Callable[[int, int], bool],
    sides: Sequence[Side] = (),
    side_quota: int = 0,
    other_rankings: Sequence[Sequence[int]] = (),
    similarity: Callable[[int, int], float] | None = None,
    mmr_lambda: float = 1.0,
) -> list[Selected]:
    """The k passages to show in order, each with the duplicates folded into it.

    ``candidates`` come best first. With ``side_quota`` and ``sides``, each side's best
    passages come first (by score, after the best passage overall), then the rest; a side's picks alternate between the
    fused order and ``other_rankings`` (rows best first, e.g. the dense ranking), so a
    passage one retriever is sure of is not lost to ones both find middling; with ``similarity`` and ``mmr_lambda``
    < 1 the rest are chosen by maximal marginal relevance instead of score alone. The
    order never depends on ``k``: the first 5 of 10 are the 5 a search for 5 returns.
    """
    wanted, k = k, max(k, len(sides) * side_quota + 1)  # the same picks for any k
    chosen: list[Selected] = []
    by_row = {c.row: c for c in candidates}

    def fold(candidate: Candidate) -> bool:
        for selected in chosen:
            if by_row[selected.row].source == candidate.source and is_duplicate(
                selected.row, candidate.row
            ):
                selected.duplicates.append(candidate.row)
                return True
        return False

    taken: set[int] = set()
    if sides and side_quota > 0 and candidates:  # the best passage leads whatever its date
        taken.add(candidates[0].row)
        chosen.append(Selected(candidates[0].row, candidates[0].score))
    orders = [list(candidates)] + [
        [by_row[row] for row in ranking if row in by_row] for ranking in other_rankings
    ]
    for pick in range(side_quota):  # round robin, so no side takes all the places
        for side in sides:
            if len(chosen) == k or sum(side.holds(by_row[c.row].year) for c in chosen) > pick:
                continue
            order = orders[pick % len(orders)]
            candidate = next((c for c in order if c.row not in taken and side.holds(c.year)), None)
            if candidate is None:
                continue
            taken.add(candidate.row)
            if not fold(candidate):
                chosen.append(Selected(candidate.row, candidate.score))
    chosen.sort(key=lambda s: -s.score)
    remaining = [c for c in candidates if c.row not in taken]
    while remaining and len(chosen) < k:
        candidate = _next(remaining, chosen, similarity, mmr_lambda)
        remaining.remove(candidate)
        if not fold(candidate):
            chosen.append(Selected(candidate.row, candidate.score))
    for candidate in remaining:  # duplicates ranked below the k-th passage still get cited
        fold(candidate)
    return chosen[:wanted]


def _next(
    remaining: list[Candidate],
    chosen: list[Selected],
    similarity: Callable[[int, int], float] | None,
    mmr_lambda: float,
) -> Candidate:
    if similarity is None or mmr_lambda >= 1 or not chosen:
        return remaining[0]
    top = remaining[0].score or 1.0

    def marginal(candidate: Candidate) -> float:
        redundancy = max(similarity(candidate.row, s.row) for s in chosen)
        return mmr_lambda * candidate.score / top - (1 - mmr_lambda) * redundancy

    return max(remaining, key=marginal)


def choose(
    snapshot: Snapshot,
    candidates: Sequence[Candidate],
    k: int,
    query: Query,
    other_rankings: Sequence[Sequence[int]],
    settings: Settings,
    by_period: bool = True,
) -> list[Selected]:
    """Stage 3, select: the time boost for the periods the question names, the organisation
    boost for the organisations it names, the role-holder boost, then
    :func:`select` with the settings' diversity (periods take turns only when the
    question compares them and ``by_period``: not when a feature has lifted the passages
    stating each period's record). Duplicates are judged on word 4-grams, read once per row.
    """
    candidates = boost_in_time(candidates, query.sides, settings.time_boost)
    if query.organisations:
        named = {
            source
            for source, entry in snapshot.catalog.items()
            if entry.organisation in query.organisations
        }
        candidates = boost(candidates, lambda c: c.source in named, settings.organisation_boost)
    candidates = boost_role_holders(snapshot, candidates, query, settings.role_holder_boost)
    embeddings = snapshot.embeddings
    words: dict[int, frozenset[tuple[str, ...]]] = {}

    def shingles_of(row: int) -> frozenset[tuple[str, ...]]:
        if row not in words:
            words[row] = shingles(snapshot.chunks[row].text)
        return words[row]

    by_sides = by_period and query.by_period and settings.diversity == Diversity.SIDES
    return select(
        candidates,
        k,
        is_duplicate=lambda a, b: (
            containment(shingles_of(a), shingles_of(b)) >= settings.duplicate_overlap
        ),
        sides=query.sides if by_sides else (),
        side_quota=settings.side_quota,
        other_rankings=other_rankings,
        similarity=lambda a, b: float(embeddings[a] @ embeddings[b]),
        mmr_lambda=settings.mmr_lambda if settings.diversity == Diversity.MMR else 1.0,
    )
