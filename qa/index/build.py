"""Build or update the index of a corpus, re-embedding only documents that changed.

Example::

    report = build_index(settings, load_embedder(settings.model))
    print(report.summary())
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from qa.backends.loading import with_backend
from qa.chunking import CHUNKER_VERSION
from qa.corpus import CorpusFile, scan_corpus
from qa.corpus.readers import READER_VERSION
from qa.corpus.worker import DocumentReader
from qa.index.checkpoint import EmbeddingCheckpoint
from qa.index.embedders import (
    Embedder,
    SentenceTransformerEmbedder,
    load_query_embedder,
    query_encoder_path,
)
from qa.index.embedding import embed_chunks
from qa.index.export import export_query_encoder
from qa.index.intake import FileOutcome, Intake
from qa.index.lexical import TOKENIZER_VERSION, BM25Index, tokenize
from qa.index.manifest import BuildSpec, Manifest
from qa.index.problems import IndexCorrupt, IndexIncompatible, IndexProblem
from qa.index.snapshot import Snapshot
from qa.index.store import IndexStore
from qa.index.vectors import AnnParams, VectorIndex
from qa.index.writer import IndexWriter
from qa.settings import Settings
from qa.types import Backend, CatalogEntry, Chunk, LoadError

log = logging.getLogger(__name__)


class ProgressBar(Protocol):
    def update(self, n: int) -> Any: ...

    def close(self) -> Any: ...


class ProgressFactory(Protocol):
    """Makes the bar of one build stage: ``total`` units (passages unless ``unit`` says
    otherwise) under ``description``; the CLI draws tqdm, the app st.progress."""

    def __call__(self, total: int, description: str, unit: str = "passage") -> ProgressBar: ...


def build_spec(settings: Settings, embedder: Embedder) -> BuildSpec:
    return BuildSpec(
        model=settings.model,
        dimension=embedder.dimension,
        max_tokens=embedder.max_tokens,
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        chunker_version=CHUNKER_VERSION,
        tokenizer_version=TOKENIZER_VERSION,
        chunk_context=settings.chunk_context,
        reader_version=READER_VERSION,
        quantized=getattr(embedder, "quantized", False),
    )


def search_text(document: CatalogEntry, chunk: Chunk, with_context: bool) -> str:
    """What the lexical and dense indexes see of a chunk: its text, after its document's
    title, organisation and section when ``with_context``.

    A passage of a report rarely names the council or the report it is part of ("Care
    leavers live in suitable accommodation"); a question does ("How are Sutton's care
    leavers housed?"). The quoted and cited text stays the chunk's own.
    """
    if not with_context:
        return chunk.text
    context: list[str] = []
    for part in (document.title, document.organisation, chunk.section):
        # Only what the chunk does not already say: a cover page naming its council three
        # times would otherwise outrank every passage for that council's name.
        if part and all(part not in said for said in (*context, chunk.text)):
            context.append(part)
    return "\n".join([*context, chunk.text])


@dataclass(frozen=True)
class CorpusChanges:
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def describe(self) -> str:
        parts = []
        for label, names in (
            ("added", self.added),
            ("changed", self.changed),
            ("removed", self.removed),
        ):
            if names:
                parts.append(
                    f"{len(names)} {label} ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''})"
                )
        return "; ".join(parts) or "no changes"


def corpus_changes(files: list[CorpusFile], manifest: Manifest | None) -> CorpusChanges:
    """How the corpus on disk differs from what the index was built from (everything is
    added when there is no index). A file skipped without a hash is always changed."""
    known: dict[str, str | None] = {}
    if manifest is not None:
        known.update(manifest.hashes)
        known.update({source: entry.hash for source, entry in manifest.skipped.items()})
    on_disk = {f.source: f.content_hash for f in files}
    return CorpusChanges(
        added=tuple(sorted(set(on_disk) - set(known))),
        changed=tuple(sorted(s for s in on_disk if s in known and known[s] != on_disk[s])),
        removed=tuple(sorted(set(known) - set(on_disk))),
    )


@dataclass(frozen=True)
class BuildReport:
    documents: int
    chunks: int
    embedded_chunks: int
    reused_documents: int
    changes: CorpusChanges
    errors: tuple[LoadError, ...]
    seconds: float
    rebuilt: bool
    unchanged: bool = False
    stages: dict[str, float] = field(default_factory=dict)
    """Seconds per build stage (read and chunk, embed, lexical, vector index, save), so the
    cost of each is known; the benchmark reports them."""
    files: tuple[FileOutcome, ...] = ()
    """Each file of the corpus, in the order read: read, reused or skipped."""

    def file_lines(self) -> list[str]:
        """One line per file this build read, with its pages and passages (reused files are
        counted in the summary, skipped ones are in ``errors``)."""
        return [f.line() for f in self.files if f.status == "read"]

    def summary(self) -> str:
        if self.unchanged:
            return (
                f"Index is up to date: {self.documents} documents, {self.chunks} chunks"
                f" (nothing re-embedded, {self.seconds:.1f} s)."
            )
        how = "Rebuilt" if self.rebuilt else "Updated"
        return (
            f"{how} index: {self.documents} documents, {self.chunks} chunks in {self.seconds:.1f} s;"
            f" embedded {self.embedded_chunks} chunks, reused {self.reused_documents} unchanged documents"
            f" ({self.changes.describe()})."
        )


def _previous(store: IndexStore, spec: BuildSpec, rebuild: bool) -> Snapshot | None:
    if rebuild:
        return None
    try:
        return store.load(spec)
    except IndexProblem as problem:
        if store.current() is not None:
            log.warning("cannot reuse the existing index (%s); rebuilding from scratch", problem)
        return None


def _searchable(settings: Settings, snapshot: Snapshot) -> bool:
    """Whether the backend the settings choose can search ``snapshot`` as it is (a version
    built without Milvus, or whose collection is gone, needs a new version for Milvus)."""
    try:
        with_backend(settings, snapshot)
    except (IndexCorrupt, IndexIncompatible) as problem:
        log.warning("the index needs a new version for %s (%s)", settings.backend, problem)
        return False
    return True


def build_index(
    settings: Settings,
    embedder: Embedder,
    rebuild: bool = False,
    progress: ProgressFactory | None = None,
) -> BuildReport:
    """Index ``settings.corpus`` into ``settings.index``; embed only new or changed documents."""
    started = time.perf_counter()
    store = IndexStore(settings.index)
    encoder = None
    if isinstance(embedder, SentenceTransformerEmbedder):
        # First, so that an export found damaged is made again before the previous version,
        # which records it, is checked.
        encoder = query_encoder_path(settings.index, settings.model)
        if not export_query_encoder(embedder, encoder):
            encoder = None
        # The INT8 export embeds 2.6x faster on CPU (QUANTIZED_AGREEMENT); questions are
        # embedded through it too, so the spec records the encoder that embeds.
        embedder = load_query_embedder(settings.model, settings.index, settings.batch_size)
    spec = build_spec(settings, embedder)
    previous = _previous(store, spec, rebuild)
    files, errors = scan_corpus(settings.corpus, settings.max_file_bytes)
    changes = corpus_changes(files, previous.manifest if previous else None)
    if previous is not None and not changes.any and _searchable(settings, previous):
        # A build killed after its pointer switch left its cleaning undone.
        IndexWriter(settings.index).clean()
        known_errors = [LoadError(s, e.reason) for s, e in previous.manifest.skipped.items()]
        return BuildReport(
            len(previous.catalog),
            len(previous.chunks),
            0,
            len(previous.catalog),
            changes,
            tuple(errors + known_errors),
            time.perf_counter() - started,
            rebuilt=False,
            unchanged=True,
        )

    stages: dict[str, float] = {}
    stage_started = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal stage_started
        now = time.perf_counter()
        stages[name] = now - stage_started
        stage_started = now

    intake = Intake(settings, previous, embedder.dimension)
    reading = progress(len(files), "Reading", unit="file") if progress and files else None
    with DocumentReader(settings.read_limits) as reader:
        for file in files:
            intake.take(file, reader)
            if reading is not None:
                reading.update(1)
    if reading is not None:
        reading.close()
    tables = intake.finish()
    stage("read_chunk")
    new_chunks = intake.new_chunks()
    bar = progress(len(new_chunks), "Embedding") if progress and new_chunks else None
    checkpoint = EmbeddingCheckpoint.open(
        settings.index, f"{embedder.name}|{spec.dimension}|{spec.max_tokens}"
    )
    catalog = tables.catalog

    def indexed(chunk: Chunk) -> str:
        return search_text(catalog[chunk.source], chunk, settings.chunk_context)

    fresh = embed_chunks(
        settings, embedder, checkpoint, new_chunks, indexed, bar.update if bar else None
    )
    if bar is not None:
        bar.close()
    # The vectors are held once (1.5 GB at a million passages): the vector index's own copy
    # replaces ours once it is made. That is made before the BM25 matrix, whose build
    # briefly holds its postings twice, so the two peaks do not add up.
    embeddings = intake.embeddings(fresh)
    del fresh
    stage("embed")
    ann = AnnParams(
        settings.ann_threshold, settings.ann_m, settings.ann_ef_construction, settings.ann_ef_search
    )
    vector_index = VectorIndex.build(embeddings, ann)
    embeddings = vector_index.stored_vectors()
    stage("vector_index")
    chunks = tables.chunks
    bm25 = BM25Index.build(tokenize(indexed(c)) for c in chunks)  # one chunk's tokens at a time
    stage("lexical")
    publisher = None
    if settings.backend is Backend.MILVUS:
        from qa.backends.milvus import MilvusPublisher

        publisher = MilvusPublisher(settings, chunks, catalog, embeddings, bm25)
    IndexWriter(settings.index).save(
        spec,
        tables,
        embeddings,
        vector_index,
        bm25,
        intake.skipped,
        encoder,
        publisher,
    )
    checkpoint.clear()
    stage("save")
    if publisher is not None:  # saving includes writing the Milvus collection: apart
        stages["save"] -= publisher.seconds
        stages["milvus"] = publisher.seconds
    return BuildReport(
        documents=len(catalog),
        chunks=len(chunks),
        embedded_chunks=len(new_chunks),
        reused_documents=intake.reused,
        changes=changes,
        errors=tuple(errors + intake.errors),
        seconds=time.perf_counter() - started,
        rebuilt=previous is None,
        stages=stages,
        files=tuple(intake.outcomes),
    )
