"""How well retrieval finds the evidence of a reference set of questions (``qa eval``).

A reference question names its evidence as quotes from documents, never as
chunk ids, so the set survives any change of chunking. A retrieved passage
*covers* an evidence item when it comes from the quoted document and its text
contains the quote, both with whitespace runs collapsed to one space.

Metrics, for each question with evidence, averaged over questions:

* ``R@c``: the fraction of the question's evidence items covered by the top
  ``c`` passages;
* ``MRR@k``: one over the rank of the first passage that covers any item;
* ``nDCG@k``: each evidence item is worth 1 at the rank of the first passage
  that covers it (a later passage repeating the quote earns nothing).

They are computed by ``ir_measures`` on runs built so that its ranks are the
passage ranks (see :func:`evidence_metrics`), and checked by the tests against
hand-computed values.

Example::

    questions = load_reference_set(Path("eval/questions.jsonl"))
    report = evaluate(searcher, questions, k=10)
    print(format_table(report))
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.types import Answer, Chunk

if TYPE_CHECKING:
    from qa.search import Searcher

UNANSWERABLE = "unanswerable"
TYPES = (
    "fact",
    "number",
    "list",
    "paraphrase",
    "cross_document",
    "judgement",
    "current",
    "recommendation",
    UNANSWERABLE,
)
MODES = ("lexical", "dense", "hybrid")
OVERALL = "overall"
SHOWN_PASSAGES = 5  # failures are judged, and passages shown, in the top 5
REPORT_FORMAT = 1

_SPACE = re.compile(r"\s+")


# --- reference set


@dataclass(frozen=True)
class Evidence:
    """A quote that answers (part of) a question, and the document it is in."""

    document: str
    quote: str


@dataclass(frozen=True)
class Question:
    """One reference question; ``unanswerable`` questions have no evidence."""

    id: str
    question: str
    type: str
    evidence: tuple[Evidence, ...]

    @property
    def answerable(self) -> bool:
        return self.type != UNANSWERABLE


class ReferenceSetError(ValueError):
    """The reference file cannot be used; the message lists every problem."""


def normalise_space(text: str) -> str:
    """``text`` with every whitespace run as one space: line breaks and indents vary by loader."""
    return _SPACE.sub(" ", text).strip()


def _parse(path: Path) -> tuple[list[tuple[int, Question]], list[str]]:
    """Questions with their line numbers, and the problems that need no corpus to see."""
    questions: list[tuple[int, Question]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        return [], [f"{path}: cannot read ({error.strerror or error})"]
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"{where}: invalid JSON ({error.msg})")
            continue
        if not isinstance(record, dict):
            problems.append(f"{where}: a line must hold a JSON object")
            continue
        qid, text, kind, evidence = (
            record.get(key) for key in ("id", "question", "type", "evidence")
        )
        if not isinstance(qid, str) or not qid:
            problems.append(f"{where}: 'id' must be a non-empty string")
            continue
        where = f"{where}: {qid}"
        if qid in seen:
            problems.append(f"{where}: duplicate id (first on line {seen[qid]})")
        seen.setdefault(qid, number)
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{where}: 'question' must be a non-empty string")
        if kind not in TYPES:
            problems.append(f"{where}: unknown type {kind!r} (known: {', '.join(TYPES)})")
        if not isinstance(evidence, list):
            problems.append(f"{where}: 'evidence' must be a list")
            continue
        items: list[Evidence] = []
        for position, item in enumerate(evidence, start=1):
            document = item.get("document") if isinstance(item, dict) else None
            quote = item.get("quote") if isinstance(item, dict) else None
            if (
                not isinstance(document, str)
                or not isinstance(quote, str)
                or not normalise_space(quote)
            ):
                problems.append(
                    f"{where}: evidence {position} needs 'document' and a non-empty 'quote'"
                )
                continue
            items.append(Evidence(document, quote))
        if kind == UNANSWERABLE and evidence:
            problems.append(f"{where}: an unanswerable question must have no evidence")
        if kind != UNANSWERABLE and not evidence:
            problems.append(f"{where}: an answerable question needs at least one evidence item")
        if isinstance(text, str) and kind in TYPES:
            questions.append((number, Question(qid, text, kind, tuple(items))))
    return questions, problems


def validate_reference_set(path: Path, corpus_dir: Path) -> list[str]:
    """Every problem of the reference file, each naming its line; empty when it can be used.

    Quotes are looked up in the documents as the indexer reads them, so a quote
    that passes here can be found in the passages.
    """
    from qa.corpus import DocumentError, read_document, scan_corpus

    parsed, problems = _parse(path)
    try:
        files = {file.source: file for file in scan_corpus(corpus_dir, 1 << 62)[0]}
    except FileNotFoundError as error:
        return [*problems, str(error)]
    texts: dict[str, str | None] = {}
    for number, question in parsed:
        for position, item in enumerate(question.evidence, start=1):
            where = f"{path.name}:{number}: {question.id}: evidence {position}"
            if item.document not in texts:
                file = files.get(item.document)
                try:
                    document = read_document(file, 1 << 62) if file else None
                except DocumentError:
                    document = None
                texts[item.document] = normalise_space(document.text) if document else None
            text = texts[item.document]
            if text is None:
                problems.append(
                    f"{where}: document {item.document!r} is not a readable file of {corpus_dir}"
                )
            elif normalise_space(item.quote) not in text:
                problems.append(f"{where}: quote not found in {item.document}: {item.quote[:80]!r}")
    return problems


def load_reference_set(path: Path) -> tuple[Question, ...]:
    """The questions of ``path``; raises ReferenceSetError listing the problems of form."""
    parsed, problems = _parse(path)
    if problems:
        raise ReferenceSetError(f"{path} has {len(problems)} problem(s):\n" + "\n".join(problems))
    return tuple(question for _, question in parsed)


# --- metrics (pure)


def covers(passage: Chunk, evidence: Evidence) -> bool:
    """The relevance rule: same document, and the passage holds the whole quote."""
    if passage.source != evidence.document:
        return False
    return normalise_space(evidence.quote) in normalise_space(passage.text)


def first_cover_ranks(
    passages: Sequence[Chunk], evidence: Sequence[Evidence]
) -> tuple[int | None, ...]:
    """For each evidence item, the rank (from 1) of the first passage covering it, or None.

    Only the first counts: overlapping chunks that repeat a quote are no new evidence.
    """
    texts = [(p.source, normalise_space(p.text)) for p in passages]
    ranks: list[int | None] = []
    for item in evidence:
        quote = normalise_space(item.quote)
        covering = (
            rank
            for rank, (source, text) in enumerate(texts, start=1)
            if source == item.document and quote in text
        )
        ranks.append(next(covering, None))
    return tuple(ranks)


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


@dataclass(frozen=True)
class Latency:
    """Query latency of one mode in milliseconds."""

    median_ms: float
    p95_ms: float
    queries: int

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        return cls(percentile(seconds, 0.5) * 1000, percentile(seconds, 0.95) * 1000, len(seconds))


@dataclass(frozen=True)
class LowConfidence:
    """How often the low-confidence flag fired: it should for unanswerable questions only.

    The median best similarities beside the threshold show where the threshold should be.
    """

    unanswerable_flagged: int
    unanswerable: int
    answerable_flagged: int
    answerable: int
    threshold: float
    unanswerable_similarity: float | None = None
    answerable_similarity: float | None = None

    @property
    def unanswerable_rate(self) -> float | None:
        return self.unanswerable_flagged / self.unanswerable if self.unanswerable else None

    @property
    def answerable_rate(self) -> float | None:
        return self.answerable_flagged / self.answerable if self.answerable else None


# --- running


@dataclass(frozen=True)
class QuestionResult:
    """What one mode retrieved for one question."""

    question: Question
    mode: str
    ranks: tuple[int | None, ...]
    top: tuple[Chunk, ...]
    low_confidence: bool
    best_similarity: float | None
    seconds: float
    metrics: Mapping[str, float]

    @property
    def missed(self) -> tuple[Evidence, ...]:
        """Evidence items not covered in the top 5 passages."""
        return tuple(
            e
            for e, r in zip(self.question.evidence, self.ranks, strict=True)
            if r is None or r > SHOWN_PASSAGES
        )


@dataclass(frozen=True)
class ModeSummary:
    """Aggregates of one retrieval mode; ``low_confidence`` is None where the mode never sets it."""

    mode: str
    metrics: Mapping[str, Mapping[str, float]]
    counts: Mapping[str, int]
    low_confidence: LowConfidence | None
    latency: Latency


@dataclass(frozen=True)
class EvalReport:
    """The outcome of one ``qa eval`` run over a reference set."""

    k: int
    questions_file: str
    index_version: str
    model: str
    created_at: str
    results: tuple[QuestionResult, ...]
    summaries: tuple[ModeSummary, ...]
    unreachable: tuple[str, ...]

    def failures(self) -> dict[str, list[QuestionResult]]:
        """Per question id, the modes whose top 5 passages miss some evidence."""
        failed: dict[str, list[QuestionResult]] = {}
        for result in self.results:
            if result.question.answerable and result.missed:
                failed.setdefault(result.question.id, []).append(result)
        return failed


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarise(mode: str, results: Sequence[QuestionResult], threshold: float) -> ModeSummary:
    """Aggregate one mode's results: metrics by type, low-confidence counts, latency."""
    answerable = [r for r in results if r.question.answerable]
    unanswerable = [r for r in results if not r.question.answerable]
    groups = [t for t in TYPES if t != UNANSWERABLE]
    metrics = mean_by_group(
        {r.question.id: r.metrics for r in answerable},
        {r.question.id: r.question.type for r in answerable},
        groups,
    )
    counts = {
        group: sum(1 for r in answerable if group in (OVERALL, r.question.type))
        for group in metrics
    }
    flags = None
    if mode != "lexical":  # the searcher computes the flag from the dense similarity only
        flags = LowConfidence(
            sum(r.low_confidence for r in unanswerable),
            len(unanswerable),
            sum(r.low_confidence for r in answerable),
            len(answerable),
            threshold,
            _median(r.best_similarity for r in unanswerable),
            _median(r.best_similarity for r in answerable),
        )
    return ModeSummary(mode, metrics, counts, flags, Latency.of([r.seconds for r in results]))


