"""The relevance rule and the metrics, for the reference set and for BEIR (pure functions).

A retrieved passage *covers* an evidence item when it comes from the quoted document
and its text contains the quote, both with whitespace runs collapsed to one space and case
ignored (a quote starting a sentence is the same words mid-sentence: "Children aged 16 and
17 ..." in "Inspectors found that children aged 16 and 17 ..."), or does so for one of the
item's ``alternatives`` (the same fact stated elsewhere).
For each question with evidence, averaged over questions:

* ``R@c``: the fraction of the question's evidence items covered by the top ``c``
  passages;
* ``MRR@k``: one over the rank of the first passage that covers any item;
* ``nDCG@k``: each evidence item is worth 1 at the rank of the first passage that
  covers it (a later passage repeating the quote earns nothing).

They are computed by ``ir_measures`` on runs built so that its ranks are the passage
ranks (see :func:`evidence_metrics`), and checked by the tests against hand-computed
values. BEIR datasets judge whole documents, scored by :func:`document_metrics`.

Example::

    ranks = first_cover_ranks([hit.chunk for hit in answer.hits], question.evidence)
    metrics = evidence_metrics({question.id: ranks}, k=10)[question.id]
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from qa.evaluation.reference import Evidence
from qa.text import normalise_space
from qa.types import Chunk

SHOWN_PASSAGES = 5  # failures are judged, and passages shown, in the top 5
OVERALL = "overall"  # the group of all questions, beside one group per question type
BEIR_METRICS = ("nDCG@10", "R@10", "R@100", "MRR@10")


def holds(source: str, text: str, evidence: Evidence) -> bool:
    """Whether a text of document ``source`` (a passage, an answer sentence) states the item:
    it is from the quoted document and holds the whole quote, or one of the alternatives,
    whatever the case of its letters."""
    text = normalise_space(text).casefold()
    return any(
        source == quote.document and normalise_space(quote.quote).casefold() in text
        for quote in evidence.quotes
    )


def covers(passage: Chunk, evidence: Evidence) -> bool:
    """The relevance rule: the passage states the item (see :func:`holds`)."""
    return holds(passage.source, passage.text, evidence)


def first_cover_ranks(
    passages: Sequence[Chunk], evidence: Sequence[Evidence]
) -> tuple[int | None, ...]:
    """For each evidence item, the rank (from 1) of the first passage covering it, or None.

    Only the first counts: overlapping chunks that repeat a quote are no new evidence.
    """
    return tuple(
        next(
            (rank for rank, p in enumerate(passages, start=1) if holds(p.source, p.text, item)),
            None,
        )
        for item in evidence
    )


def missed_evidence(
    evidence: Sequence[Evidence], ranks: Sequence[int | None]
) -> tuple[Evidence, ...]:
    """The evidence items no passage in the top 5 covers: what a reader of the top 5 misses."""
    return tuple(
        item
        for item, rank in zip(evidence, ranks, strict=True)
        if rank is None or rank > SHOWN_PASSAGES
    )


def metric_names(k: int) -> tuple[str, ...]:
    """Names of the reported metrics at depth ``k``, in display order."""
    return (*(f"R@{c}" for c in recall_cutoffs(k)), f"MRR@{k}", f"nDCG@{k}")


def recall_cutoffs(k: int) -> tuple[int, ...]:
    return tuple(sorted({1, SHOWN_PASSAGES, k}))


def discovery_run(ranks: Sequence[int | None], k: int) -> dict[str, float]:
    """A run of ``ir_measures`` docs whose positions are passage ranks.

    Evidence item *j* is doc ``e<j>``; each passage rank that covers nothing new
    is filled with an irrelevant doc ``p<rank>``, so the first relevant doc sits
    exactly at the rank of the first covering passage (a run of relevant docs
    only would put it first whatever its rank). Several items first covered by
    one passage take consecutive positions from that rank on, later items move
    back only as far as needed. Scores strictly decrease, since ``ir_measures``
    (trec_eval) sorts by score and breaks ties by doc id, not by insertion.
    """
    found = sorted((rank, j) for j, rank in enumerate(ranks) if rank is not None and rank <= k)
    docs: list[str] = []
    for rank, j in found:
        while len(docs) + 1 < rank:
            docs.append(f"p{len(docs) + 1}")
        docs.append(f"e{j}")
    while len(docs) < k:
        docs.append(f"p{len(docs) + 1}")
    return {doc: float(len(docs) - position) for position, doc in enumerate(docs)}


def evidence_metrics(
    ranks_by_question: Mapping[str, Sequence[int | None]], k: int
) -> dict[str, dict[str, float]]:
    """Per question id: R@1, R@5, R@k, MRR@k and nDCG@k from first-cover ranks.

    ``R@c`` is ``SetR`` over the items covered within the top ``c`` passages, since
    no single ranking can place two items found by the same passage both at
    rank 1. MRR and nDCG are ``RR@k`` and ``nDCG@k`` over :func:`discovery_run`.
    Questions without evidence are left out: nothing can be found for them.
    """
    import ir_measures
    from ir_measures import RR, SetR, nDCG

    qrels = {
        qid: {f"e{j}": 1 for j in range(len(ranks))}
        for qid, ranks in ranks_by_question.items()
        if ranks
    }
    values: dict[str, dict[str, float]] = {qid: {} for qid in qrels}

    def collect(
        measures: list[Any], run: dict[str, dict[str, float]], names: dict[str, str]
    ) -> None:
        for metric in ir_measures.iter_calc(measures, qrels, run):
            values[metric.query_id][names[str(metric.measure)]] = float(metric.value)

    for cutoff in recall_cutoffs(k):
        # "none" keeps a question with nothing found in the run; trec_eval drops empty ones.
        run = {
            qid: {
                "none": 0.0,
                **{
                    f"e{j}": 1.0
                    for j, r in enumerate(ranks_by_question[qid])
                    if r is not None and r <= cutoff
                },
            }
            for qid in qrels
        }
        collect([SetR], run, {str(SetR): f"R@{cutoff}"})
    runs = {qid: discovery_run(ranks_by_question[qid], k) for qid in qrels}
    collect([RR @ k, nDCG @ k], runs, {str(RR @ k): f"MRR@{k}", str(nDCG @ k): f"nDCG@{k}"})
    names = metric_names(k)
    return {
        qid: {name: metrics.get(name, 0.0) for name in names} for qid, metrics in values.items()
    }


def document_metrics(
    qrels: Mapping[str, Mapping[str, int]], runs: Mapping[str, Mapping[str, float]]
) -> dict[str, dict[str, float]]:
    """Per judged BEIR query: nDCG@10, R@10, R@100, MRR@10; a query with an empty run scores 0.

    Relevance is graded as the qrels give it, so nDCG rewards the most relevant documents most.
    """
    import ir_measures

    measures = {name: ir_measures.parse_measure(name.replace("MRR", "RR")) for name in BEIR_METRICS}
    names = {str(measure): name for name, measure in measures.items()}
    values: dict[str, dict[str, float]] = {qid: dict.fromkeys(BEIR_METRICS, 0.0) for qid in qrels}
    for metric in ir_measures.iter_calc(list(measures.values()), dict(qrels), dict(runs)):
        values[metric.query_id][names[str(metric.measure)]] = float(metric.value)
    return values


def mean_by_group(
    per_question: Mapping[str, Mapping[str, float]],
    group_of: Mapping[str, str],
    groups: Sequence[str],
) -> dict[str, dict[str, float]]:
    """Mean of each metric over the questions of each group and over all of them."""
    result: dict[str, dict[str, float]] = {}
    for group in (*groups, OVERALL):
        members = [m for qid, m in per_question.items() if group in (OVERALL, group_of[qid])]
        if members:
            result[group] = {
                name: statistics.fmean(m[name] for m in members) for name in members[0]
            }
    return result


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear-interpolated percentile (numpy's default), without numpy."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
