"""Whether an index can answer questions, and making it so: the one readiness check.

The CLI and the app both ask :func:`status` what state the index is in and let
:func:`ensure` build, update or rebuild it; neither compares format versions, reads
manifests or takes error messages apart. What each does with a state is its own choice:
``qa ask`` mends every state unless told not to, the app builds a missing or outdated
index when it opens and asks before it rebuilds one built with other settings or damaged.

Example::

    found = status(settings, embedder)
    if found.state is not IndexState.READY:
        print(found.reason)
    searcher = Searcher(settings, ensure(settings, embedder).snapshot, embedder)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qa.backends.loading import load_version
from qa.corpus import scan_corpus
from qa.index import embedders
from qa.index.build import (
    BuildReport,
    CorpusChanges,
    ProgressFactory,
    build_index,
    build_spec,
    corpus_changes,
)
from qa.index.embedders import Embedder
from qa.index.problems import (
    IndexCorrupt,
    IndexIncompatible,
    IndexMissing,
    IndexOutdated,
    IndexProblem,
    SearchUnavailable,
)
from qa.index.snapshot import Snapshot
from qa.settings import Settings
from qa.types import Choice


class IndexState(Choice):
    """What the live index of a folder is good for."""

    READY = "ready"
    MISSING = "missing"
    STALE = "stale"
    OUTDATED = "outdated"
    INCOMPATIBLE = "incompatible"
    CORRUPT = "corrupt"


# The store's problems, most specific first (IndexOutdated is an IndexIncompatible).
_STATES: tuple[tuple[type[IndexProblem], IndexState], ...] = (
    (IndexMissing, IndexState.MISSING),
    (IndexOutdated, IndexState.OUTDATED),
    (IndexIncompatible, IndexState.INCOMPATIBLE),
    (IndexCorrupt, IndexState.CORRUPT),
)


@dataclass(frozen=True)
class IndexStatus:
    """The state of an index with its reason in one sentence.

    ``snapshot`` is the loaded, verified index when it can answer (ready or stale), so
    that a caller need not load it again; ``changes`` says how a stale index differs from
    the corpus. ``fix`` is the command that mends the state.
    """

    state: IndexState
    reason: str
    fix: str | None = None
    snapshot: Snapshot | None = None
    changes: CorpusChanges | None = None


class IndexNotReady(IndexProblem):
    """The index cannot answer as it is, and the caller did not allow mending it."""

    def __init__(self, found: IndexStatus) -> None:
        super().__init__(found.reason, found.fix or "qa index")
        self.status = found


@dataclass(frozen=True)
class Ensured:
    """What :func:`ensure` found, the build it ran (None when it found the index ready),
    the index that is now ready and the question encoder to search it with (a build exports
    the model's faster encoder, which the index then records)."""

    found: IndexStatus
    report: BuildReport | None
    snapshot: Snapshot
    embedder: Embedder


def state_of(problem: IndexProblem) -> IndexState:
    """The state an index problem means, for a caller that met the problem while searching."""
    if isinstance(problem, IndexNotReady):
        return problem.status.state
    return next((state for kind, state in _STATES if isinstance(problem, kind)), IndexState.CORRUPT)


def changes(settings: Settings, snapshot: Snapshot) -> CorpusChanges:
    """What was added, changed or removed in the corpus folder since ``snapshot`` was built."""
    files, _ = scan_corpus(settings.corpus, settings.max_file_bytes)
    return corpus_changes(files, snapshot.manifest)


def status(settings: Settings, embedder: Embedder, corpus: bool = True) -> IndexStatus:
    """The state of the index in ``settings.index`` for these settings and this model.

    The live version is loaded and verified (manifest field by field, every file's size and
    hash), so a ready status holds the snapshot to search. With ``corpus`` the corpus
    folder is also compared with what the index was built from (reading every file);
    without it a readable index counts as ready. A search engine that cannot be reached
    (SearchUnavailable) is raised, not a state: no build mends it.
    """
    try:
        snapshot = load_version(settings, build_spec(settings, embedder))
    except SearchUnavailable:
        raise
    except IndexProblem as problem:
        return IndexStatus(state_of(problem), problem.reason, problem.fix)
    if corpus:
        found = changes(settings, snapshot)
        if found.any:
            reason = f"the corpus changed since the index was built ({found.describe()})"
            return IndexStatus(IndexState.STALE, reason, "qa index", snapshot, found)
    return IndexStatus(IndexState.READY, "the index is ready", snapshot=snapshot)


def ensure(
    settings: Settings,
    embedder: Embedder,
    update: bool = True,
    progress: ProgressFactory | None = None,
    announce: Callable[[IndexStatus], None] | None = None,
) -> Ensured:
    """The index made ready: a stale one updated, any other state rebuilt from scratch.

    With ``update`` False an index that is not ready raises :class:`IndexNotReady`.
    ``announce`` hears the state found before a build starts, so a caller can say why it
    waits; ``progress`` draws the embedding progress. The build loads the full model (the
    query ``embedder`` may be a faster export that cannot build).
    """
    found = status(settings, embedder)
    if found.state is IndexState.READY and found.snapshot is not None:
        return Ensured(found, None, found.snapshot, embedder)
    if not update:
        raise IndexNotReady(found)
    if announce is not None:
        announce(found)
    builder = embedders.load_embedder(settings.model, settings.batch_size)
    rebuild = found.state is not IndexState.STALE
    report = build_index(settings, builder, rebuild=rebuild, progress=progress)
    embedder = embedders.load_query_embedder(settings.model, settings.index, settings.batch_size)
    snapshot = load_version(settings, build_spec(settings, embedder))
    return Ensured(found, report, snapshot, embedder)
