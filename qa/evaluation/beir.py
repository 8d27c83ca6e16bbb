"""The evaluation harness on a BEIR-layout dataset (``qa eval --beir DIR``, and Medline always).

A BEIR folder holds ``corpus.jsonl`` (``_id``, ``title``, ``text``),
``queries.jsonl`` (``_id``, ``text``) and ``qrels/<split>.tsv`` (header
``query-id corpus-id score``). Each BEIR document becomes one text file
(title, blank line, text) in a work folder, indexed by the ordinary indexer with
the ordinary chunking, so this measures the same code as ``qa ask``. Passages are
mapped back to their BEIR document: the first passage of a document gives its
rank, later ones are dropped. Metrics come from ``ir_measures`` with graded
relevance from the qrels.

With an anchor embedder the naive anchor (:mod:`.anchor`) ranks the whole documents.

Example::

    dataset = load_beir(Path("scifact"))
    report = evaluate_beir(dataset, settings, embedder, Path("reports/work/beir-scifact"))
    print(format_part(report))  # from qa.evaluation.render
"""

from __future__ import annotations

import csv
import hashlib
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from qa.evaluation.anchor import Anchor, AnchorMethod
from qa.evaluation.json_fields import jsonl_objects
from qa.evaluation.metrics import BEIR_METRICS, OVERALL, document_metrics
from qa.evaluation.report import (
    REPORT_MODES,
    AnchorSummary,
    BeirReport,
    Latency,
    ModeSummary,
    TypeSummary,
    published_metrics,
)
from qa.index.build import ProgressFactory, build_index
from qa.index.embedders import Embedder
from qa.settings import Settings
from qa.types import Mode

if TYPE_CHECKING:
    from qa.search import Searcher

DEPTH = 100  # documents ranked per query: the deepest cutoff of BEIR_METRICS
PASSAGES_PER_DOCUMENT = (
    3  # passages searched per ranked document, so DEPTH distinct documents remain
)


class BeirError(ValueError):
    """The folder is not a usable BEIR dataset; the message says which file and why."""


@dataclass(frozen=True)
class BeirDocument:
    id: str
    title: str
    text: str

    @property
    def content(self) -> str:
        """The document as indexed and as the anchor ranks it: title, blank line, text."""
        return f"{self.title}\n\n{self.text}\n" if self.title else f"{self.text}\n"


@dataclass(frozen=True)
class BeirDataset:
    """A BEIR split: the corpus, the queries that have judgements, and the judgements."""

    name: str
    documents: tuple[BeirDocument, ...]
    queries: Mapping[str, str]
    qrels: Mapping[str, Mapping[str, int]]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise BeirError(f"{path} is missing")
    records = []
    for number, record in jsonl_objects(path, BeirError):
        if "_id" not in record:
            raise BeirError(f"{path}:{number}: a record needs an '_id'")
        records.append(record)
    return records


def load_beir(folder: Path, split: str = "test") -> BeirDataset:
    """Read a BEIR folder; only queries judged in ``qrels/<split>.tsv`` are kept."""
    documents = tuple(
        BeirDocument(str(r["_id"]), str(r.get("title") or ""), str(r.get("text") or ""))
        for r in _jsonl(folder / "corpus.jsonl")
    )
    all_queries = {
        str(r["_id"]): str(r.get("text") or "") for r in _jsonl(folder / "queries.jsonl")
    }
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        raise BeirError(f"{qrels_path} is missing")
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t")
        header = next(rows, None)
        if header is None or [h.strip() for h in header[:3]] != ["query-id", "corpus-id", "score"]:
            raise BeirError(f"{qrels_path}: the header must be 'query-id<TAB>corpus-id<TAB>score'")
        for number, row in enumerate(rows, start=2):
            if not row:
                continue
            try:
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
            except (IndexError, ValueError) as error:
                raise BeirError(
                    f"{qrels_path}:{number}: expected query-id, corpus-id, integer score"
                ) from error
    missing = sorted(set(qrels) - set(all_queries))
    if missing:
        raise BeirError(
            f"{qrels_path}: {len(missing)} judged queries are not in queries.jsonl ({missing[:3]})"
        )
    queries = {qid: all_queries[qid] for qid in qrels}
    return BeirDataset(folder.resolve().name, documents, queries, qrels)


def file_name(doc_id: str) -> str:
    """A safe, stable file name for a document id; ids may hold '/' or start with '.'.

    The prefix keeps the name from being hidden (the corpus scan skips dot files).
    """
    name = quote(doc_id, safe="-_")
    if len(name) > 150:
        name = hashlib.sha256(doc_id.encode()).hexdigest()
    return f"d-{name}.txt"


def write_corpus(dataset: BeirDataset, folder: Path) -> dict[str, str]:
    """Write each document as a text file, leaving unchanged ones alone; return source → doc id."""
    folder.mkdir(parents=True, exist_ok=True)
    sources: dict[str, str] = {}
    for document in dataset.documents:
        name = file_name(document.id)
        sources[name] = document.id
        path = folder / name
        data = document.content.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
    for stale in folder.glob("*.txt"):
        if stale.name not in sources:
            stale.unlink()
    return sources


