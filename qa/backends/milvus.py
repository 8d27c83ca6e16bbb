"""The Milvus backend: one collection per index version, searched through ``pymilvus``.

A collection (``qa_<folder key>_<version>``) holds one entity per chunk row:

- ``row`` (primary key): the chunk's row in the version, so rankings are in the same rows
  as the chunk table the citations are read from;
- ``document``, ``start``, ``end``, ``page`` (0: none), ``section``, ``year`` (0: undated) and
  ``organisation`` ("": none): the scalar fields filters are evaluated on;
- ``sparse``: the chunk's column of the version's BM25 matrix (term number → weight),
  searched by inner product with the query's term counts, so a lexical score is the
  embedded BM25's own score. Milvus's built-in BM25 function was tried first: its idf is
  Lucene's ``log(1 + (N − n + 0.5)/(n + 0.5))``, not BM25Okapi's floored one, and on the
  reference questions it changed the top 5 sources of a third of them; weights made by
  our build keep the answers of the two backends the same (the README gives both counts);
- ``dense``: the chunk's embedding, in an HNSW graph (inner product) on a Milvus server;
  Milvus Lite accepts only FLAT, IVF_FLAT and AUTOINDEX, so there it is FLAT (exact).

The texts, the chunk table and the catalogue stay in the index folder: Milvus replaces the
two searches, not the citations, and a version built for Milvus holds the embedded
backend's files as well. The two rankings are fused by :func:`qa.pipeline.fusion.fuse`,
as for the embedded backend. A version switches with the folder's ``CURRENT`` pointer,
whose manifest names the collection; the alias ``qa_<folder key>`` is then moved to it
for other Milvus clients (a server feature: Milvus Lite has no aliases). Collections of
versions the store removes, or of builds killed before their switch, are dropped when a
later build cleans the folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from qa.backends.base import Ranking, empty_ranking
from qa.index.lexical import BM25Index
from qa.index.manifest import BackendRecord
from qa.index.problems import IndexCorrupt, SearchUnavailable
from qa.settings import Settings, SettingsError
from qa.types import Backend, CatalogEntry, Chunk, Filters

log = logging.getLogger(__name__)

TEXT_BYTES = 65_535
"""The longest VARCHAR Milvus stores (bytes)."""
INSERT_ROWS = 1000
"""Entities per insert request: a few MB, well under the 64 MB a request may carry."""
TOPK_LIMIT = 16_384
"""The most results one Milvus search returns."""


def is_lite(uri: str) -> bool:
    """Whether ``uri`` is a Milvus Lite file (pymilvus opens a ``.db`` path with Milvus Lite)."""
    return uri.endswith(".db")


def shown_uri(uri: str) -> str:
    """``uri`` without a user name or password, for messages."""
    parts = urlsplit(uri)
    if parts.hostname is None or "@" not in parts.netloc:
        return uri
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()


LITE_STARTS = 3
"""Starts of a Milvus Lite server before giving up. Its first start for a file sometimes does
not come up (seen in the test suite, in one run of three: the client found no socket and
the next file's server started fine); a second start succeeds. A file another process holds
is not started again."""
LITE_RESTART_SECONDS = 1.0


@lru_cache(maxsize=4)
def connect(uri: str) -> Any:
    """One client per URI and process: Milvus Lite starts a server process per file, and a
    file can be open in only one process at a time."""
    try:
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException
    except ImportError:
        raise SettingsError(
            "backend = 'milvus' needs pymilvus and Milvus Lite: pip install -e '.[scale]'"
        ) from None
    lite = is_lite(uri)
    if lite:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    for start in range(1, LITE_STARTS + 1):
        try:
            return MilvusClient(uri)
        except MilvusException as error:
            failure = error
            if not (lite and start < LITE_STARTS and _released_lite_server(uri)):
                break
            time.sleep(LITE_RESTART_SECONDS)
    hint = (
        " (Milvus Lite serves one process at a time: close the other `qa` or the app,"
        " or use a Milvus server)"
        if lite
        else ""
    )
    raise SearchUnavailable(
        f"cannot open Milvus at {shown_uri(uri)}: {failure.message}{hint}"
    ) from failure


def _released_lite_server(uri: str) -> bool:
    """Stop the Milvus Lite server this process started for ``uri``, so that the next client
    starts a new one instead of reusing the one that did not come up; False when this process
    started none (another process holds the file: starting again would take the file from
    it, since a failed start removes the lock file)."""
    from milvus_lite.server_manager import server_manager_instance

    if str(Path(uri).resolve()) not in getattr(server_manager_instance, "_servers", {}):
        return False
    server_manager_instance.release_server(uri)
    return True


def folder_key(index_root: Path) -> str:
    """The prefix of one index folder's collections, so that folders can share a Milvus."""
    return "qa_" + hashlib.sha256(str(index_root.resolve()).encode()).hexdigest()[:12]


def collection_name(index_root: Path, version: str) -> str:
    """The collection of ``version`` (``v-<time>-<id>``) of the folder ``index_root``."""
    return f"{folder_key(index_root)}_{version.replace('-', '_')}"


def _clipped(text: str, limit: int = TEXT_BYTES) -> str:
    """``text`` cut to ``limit`` UTF-8 bytes at a character boundary."""
    data = text.encode("utf-8", "surrogatepass")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


def _strings(values: Iterable[str]) -> str:
    """A Milvus list literal of ``values``: JSON strings are valid Milvus string literals."""
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in sorted(values)) + "]"


