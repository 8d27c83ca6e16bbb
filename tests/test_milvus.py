"""The Milvus backend on a real engine (Milvus Lite): same commands, same kind of answers.

Every test here shares one Milvus Lite file (as index folders share a server), each with
its own index folder, so the collections of one folder never touch another's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from qa.backends.embedded import EmbeddedBackend
from qa.backends.loading import load_version
from qa.backends.milvus import connect, expression, folder_key
from qa.cli import main
from qa.index.build import build_index
from qa.index.embedders import HashingEmbedder
from qa.index.lexical import tokenize
from qa.index.problems import IndexIncompatible, SearchUnavailable
from qa.index.store import IndexStore
from qa.search import Searcher
from qa.settings import Settings
from qa.types import Backend, Filters

from .conftest import REPO, TINY_CORPUS, write_corpus

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

QUESTIONS = (
    "knife crime youth offending team",
    "how many foster carers were recruited",
    "adoption panel approved adopters",
    "weekly allowance and monthly training",
)


@pytest.fixture(scope="module")
def milvus_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("milvus") / "milvus.db")


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory, milvus_uri: str) -> Settings:
    """The tiny corpus with dates, an organisation and a source name that needs escaping,
    built once for Milvus."""
    folder = tmp_path_factory.mktemp("dated")
    corpus = write_corpus(
        folder / "corpus",
        {
            **TINY_CORPUS,
            "adoption.txt.meta.json": '{"date": "2021-06-30"}',
            "fostering.md.meta.json": '{"date": "2019"}',
            'quote "and" back\\slash é.txt': (
                "Sutton Council Inspection\n\nSutton Council's care leavers live in suitable"
                " accommodation and adoption support improved.\n"
            ),
        },
    )
    settings = Settings(
        corpus=corpus,
        index=folder / "index",
        chunk_size=300,
        chunk_overlap=50,
        backend=Backend.MILVUS,
        milvus_uri=milvus_uri,
    )
    build_index(settings, HashingEmbedder())
    return settings


def test_a_milvus_version_ranks_the_rows_as_the_embedded_files_do(
    dated: Settings, milvus_uri: str
) -> None:
    settings, embedder = dated, HashingEmbedder()
    manifest = IndexStore(settings.index).load().manifest
    assert manifest.backend.kind is Backend.MILVUS
    assert manifest.backend.collection in connect(milvus_uri).list_collections()

    on_milvus = Searcher.open(settings, embedder)
    embedded = Searcher.open(settings.replace(backend=Backend.EMBEDDED), embedder)
    assert on_milvus.snapshot.search.kind is Backend.MILVUS
    assert on_milvus.snapshot.path == embedded.snapshot.path
    for question in QUESTIONS:
        ours, theirs = on_milvus.search(question), embedded.search(question)
        assert [h.row for h in ours.hits] == [h.row for h in theirs.hits], question
        assert [h.dense_rank for h in ours.hits] == [h.dense_rank for h in theirs.hits]
        assert [h.lexical_rank for h in ours.hits] == [h.lexical_rank for h in theirs.hits]
        assert ours.best_similarity == pytest.approx(theirs.best_similarity, abs=1e-5)


@pytest.mark.parametrize(
    "scope",
    [
        Filters(year_from=2020),
        Filters(year_to=2020),
        Filters(year_from=2019, year_to=2019),
        Filters(sources=frozenset({'quote "and" back\\slash é.txt', "fostering.md"})),
        Filters(organisations=frozenset({"Sutton"})),
        Filters(sources=frozenset()),
        Filters(year_from=2022, year_to=2020),
    ],
)
def test_milvus_filters_let_through_the_rows_the_embedded_mask_does(
    dated: Settings, scope: Filters
) -> None:
    snapshot = load_version(dated)
    embedded = IndexStore(dated.index).load().search
    assert isinstance(embedded, EmbeddedBackend)
    vector = HashingEmbedder().encode_queries(["adoption care fostering council"])[0]
    everything = len(snapshot.chunks)
    found = set(snapshot.search.dense(vector, everything, scope)[0].tolist())
    expected = set(embedded.dense(vector, everything, scope)[0].tolist())
    assert found == expected, expression(scope)
    terms = ["adopt", "care", "foster", "council"]
    lexical = set(snapshot.search.lexical(terms, everything, scope)[0].tolist())
    assert lexical == set(embedded.lexical(terms, everything, scope)[0].tolist())


@pytest.mark.slow
def test_an_index_built_without_milvus_is_rebuilt_for_it_and_old_collections_go(
    settings: Settings, milvus_uri: str
) -> None:
    embedder = HashingEmbedder()
    build_index(settings, embedder)
    on_milvus = settings.replace(backend=Backend.MILVUS, milvus_uri=milvus_uri)
    with pytest.raises(IndexIncompatible, match="without Milvus"):
        load_version(on_milvus)
    report = build_index(on_milvus, embedder)
    assert not report.unchanged and report.embedded_chunks == 0  # vectors reused
    first = load_version(on_milvus).manifest.backend.collection
    assert build_index(on_milvus, embedder).unchanged

    ours = folder_key(settings.index)
    collections = []
    for number in range(3):
        write_corpus(settings.corpus, {f"extra-{number}.txt": f"Extra note {number} on budgets."})
        build_index(on_milvus, embedder)
        collections.append(load_version(on_milvus).manifest.backend.collection)
    live = [name for name in connect(milvus_uri).list_collections() if name.startswith(ours)]
    # The live version's collection and the previous one's (a reader may still use it).
    assert sorted(live) == sorted(collections[-2:])
    assert first not in live


def test_qa_index_and_ask_json_run_on_milvus_lite(
    cli: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("QA_BACKEND", "milvus")
    assert main(["index", *cli]) == 0
    assert (tmp_path / "index" / "milvus.db").exists()  # Milvus Lite in the index folder
    capsys.readouterr()
    assert main(["ask", "knife crime youth offending", "--json", *cli]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["passages"][0]["source"] == "reports/youth.txt"
    assert record["passages"][0]["bm25_rank"] == 1


# A build killed with SIGKILL at the Nth insert request or just before its pointer switch.
KILLED_BUILD = """
import os, signal, sys
from pathlib import Path
from pymilvus import MilvusClient
import qa.index.writer
from qa.index.build import build_index
from qa.index.embedders import HashingEmbedder
from qa.settings import Settings
from qa.types import Backend