def document_run(doc_ids: Sequence[str | None], query_id: str, depth: int) -> dict[str, float]:
    """The BEIR doc ids of ranked units (best first; None for a unit of no document) as a run
    with strictly decreasing scores.

    A document ranks where its first passage does; a document whose id is the
    query's own id is dropped, as BEIR's evaluation does (ArguAna, Quora).
    """
    ranked: list[str] = []
    seen: set[str] = set()
    for doc_id in doc_ids:
        if doc_id is None or doc_id in seen or doc_id == query_id:
            continue
        seen.add(doc_id)
        ranked.append(doc_id)
        if len(ranked) == depth:
            break
    return {doc_id: float(depth - position) for position, doc_id in enumerate(ranked)}


def _overall(metrics: Mapping[str, Mapping[str, float]], queries: int) -> TypeSummary:
    """The mean of each metric over the judged queries."""
    means = {
        name: statistics.fmean(v[name] for v in metrics.values()) if metrics else 0.0
        for name in BEIR_METRICS
    }
    return TypeSummary(OVERALL, queries, published_metrics(means))


def beir_anchor(dataset: BeirDataset, anchor: Anchor) -> tuple[AnchorSummary, ...]:
    """The naive anchor's figures on whole documents (``anchor`` built on their contents)."""
    ids = [document.id for document in dataset.documents]
    runs: dict[AnchorMethod, dict[str, dict[str, float]]] = {m: {} for m in AnchorMethod}
    for qid, text in dataset.queries.items():
        for method, rows in anchor.rankings(text, DEPTH + 1).items():
            runs[method][qid] = document_run([ids[row] for row in rows], qid, DEPTH)
    return tuple(
        AnchorSummary(
            method, (_overall(document_metrics(dataset.qrels, run), len(dataset.queries)),)
        )
        for method, run in runs.items()
    )


def score_mode(
    searcher: Searcher, dataset: BeirDataset, doc_of: Mapping[str, str], mode: Mode
) -> tuple[ModeSummary, dict[str, dict[str, float]]]:
    """Every query searched in ``mode`` after one untimed warm-up, its passages mapped to
    their documents by ``doc_of`` (source → doc id, from :func:`write_corpus`) and scored:
    the mode's summary and each query's metrics.

    Apart from :func:`evaluate_beir` so that a searcher made otherwise (a variant of a
    ranking stage, in ``scripts/retrieval_sweep.py``) is scored the same way."""
    runs: dict[str, dict[str, float]] = {}
    seconds: list[float] = []
    for text in list(dataset.queries.values())[:1]:
        searcher.search(text, k=10, mode=mode, extract=False)  # warm-up, not timed
    for qid, text in dataset.queries.items():
        began = time.perf_counter()
        answer = searcher.search(text, k=DEPTH * PASSAGES_PER_DOCUMENT, mode=mode, extract=False)
        seconds.append(time.perf_counter() - began)
        runs[qid] = document_run([doc_of.get(h.chunk.source) for h in answer.hits], qid, DEPTH)
    metrics = document_metrics(dataset.qrels, runs)
    per_query = {qid: published_metrics(values) for qid, values in metrics.items()}
    overall = _overall(metrics, len(dataset.queries))
    return ModeSummary(mode, (overall,), None, Latency.of(seconds)), per_query


def evaluate_beir(
    dataset: BeirDataset,
    settings: Settings,
    embedder: Embedder,
    workspace: Path,
    split: str = "test",
    modes: Sequence[Mode] = REPORT_MODES,
    progress: ProgressFactory | None = None,
    anchor_embedder: Embedder | None = None,
) -> BeirReport:
    """Index the dataset under ``workspace`` (updating an earlier index) and score every mode.

    With ``anchor_embedder`` (MiniLM in ``qa eval``) the naive anchor ranks the whole
    documents too, its vectors kept in ``workspace`` for the next run.
    """
    from qa.index.embedders import SentenceTransformerEmbedder
    from qa.search import Searcher

    settings = settings.replace(corpus=workspace / "corpus", index=workspace / "index")
    doc_of = write_corpus(dataset, settings.corpus)
    started = time.perf_counter()
    build = build_index(settings, embedder, progress=progress)
    index_seconds = time.perf_counter() - started
    # The model itself builds; its faster export, made by the build, embeds the questions.
    exported = isinstance(embedder, SentenceTransformerEmbedder)
    searcher = Searcher.open(settings, None if exported else embedder)
    summaries: list[ModeSummary] = []
    per_query: dict[Mode, dict[str, dict[str, float]]] = {}
    for mode in modes:
        summary, per_query[mode] = score_mode(searcher, dataset, doc_of, mode)
        summaries.append(summary)
    anchor: tuple[AnchorSummary, ...] = ()
    if anchor_embedder is not None:
        contents = [document.content for document in dataset.documents]
        built = Anchor.build(contents, anchor_embedder, workspace, "documents", progress)
        anchor = beir_anchor(dataset, built)
    return BeirReport(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        dataset=dataset.name,
        split=split,
        model=settings.model,
        documents=len(dataset.documents),
        indexed_documents=build.documents,
        chunks=build.chunks,
        queries=len(dataset.queries),
        index_seconds=round(index_seconds, 2),
        modes=tuple(summaries),
        per_query=per_query,
        anchor=anchor,
    )