def expression(scope: Filters | None) -> str:
    """``scope`` as a Milvus boolean expression ("" for every row)."""
    if scope is None:
        return ""
    parts = []
    if scope.sources is not None:
        parts.append(f"document in {_strings(scope.sources)}" if scope.sources else "row < 0")
    if scope.organisations is not None:
        parts.append(
            f"organisation in {_strings(scope.organisations)}" if scope.organisations else "row < 0"
        )
    if scope.year_from is not None or scope.year_to is not None:
        parts.append(f"year >= {max(scope.year_from or 1, 1)}")  # 0 is undated: never allowed
        if scope.year_to is not None:
            parts.append(f"year <= {scope.year_to}")
    return " and ".join(parts)


def _schema(dimension: int) -> Any:
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    for name in ("document", "section", "organisation"):
        schema.add_field(name, DataType.VARCHAR, max_length=TEXT_BYTES)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("page", DataType.INT32)
    schema.add_field("year", DataType.INT16)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dimension)
    return schema


def _index_params(client: Any, settings: Settings) -> Any:
    params = client.prepare_index_params()
    if is_lite(settings.milvus_location):
        params.add_index("dense", index_type="FLAT", metric_type="IP")
    else:
        params.add_index(
            "dense",
            index_type="HNSW",
            metric_type="IP",
            params={"M": settings.ann_m, "efConstruction": settings.ann_ef_construction},
        )
    params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    return params


class MilvusPublisher:
    """Writes a version's rows into a new collection as the store saves the version
    (:class:`qa.index.writer.Publisher`)."""

    def __init__(
        self,
        settings: Settings,
        chunks: Sequence[Chunk],
        catalog: Mapping[str, CatalogEntry],
        embeddings: np.ndarray,
        bm25: BM25Index,
    ) -> None:
        self.settings = settings
        self.chunks = chunks
        self.catalog = catalog
        self.embeddings = embeddings
        self.weights_by_row = bm25.weights.T.tocsr()
        """Row *i* holds chunk *i*'s BM25 weights by term number."""
        self.seconds = 0.0
        """How long :meth:`publish` took (the build reports it as its own stage)."""

    @property
    def uri(self) -> str:
        return self.settings.milvus_location

    def publish(self, version: str) -> BackendRecord:
        from pymilvus.exceptions import MilvusException

        started = time.perf_counter()
        client = connect(self.uri)
        name = collection_name(self.settings.index, version)
        try:
            client.create_collection(
                name,
                schema=_schema(self.embeddings.shape[1]),
                index_params=_index_params(client, self.settings),
                consistency_level="Strong",
            )
            for first in range(0, len(self.chunks), INSERT_ROWS):
                client.insert(name, self._entities(first, first + INSERT_ROWS))
            client.flush(name)
        except MilvusException as error:
            raise SearchUnavailable(
                f"the index could not be written to Milvus at {shown_uri(self.uri)}"
                f" ({error.message}); the previous index is unchanged"
            ) from error
        self.seconds = time.perf_counter() - started
        return BackendRecord(Backend.MILVUS, name)

    def _entities(self, first: int, last: int) -> list[dict[str, Any]]:
        entities = []
        weights = self.weights_by_row
        for row in range(first, min(last, len(self.chunks))):
            chunk = self.chunks[row]
            entry = self.catalog[chunk.source]
            postings = slice(weights.indptr[row], weights.indptr[row + 1])
            entities.append(
                {
                    "row": row,
                    "document": chunk.source,
                    "start": chunk.start,
                    "end": chunk.end,
                    "page": chunk.page or 0,
                    "section": _clipped(chunk.section or ""),
                    "year": entry.year or 0,
                    "organisation": entry.organisation or "",
                    "sparse": dict(
                        zip(
                            weights.indices[postings].tolist(),
                            weights.data[postings].tolist(),
                            strict=True,
                        )
                    ),
                    "dense": self.embeddings[row],
                }
            )
        return entities

    def activate(self, record: BackendRecord) -> None:
        """Point the folder's alias at the live collection, for other Milvus clients; qa's
        own readers go by the manifest, so a failure here only warns."""
        if record.collection is None or is_lite(self.uri):
            return
        from pymilvus.exceptions import MilvusException

        client = connect(self.uri)
        alias = folder_key(self.settings.index)
        try:
            if alias in client.list_aliases(record.collection).get("aliases", []):
                return
            try:
                client.alter_alias(record.collection, alias)
            except MilvusException:  # the first version: no alias to move yet
                client.create_alias(record.collection, alias)
        except MilvusException as error:
            log.warning(
                "cannot point the Milvus alias %s at %s (%s)", alias, record.collection, error
            )

    def clean(self, versions: frozenset[str]) -> None:
        """Drop this folder's collections whose version is not kept; best effort."""
        from pymilvus.exceptions import MilvusException

        client = connect(self.uri)
        prefix = folder_key(self.settings.index) + "_"
        keep = {collection_name(self.settings.index, version) for version in versions}
        try:
            for name in client.list_collections():
                if name.startswith(prefix) and name not in keep:
                    client.drop_collection(name)
        except MilvusException as error:
            log.warning("cannot remove old Milvus collections (%s)", error)