def unreachable_evidence(chunks: Iterable[Chunk], questions: Sequence[Question]) -> tuple[str, ...]:
    """Evidence no passage of the index contains (the chunker split the quote): never findable."""
    by_source: dict[str, list[str]] = {}
    for chunk in chunks:
        by_source.setdefault(chunk.source, []).append(normalise_space(chunk.text))
    missing = []
    for question in questions:
        for item in question.evidence:
            quote = normalise_space(item.quote)
            if not any(quote in text for text in by_source.get(item.document, [])):
                missing.append(f"{question.id}: {item.document}: {item.quote[:80]!r}")
    return tuple(missing)


def evaluate(
    searcher: Searcher,
    questions: Sequence[Question],
    k: int = 10,
    modes: Sequence[str] = MODES,
    questions_file: str = "",
    progress: Callable[[int], Any] | None = None,
) -> EvalReport:
    """Search every question in every mode and score the passages against the evidence."""
    if k < SHOWN_PASSAGES:
        raise ValueError(f"k must be at least {SHOWN_PASSAGES}, got {k}")
    results: list[QuestionResult] = []
    summaries: list[ModeSummary] = []
    for mode in modes:
        if questions:
            searcher.search(questions[0].question, k=k, mode=mode, extract=False)  # warm-up
        answers: list[tuple[Question, Answer, float]] = []
        for question in questions:
            started = time.perf_counter()
            # Retrieval is measured here; the extractive answer is timed by `qa ask -v`.
            answer = searcher.search(question.question, k=k, mode=mode, extract=False)
            answers.append((question, answer, time.perf_counter() - started))
            if progress is not None:
                progress(1)
        ranks = {
            q.id: first_cover_ranks([h.chunk for h in a.hits], q.evidence) for q, a, _ in answers
        }
        metrics = evidence_metrics({qid: r for qid, r in ranks.items() if r}, k)
        mode_results = [
            QuestionResult(
                q,
                mode,
                ranks[q.id],
                tuple(h.chunk for h in a.hits[:SHOWN_PASSAGES]),
                a.low_confidence,
                a.best_similarity,
                seconds,
                metrics.get(q.id, {}),
            )
            for q, a, seconds in answers
        ]
        results.extend(mode_results)
        summaries.append(summarise(mode, mode_results, searcher.settings.min_similarity))
    snapshot = searcher.snapshot
    return EvalReport(
        k=k,
        questions_file=questions_file,
        index_version=snapshot.version,
        model=searcher.settings.model,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        results=tuple(results),
        summaries=tuple(summaries),
        unreachable=unreachable_evidence(snapshot.chunks, questions),
    )