point = sys.argv[4]
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
if point == "insert":
    MilvusClient.insert = die
elif point == "switch":
    qa.index.writer.os.replace = die
settings = Settings(corpus=Path(sys.argv[1]), index=Path(sys.argv[2]), chunk_size=300, chunk_overlap=50,
                    backend=Backend.MILVUS, milvus_uri=sys.argv[3])
build_index(settings, HashingEmbedder())
"""


@pytest.mark.slow
def test_a_build_killed_while_writing_milvus_leaves_the_previous_version_answering(
    settings: Settings, tmp_path: Path
) -> None:
    """In its own Milvus Lite file: the killed builds run in other processes."""
    uri = str(tmp_path / "own" / "milvus.db")
    settings = settings.replace(backend=Backend.MILVUS, milvus_uri=uri)
    # Run from the repository with -c, so that the child imports this checkout's qa.
    code = textwrap.dedent(KILLED_BUILD)
    run = [sys.executable, "-c", code, str(settings.corpus), str(settings.index), uri]
    first = subprocess.run([*run, "none"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    before = IndexStore(settings.index).current()
    write_corpus(settings.corpus, {"budget.txt": "The budget for knife crime prevention grew."})
    for point in ("insert", "switch"):
        killed = subprocess.run([*run, point], cwd=REPO, capture_output=True, timeout=300)
        assert killed.returncode == -9, killed.stderr

    assert IndexStore(settings.index).current() == before
    searcher = Searcher.open(settings, HashingEmbedder())
    hits = searcher.search("knife crime youth offending team").hits
    assert hits[0].chunk.source == "reports/youth.txt"
    assert "budget.txt" not in {hit.chunk.source for hit in hits}

    build_index(settings, HashingEmbedder())  # cleans the killed builds' collections
    live = load_version(settings)
    assert "budget.txt" in live.catalog
    ours = [n for n in connect(uri).list_collections() if n.startswith(folder_key(settings.index))]
    assert len(ours) == 2 and live.manifest.backend.collection in ours
    vector = HashingEmbedder().encode_queries(["knife crime budget"])[0]
    assert np.isin(live.search.dense(vector, 3, None)[0], live.rows_of["budget.txt"]).any()


@pytest.mark.slow
def test_a_milvus_lite_file_open_in_another_process_is_a_clear_error(
    settings: Settings, tmp_path: Path
) -> None:
    uri = str(tmp_path / "held" / "milvus.db")
    (tmp_path / "held").mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_FILE, uri], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(SearchUnavailable, match="one process at a time"):
            build_index(settings.replace(backend=Backend.MILVUS, milvus_uri=uri), HashingEmbedder())
    finally:
        holder.kill()
        holder.wait()


HOLD_FILE = """
import sys, time
from pymilvus import MilvusClient
client = MilvusClient(sys.argv[1])
print("open", flush=True)
time.sleep(120)
"""


def test_a_milvus_lite_server_that_does_not_come_up_is_started_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pymilvus
    from pymilvus.exceptions import MilvusException

    import qa.backends.milvus as milvus

    starts: list[str] = []

    class FirstStartFails:
        def __init__(self, uri: str) -> None:
            starts.append(uri)
            if len(starts) == 1:
                raise MilvusException(message="Fail connecting to server on unix:/tmp/x.sock")

    released: list[str] = []

    def release(uri: str) -> bool:
        released.append(uri)
        return True

    monkeypatch.setattr(pymilvus, "MilvusClient", FirstStartFails)
    monkeypatch.setattr(milvus, "_released_lite_server", release)
    monkeypatch.setattr(milvus, "LITE_RESTART_SECONDS", 0.0)
    uri = str(tmp_path / "flaky.db")
    assert isinstance(connect(uri), FirstStartFails)
    assert starts == [uri, uri] and released == [uri]

    # a server that never comes up is a clear error after LITE_STARTS starts, not a hang
    class NeverComesUp:
        def __init__(self, uri: str) -> None:
            starts.append(uri)
            raise MilvusException(message="Fail connecting to server on unix:/tmp/y.sock")

    monkeypatch.setattr(pymilvus, "MilvusClient", NeverComesUp)
    starts.clear()
    with pytest.raises(SearchUnavailable, match=r"cannot open Milvus at .*never\.db"):
        connect(str(tmp_path / "never.db"))
    assert len(starts) == milvus.LITE_STARTS


def test_milvus_gives_every_row_the_embedded_bm25_score_of_a_query(dated: Settings) -> None:
    """Terms in most rows of a tiny corpus get BM25Okapi's floored idf, terms outside the
    vocabulary nothing, and a repeated query term counts twice, on Milvus as in the files."""
    snapshot = load_version(dated)
    embedded = IndexStore(dated.index).load().search
    query = tokenize(
        "council adoption panel approved adopters; foster carers; care leavers in Sutton;"
        " adopters zeppelin"
    )
    everything = len(snapshot.chunks)
    found, scores = snapshot.search.lexical(query, everything, None)
    expected_rows, expected_scores = embedded.lexical(query, everything, None)
    assert len(found) >= 3
    assert dict(zip(found.tolist(), scores.tolist(), strict=True)) == pytest.approx(
        dict(zip(expected_rows.tolist(), expected_scores.tolist(), strict=True)), rel=1e-5
    )