class MilvusBackend:
    """BM25 and vector search in the Milvus collection of one version; ``vocabulary`` (the
    version's, term → number) turns a query's terms into the numbers its weights use."""

    kind = Backend.MILVUS

    def __init__(
        self, client: Any, collection: str, ef_search: int, vocabulary: Mapping[str, int]
    ) -> None:
        self.client = client
        self.collection = collection
        self.ef_search = ef_search
        self.vocabulary = vocabulary

    def _search(
        self, data: Any, field: str, k: int, scope: Filters | None, params: dict[str, Any]
    ) -> Ranking:
        if k < 1:
            return empty_ranking()
        from pymilvus.exceptions import MilvusException

        try:
            found = self.client.search(
                self.collection,
                data=[data],
                anns_field=field,
                limit=min(k, TOPK_LIMIT),
                filter=expression(scope),
                search_params=params,
            )[0]
        except MilvusException as error:
            raise SearchUnavailable(
                f"Milvus could not search {self.collection} ({error.message})"
            ) from error
        rows = np.fromiter((hit["id"] for hit in found), dtype=np.int64, count=len(found))
        scores = np.fromiter((hit["distance"] for hit in found), dtype=np.float32, count=len(found))
        return rows, scores

    def lexical(self, terms: Sequence[str], k: int, scope: Filters | None) -> Ranking:
        """A repeated query term counts each time, as in :meth:`BM25Index.scores`."""
        counts = Counter(self.vocabulary[t] for t in terms if t in self.vocabulary)
        if not counts:
            return empty_ranking()
        query = {term: float(count) for term, count in counts.items()}
        rows, scores = self._search(query, "sparse", k, scope, {"metric_type": "IP"})
        positive = scores > 0
        return rows[positive], scores[positive]

    def dense(self, vector: np.ndarray, k: int, scope: Filters | None) -> Ranking:
        params = {"metric_type": "IP", "params": {"ef": max(self.ef_search, k)}}
        return self._search(np.asarray(vector, dtype=np.float32), "dense", k, scope, params)


def open_collection(
    settings: Settings, collection: str, rows: int, vocabulary: Mapping[str, int]
) -> MilvusBackend:
    """The backend over ``collection``, checked to exist and hold ``rows`` rows."""
    from pymilvus.exceptions import MilvusException

    uri = settings.milvus_location
    client = connect(uri)
    try:
        if not client.has_collection(collection):
            raise IndexCorrupt(
                f"the Milvus collection {collection} of this index is not at {shown_uri(uri)}"
            )
        client.load_collection(collection)
        count = client.query(collection, filter="", output_fields=["count(*)"])[0]["count(*)"]
    except MilvusException as error:
        raise SearchUnavailable(
            f"cannot read the Milvus collection {collection} at {shown_uri(uri)} ({error.message})"
        ) from error
    if count != rows:
        raise IndexCorrupt(
            f"the Milvus collection {collection} holds {count} rows but the index {rows}"
        )
    return MilvusBackend(client, collection, settings.ann_ef_search, vocabulary)