# --- report files


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def summary_record(summary: ModeSummary) -> dict[str, Any]:
    flags = summary.low_confidence
    return {
        "metrics": {g: {n: round(v, 4) for n, v in m.items()} for g, m in summary.metrics.items()},
        "questions": dict(summary.counts),
        "low_confidence": None
        if flags is None
        else {
            "unanswerable_flagged": flags.unanswerable_flagged,
            "unanswerable": flags.unanswerable,
            "answerable_flagged": flags.answerable_flagged,
            "answerable": flags.answerable,
            "unanswerable_rate": _rate(flags.unanswerable_rate),
            "answerable_rate": _rate(flags.answerable_rate),
            "threshold": flags.threshold,
            "unanswerable_median_similarity": _rate(flags.unanswerable_similarity),
            "answerable_median_similarity": _rate(flags.answerable_similarity),
        },
        "latency_ms": {
            "median": round(summary.latency.median_ms, 2),
            "p95": round(summary.latency.p95_ms, 2),
            "queries": summary.latency.queries,
        },
    }


def _passage_record(chunk: Chunk) -> dict[str, Any]:
    return {
        "source": chunk.source,
        "paragraph": chunk.paragraph,
        "start": chunk.start,
        "text": _head(chunk.text),
    }


def _head(text: str, width: int = 100) -> str:
    text = normalise_space(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def report_record(report: EvalReport) -> dict[str, Any]:
    """The JSON form of a report (what ``--compare`` reads back)."""
    questions: dict[str, dict[str, Any]] = {}
    for result in report.results:
        entry = questions.setdefault(
            result.question.id, {"type": result.question.type, "modes": {}}
        )
        entry["modes"][result.mode] = {
            "ranks": list(result.ranks),
            "metrics": {n: round(v, 4) for n, v in result.metrics.items()},
            "low_confidence": result.low_confidence,
            "best_similarity": _rate(result.best_similarity),
            "missed_in_top5": len(result.missed) if result.question.answerable else None,
            "top": [_passage_record(c) for c in result.top],
        }
    return {
        "format": REPORT_FORMAT,
        "kind": "reference",
        "created_at": report.created_at,
        "questions_file": report.questions_file,
        "index_version": report.index_version,
        "model": report.model,
        "k": report.k,
        "metric_names": list(metric_names(report.k)),
        "modes": {s.mode: summary_record(s) for s in report.summaries},
        "unreachable_evidence": list(report.unreachable),
        "questions": questions,
    }


def read_report(path: Path) -> dict[str, Any]:
    """A report written earlier by ``qa eval``, for ``--compare``."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ReferenceSetError(f"cannot read report {path} ({error})") from error
    if not isinstance(record, dict) or not isinstance(record.get("modes"), dict):
        raise ReferenceSetError(f"{path} is not a report written by qa eval")
    return record


# --- text and markdown


def _groups(record: Mapping[str, Any]) -> list[str]:
    present = {g for mode in record["modes"].values() for g in mode["metrics"]}
    ordered = [t for t in (*TYPES, OVERALL) if t in present]
    return ordered + sorted(present - set(ordered))


def metric_rows(record: Mapping[str, Any]) -> list[tuple[str, str, int, dict[str, float]]]:
    """(mode, group, questions, metrics) rows of a report record, in display order."""
    rows = []
    for mode, summary in record["modes"].items():
        for group in _groups(record):
            if group in summary["metrics"]:
                rows.append(
                    (mode, group, summary["questions"].get(group, 0), summary["metrics"][group])
                )
    return rows


def format_table(record: Mapping[str, Any]) -> str:
    """The compact terminal table: mode × type, then low confidence and latency per mode."""
    names = record["metric_names"]
    lines = [f"{'mode':<8} {'type':<15} {'n':>3} " + " ".join(f"{n:>8}" for n in names)]
    previous = None
    for mode, group, count, metrics in metric_rows(record):
        if previous is not None and mode != previous:
            lines.append("")
        previous = mode
        lines.append(
            f"{mode:<8} {group:<15} {count:>3} " + " ".join(f"{metrics[n]:>8.3f}" for n in names)
        )
    flagged = any(summary.get("low_confidence") for summary in record["modes"].values())
    flag_header = f" {'low-conf unanswerable':>22} {'low-conf answerable':>20}" if flagged else ""
    lines += ["", f"{'mode':<8}{flag_header} {'median ms':>10} {'p95 ms':>8}"]
    for mode, summary in record["modes"].items():
        flags = summary.get("low_confidence")
        cells = ""
        if flagged:
            wanted = (
                _fraction(flags["unanswerable_flagged"], flags["unanswerable"]) if flags else "n/a"
            )
            wrong = _fraction(flags["answerable_flagged"], flags["answerable"]) if flags else "n/a"
            cells = f" {wanted:>22} {wrong:>20}"
        latency = summary["latency_ms"]
        lines.append(f"{mode:<8}{cells} {latency['median']:>10.1f} {latency['p95']:>8.1f}")
    return "\n".join(lines)


def _fraction(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.0%})" if whole else "—"


@dataclass(frozen=True)
class Difference:
    """One metric of one mode and group in two reports."""

    mode: str
    group: str
    metric: str
    old: float
    new: float

    @property
    def change(self) -> float:
        return self.new - self.old


def compare_reports(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Difference]:
    """Every metric present in both reports, with its old and new value."""
    differences = []
    for mode, summary in new["modes"].items():
        before = old["modes"].get(mode)
        if not before:
            continue
        for group, metrics in summary["metrics"].items():
            for name, value in metrics.items():
                previous = before.get("metrics", {}).get(group, {}).get(name)
                if isinstance(previous, int | float):
                    differences.append(Difference(mode, group, name, float(previous), float(value)))
        for name in ("unanswerable_rate", "answerable_rate"):
            now, then = summary.get("low_confidence") or {}, before.get("low_confidence") or {}
            if isinstance(now.get(name), int | float) and isinstance(then.get(name), int | float):
                differences.append(Difference(mode, "low_confidence", name, then[name], now[name]))
    return differences


def changed_questions(
    old: Mapping[str, Any], new: Mapping[str, Any]
) -> dict[str, tuple[list[str], list[str]]]:
    """Per mode, the question ids that newly fail and newly pass (all evidence in the top 5)."""
    changes: dict[str, tuple[list[str], list[str]]] = {}
    for mode in new["modes"]:
        broke, fixed = [], []
        for qid, entry in new.get("questions", {}).items():
            now = entry["modes"].get(mode, {}).get("missed_in_top5")
            then = (
                old.get("questions", {})
                .get(qid, {})
                .get("modes", {})
                .get(mode, {})
                .get("missed_in_top5")
            )
            if now is None or then is None:
                continue
            if now and not then:
                broke.append(qid)
            elif then and not now:
                fixed.append(qid)
        changes[mode] = (broke, fixed)
    return changes


def _signed(value: float) -> str:
    return f"{value:+.3f}" if abs(value) >= 0.0005 else "0"


def comparison_section(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Markdown lines of the "change against an earlier report" section of a report."""
    return [
        "",
        "## Change against an earlier report",
        "",
        format_comparison(old, new, markdown=True),
    ]


def format_comparison(
    old: Mapping[str, Any], new: Mapping[str, Any], markdown: bool = False
) -> str:
    """The change of every metric against ``old`` (new − old), as a text or markdown table."""
    differences = compare_reports(old, new)
    if not differences:
        return "No metric in common with the earlier report."
    names = list(dict.fromkeys(d.metric for d in differences if d.group != "low_confidence"))
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for d in differences:
        if d.group != "low_confidence":
            cells.setdefault((d.mode, d.group), {})[d.metric] = _signed(d.change)
    flags = [d for d in differences if d.group == "low_confidence"]
    changes = changed_questions(old, new)
    header = f"Change against the report of {old.get('created_at', '?')} (new − old):"
    if markdown:
        lines = [
            header,
            "",
            "| mode | type | " + " | ".join(names) + " |",
            "|---|---|" + "---:|" * len(names),
        ]
        lines += [
            f"| {m} | {g} | " + " | ".join(c.get(n, "") for n in names) + " |"
            for (m, g), c in cells.items()
        ]
        lines.append("")
        lines += [
            f"- {d.mode}: low-confidence {d.metric.replace('_', ' ')} {d.old:.2f} → {d.new:.2f}"
            for d in flags
        ]
    else:
        lines = [header, f"{'mode':<8} {'type':<15} " + " ".join(f"{n:>8}" for n in names)]
        previous = None
        for (mode, group), values in cells.items():
            if previous is not None and mode != previous:
                lines.append("")
            previous = mode
            lines.append(
                f"{mode:<8} {group:<15} " + " ".join(f"{values.get(n, ''):>8}" for n in names)
            )
        lines += [""] + [
            f"{d.mode:<8} low-confidence {d.metric.replace('_', ' ')}: {d.old:.2f} → {d.new:.2f}"
            for d in flags
        ]
    for mode, (broke, fixed) in changes.items():
        if broke or fixed:
            lines.append(
                f"{'- ' if markdown else ''}{mode}: newly failing {', '.join(broke) or 'none'};"
                f" newly passing {', '.join(fixed) or 'none'}"
            )
    return "\n".join(lines)


def format_failures(report: EvalReport, markdown: bool = False) -> str:
    """Each answerable question whose top 5 passages miss evidence, per failing mode."""
    lines: list[str] = []
    for qid, failed in report.failures().items():
        question = failed[0].question
        modes = ", ".join(r.mode for r in failed)
        if markdown:
            lines += [
                f"### {qid} ({question.type}) — missed by {modes}",
                "",
                f"> {question.question}",
                "",
            ]
        else:
            lines += [f"{qid} ({question.type}) missed by {modes}: {question.question}"]
        for result in failed:
            lines.append(
                f"{'- **' if markdown else '  '}{result.mode}{'**' if markdown else ''}:"
                " evidence not in the top 5:"
            )
            indent = "  " if markdown else "    "
            for item in result.missed:
                lines.append(
                    f"{indent}{'- ' if markdown else ''}{item.document}: “{_head(item.quote, 120)}”"
                )
            lines.append(f"{indent}{'- ' if markdown else ''}top 5 passages:")
            for rank, chunk in enumerate(result.top, start=1):
                where = f"{chunk.source}" + (f" ¶{chunk.paragraph}" if chunk.paragraph else "")
                text = _head(chunk.text).replace("|", "\\|") if markdown else _head(chunk.text)
                lines.append(f"{indent}  {rank}. {where}: {text}")
        lines.append("")
    return "\n".join(lines).rstrip()


def format_markdown(
    report: EvalReport, previous: Mapping[str, Any] | None = None, chart: str | None = None
) -> str:
    """The eval.md report: metrics, low confidence, latency, comparison and failures."""
    record = report_record(report)
    names = record["metric_names"]
    lines = [
        "# Retrieval evaluation",
        "",
        f"{report.created_at} · questions `{report.questions_file}`"
        f" · index `{report.index_version}` · model `{report.model}` · depth k = {report.k}",
        "",
        "A passage covers an evidence item when it is from the quoted document and contains"
        " the quote (whitespace collapsed). R@c: fraction of a question's evidence covered in"
        " the top c passages; MRR and nDCG count the rank of the first passage covering each"
        " item. Means over answerable questions.",
        "",
        "| mode | type | n | " + " | ".join(names) + " |",
        "|---|---|---:|" + "---:|" * len(names),
    ]
    for mode, group, count, metrics in metric_rows(record):
        bold = "**" if group == OVERALL else ""
        lines.append(
            f"| {mode} | {bold}{group}{bold} | {count} | "
            + " | ".join(f"{bold}{metrics[n]:.3f}{bold}" for n in names)
            + " |"
        )
    lines += [
        "",
        "| mode | low confidence on unanswerable (wanted) | low confidence on answerable (wrong)"
        " | median latency | p95 latency |",
        "|---|---:|---:|---:|---:|",
    ]
    for summary in report.summaries:
        flags = summary.low_confidence
        wanted = (
            _fraction(flags.unanswerable_flagged, flags.unanswerable)
            if flags
            else "n/a (not computed)"
        )
        wrong = (
            _fraction(flags.answerable_flagged, flags.answerable) if flags else "n/a (not computed)"
        )
        lines.append(
            f"| {summary.mode} | {wanted} | {wrong} | {summary.latency.median_ms:.1f} ms"
            f" | {summary.latency.p95_ms:.1f} ms |"
        )
    for summary in report.summaries:
        flags = summary.low_confidence
        if (
            flags
            and flags.unanswerable_similarity is not None
            and flags.answerable_similarity is not None
        ):
            lines.append(
                f"\n{summary.mode}: median best dense similarity"
                f" {flags.unanswerable_similarity:.3f}"
                f" for unanswerable and {flags.answerable_similarity:.3f} for answerable questions"
                f" (the flag fires below min_similarity = {flags.threshold})."
            )
    if chart:
        lines += ["", f"![Recall@5 per question type and MRR per mode]({chart})"]
    if previous is not None:
        lines += comparison_section(previous, record)
    if report.unreachable:
        lines += [
            "",
            "## Evidence that no indexed passage contains",
            "",
            "The chunker split these quotes across passages, so no mode can find them:",
            "",
        ]
        lines += [f"- {item}" for item in report.unreachable]
    failures = format_failures(report, markdown=True)
    lines += [
        "",
        f"## Failures ({len(report.failures())} questions)",
        "",
        failures or "Every answerable question has all its evidence in the top 5 in every mode.",
    ]
    not_flagged = sorted(
        {
            r.question.id
            for r in report.results
            if not r.question.answerable and r.mode == "hybrid" and not r.low_confidence
        }
    )
    if not_flagged:
        lines += [
            "",
            "Unanswerable questions not flagged as low confidence in hybrid mode: "
            + ", ".join(not_flagged),
        ]
    return "\n".join(lines) + "\n"


MODE_COLOURS = {"lexical": "#4C72B0", "dense": "#DD8452", "hybrid": "#55A868"}


def write_chart(record: Mapping[str, Any], path: Path) -> None:
    """Grouped bars of recall@5 per question type and mode, beside overall MRR per mode."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    modes = list(record["modes"])
    groups = [g for g in _groups(record) if g != OVERALL] + [OVERALL]
    mrr = next(n for n in record["metric_names"] if n.startswith("MRR@"))
    figure = Figure(figsize=(11, 4.2), dpi=150, layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2, width_ratios=[4, 1])
    width = 0.8 / len(modes)
    handles: list[Any] = []
    for i, mode in enumerate(modes):
        metrics = record["modes"][mode]["metrics"]
        values = [metrics.get(g, {}).get("R@5", 0.0) for g in groups]
        positions = [x + (i - (len(modes) - 1) / 2) * width for x in range(len(groups))]
        bars = left.bar(positions, values, width, label=mode, color=MODE_COLOURS.get(mode))
        handles.append(bars)
        left.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=6.5, padding=1)
        value = metrics.get(OVERALL, {}).get(mrr, 0.0)
        bar = right.bar([i], [value], 0.7, color=MODE_COLOURS.get(mode))
        right.bar_label(bar, labels=[f"{value:.2f}"], fontsize=8, padding=1)
    counts = record["modes"][modes[0]]["questions"]
    left.set_xticks(
        range(len(groups)),
        [f"{g.replace('_', ' ')}\n(n={counts.get(g, 0)})" for g in groups],
        fontsize=8,
    )
    left.get_xticklabels()[-1].set_fontweight("bold")
    left.axvline(len(groups) - 1.5, color="#999999", linewidth=0.8, linestyle=":")
    left.set_ylim(0, 1.1)
    left.set_ylabel("recall@5")
    left.set_title("Recall@5 by question type", fontsize=10)
    figure.legend(
        handles, modes, loc="outside lower center", ncols=len(modes), fontsize=9, frameon=False
    )
    figure.suptitle(
        f"qa eval · {record.get('questions_file', '').rsplit('/', 1)[-1]} · index"
        f" {record.get('index_version', '?')} · k = {record.get('k', '?')}",
        fontsize=9,
        color="#555555",
    )
    right.set_xticks(range(len(modes)), modes, fontsize=8)
    right.set_ylim(0, 1.1)
    right.set_title(f"Overall {mrr}", fontsize=10)
    for axes in (left, right):
        axes.spines[["top", "right"]].set_visible(False)
        axes.grid(axis="y", linewidth=0.4, alpha=0.5)
        axes.set_axisbelow(True)
    figure.savefig(path)


def default_paths(cwd: Path | None = None) -> tuple[Path, Path]:
    """The project's reference file and report folder: beside the pyproject.toml of [tool.qa]."""
    from qa.settings import find_pyproject

    cwd = (cwd or Path.cwd()).resolve()
    pyproject = find_pyproject(cwd)
    root = pyproject.parent if pyproject else cwd
    return root / "eval" / "questions.jsonl", root / "reports"


def write_reports(
    report: EvalReport, out: Path, previous: Mapping[str, Any] | None = None
) -> list[Path]:
    """Write eval.json, eval.png and eval.md into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    record = report_record(report)
    paths = [out / "eval.json", out / "eval.png", out / "eval.md"]
    paths[0].write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_chart(record, paths[1])
    paths[2].write_text(format_markdown(report, previous, chart=paths[1].name), encoding="utf-8")
    return paths
