"""Loading the live version with the search backend the settings choose."""

from __future__ import annotations

import dataclasses

from qa.index.manifest import BuildSpec
from qa.index.problems import IndexIncompatible
from qa.index.snapshot import Snapshot
from qa.index.store import IndexStore
from qa.settings import Settings
from qa.types import Backend


def load_version(
    settings: Settings, spec: BuildSpec | None = None, full_check: bool = False
) -> Snapshot:
    """The live version of ``settings.index``, checked against ``spec``, searched by the
    backend the settings choose.

    A version built for Milvus also holds every file of the embedded backend, so either
    backend can search it; one built without Milvus cannot be searched by Milvus
    (IndexIncompatible: a build for Milvus mends it).
    """
    return with_backend(settings, IndexStore(settings.index).load(spec, full_check))


def with_backend(settings: Settings, snapshot: Snapshot) -> Snapshot:
    """``snapshot`` searched by the backend the settings choose; an IndexProblem when that
    backend cannot search it."""
    if settings.backend is Backend.EMBEDDED:
        return snapshot
    record = snapshot.manifest.backend
    if record.kind is not Backend.MILVUS or record.collection is None:
        raise IndexIncompatible(
            f"the index in {settings.index} was built without Milvus but the settings ask for"
            " backend = 'milvus'"
        )
    from qa.backends.milvus import open_collection

    search = open_collection(
        settings, record.collection, len(snapshot.chunks), snapshot.bm25.vocabulary
    )
    return dataclasses.replace(snapshot, search=search)
