"""Build or update the index of a corpus, re-embedding only documents that changed.

Example::

    report = build_index(settings, load_embedder(settings.model))
    print(report.summary())
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, overload

import numpy as np

from qa.backends.loading import with_backend
from qa.chunking import CHUNKER_VERSION, chunk_document
from qa.corpus import CorpusFile, DocumentError, scan_corpus
from qa.corpus.files import file_hash, file_state
from qa.corpus.readers import READER_VERSION
from qa.corpus.worker import DocumentReader
from qa.index.checkpoint import EmbeddingCheckpoint
from qa.index.embedders import (
    Embedder,
    SentenceTransformerEmbedder,
    load_query_embedder,
    query_encoder_path,
)
from qa.index.export import export_query_encoder
from qa.index.lexical import TOKENIZER_VERSION, BM25Index, tokenize
from qa.index.manifest import BuildSpec, Manifest, SkippedFile
from qa.index.problems import IndexCorrupt, IndexIncompatible, IndexProblem
from qa.index.snapshot import Snapshot
from qa.index.store import IndexStore
from qa.index.vectors import AnnParams, VectorIndex
from qa.index.writer import IndexWriter
from qa.settings import Settings
from qa.types import Backend, CatalogEntry, Chunk, Document, LoadError

log = logging.getLogger(__name__)


class ProgressBar(Protocol):
    def update(self, n: int) -> Any: ...

    def close(self) -> Any: ...


class ProgressFactory(Protocol):
    """Makes the bar of one build stage: ``total`` units (passages unless ``unit`` says
    otherwise) under ``description``; the CLI draws tqdm, the app st.progress."""

    def __call__(self, total: int, description: str, unit: str = "passage") -> ProgressBar: ...


@dataclass(frozen=True)
class FileOutcome:
    """What a build did with one file: ``read`` (and how many passages, and pages for
    formats with pages), ``reused`` unchanged from the previous version, or ``skipped``
    with the reason."""

    source: str
    status: str
    passages: int = 0
    pages: int | None = None
    reason: str = ""

    def line(self) -> str:
        if self.status == "skipped":
            return f"skipped {self.source}: {self.reason}"
        pages = f"{_count(self.pages, 'page')}, " if self.pages else ""
        return f"{self.status} {self.source} ({pages}{_count(self.passages, 'passage')})"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


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


class _Texts(Sequence[str]):
    """``text`` of each chunk, made when it is read: the embedding checkpoint reads each
    text twice (to key it, then in its shard), and a list of a million search texts held
    1 GB through the embedding."""

    def __init__(self, chunks: Sequence[Chunk], text: Callable[[Chunk], str]) -> None:
        self._chunks = chunks
        self._text = text

    def __len__(self) -> int:
        return len(self._chunks)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._text(chunk) for chunk in self._chunks[index]]
        return self._text(self._chunks[index])


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


def document_chunks(document: Document, settings: Settings) -> list[Chunk]:
    """The passages of ``document``, or DocumentError when they are more than
    ``settings.max_document_chunks``: each is embedded, at about 30 a second on a CPU."""
    chunks = chunk_document(document, settings.chunk_size, settings.chunk_overlap)
    if len(chunks) > settings.max_document_chunks:
        raise DocumentError(
            f"the document makes {len(chunks):,} passages, over the limit of"
            f" {settings.max_document_chunks:,} (setting max_document_chunks)"
        )
    return chunks


READ_ATTEMPTS = 3
"""Reads of a file that is written while it is read, before it is reported instead."""


def _read_as_hashed(
    file: CorpusFile, reader: DocumentReader
) -> tuple[Document | DocumentError, str | None]:
    """Read ``file`` so that the hash recorded for it is the hash of the bytes parsed.

    The scan hashed the file earlier, minutes ago in a large build; it may have been
    written since, or be written while it is parsed (a copy in progress, an editor
    saving). A read counts only when the file's state (inode, size, times) is the same
    before and after it and its hash after the read is the one known before: then the
    parsed bytes are the hashed ones, even if a writer left the file as it found it.
    Otherwise the file is read again with its new hash, up to READ_ATTEMPTS times.

    Returns the document (or why it cannot be read) and the hash to record for it: None
    when the file kept changing or vanished, so that the next build reads it again
    whatever it then holds.
    """
    known = file.content_hash
    for _ in range(READ_ATTEMPTS):
        try:
            before = file_state(file.path)
            try:
                outcome: Document | DocumentError = reader.read(
                    CorpusFile(file.source, file.path, known)
                )
            except DocumentError as error:
                outcome = error
            after = file_hash(file.path)
            written = file_state(file.path) != before
        except DocumentError as error:  # its sidecar went bad during the read
            return error, None
        except OSError as error:  # removed, or replaced by something that is not a file
            return DocumentError(f"cannot read file ({error.strerror or error})"), None
        if not written and after == known:
            return outcome, known
        known = after
    return DocumentError(
        f"the file changed while it was being read ({READ_ATTEMPTS} tries);"
        " it will be read again at the next build"
    ), None


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
        IndexWriter(
            settings.index
        ).clean()  # a build killed after its pointer switch left its cleaning undone
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

    documents: list[Document] = []
    chunks: list[Chunk] = []
    vectors: list[np.ndarray] = []
    pending: list[tuple[int, list[Chunk]]] = []
    skipped: dict[str, SkippedFile] = {}
    outcomes: list[FileOutcome] = []

    def take(file: CorpusFile, reader: DocumentReader) -> None:
        """One file into the new version: its previous rows if unchanged, else read."""
        old = previous.catalog.get(file.source) if previous else None
        if previous is not None and old is not None and old.content_hash == file.content_hash:
            rows = previous.rows_of[file.source]
            documents.append(previous.documents[file.source])
            chunks.extend(previous.chunks[rows.start : rows.stop])
            vectors.append(np.asarray(previous.embeddings[rows.start : rows.stop]))
            outcomes.append(FileOutcome(file.source, "reused", rows.stop - rows.start))
            return
        document, content_hash = _read_as_hashed(file, reader)
        try:
            if isinstance(document, DocumentError):
                raise document
            new_chunks = document_chunks(document, settings)
        except DocumentError as error:
            errors.append(LoadError(file.source, str(error)))
            skipped[file.source] = SkippedFile(content_hash, str(error))
            outcomes.append(FileOutcome(file.source, "skipped", reason=str(error)))
            return
        outcomes.append(FileOutcome(file.source, "read", len(new_chunks), len(document.pages)))
        documents.append(document)
        pending.append((len(vectors), new_chunks))
        vectors.append(np.zeros((0, embedder.dimension), dtype=np.float32))
        chunks.extend(new_chunks)

    reading = progress(len(files), "Reading", unit="file") if progress and files else None
    with DocumentReader(settings.read_limits) as reader:
        for file in files:
            take(file, reader)
            if reading is not None:
                reading.update(1)
    if reading is not None:
        reading.close()
    stage("read_chunk")
    to_embed = sum(len(c) for _, c in pending)
    bar = progress(to_embed, "Embedding") if progress and to_embed else None
    checkpoint = EmbeddingCheckpoint.open(
        settings.index, f"{embedder.name}|{spec.dimension}|{spec.max_tokens}"
    )
    catalog = {d.source: d for d in documents}

    def indexed(chunk: Chunk) -> str:
        return search_text(catalog[chunk.source], chunk, settings.chunk_context)

    runner = None
    if settings.workers > 1 or settings.ray_address:
        from qa.index.ray_embedding import ray_runner

        runner = ray_runner(embedder, settings.batch_size, settings.workers, settings.ray_address)
    fresh = checkpoint.embed(
        embedder,
        _Texts([c for _, new_chunks in pending for c in new_chunks], indexed),
        settings.batch_size,
        bar.update if bar else None,
        runner,
    )
    if bar is not None:
        bar.close()
    start = 0
    for slot, new_chunks in pending:
        vectors[slot] = fresh[start : start + len(new_chunks)]
        start += len(new_chunks)

    # The vectors are held once, not three times (1.5 GB each at a million passages): with
    # every document new, the fresh rows are in chunk order and need no joining, and the
    # vector index's own copy replaces ours once it is made. That is made before the BM25
    # matrix, whose build briefly holds its postings twice, so the two peaks do not add up.
    reused = sum(f.status == "reused" for f in outcomes)
    embeddings = np.concatenate(vectors) if reused else fresh
    del fresh
    vectors.clear()
    stage("embed")
    ann = AnnParams(
        settings.ann_threshold, settings.ann_m, settings.ann_ef_construction, settings.ann_ef_search
    )
    vector_index = VectorIndex.build(embeddings, ann)
    embeddings = vector_index.stored_vectors()
    stage("vector_index")
    bm25 = BM25Index.build(tokenize(indexed(c)) for c in chunks)  # one chunk's tokens at a time
    stage("lexical")
    publisher = None
    if settings.backend is Backend.MILVUS:
        from qa.backends.milvus import MilvusPublisher

        publisher = MilvusPublisher(settings, chunks, catalog, embeddings, bm25)
    IndexWriter(settings.index).save(
        spec, documents, chunks, embeddings, vector_index, bm25, skipped, encoder, publisher
    )
    checkpoint.clear()
    stage("save")
    if publisher is not None:  # saving includes writing the Milvus collection: apart
        stages["save"] -= publisher.seconds
        stages["milvus"] = publisher.seconds
    return BuildReport(
        documents=len(documents),
        chunks=len(chunks),
        embedded_chunks=to_embed,
        reused_documents=reused,
        changes=changes,
        errors=tuple(errors),
        seconds=time.perf_counter() - started,
        rebuilt=previous is None,
        stages=stages,
        files=tuple(outcomes),
    )
