"""Faults around the index (issue 17): files that change while they are read, damaged
pointers, manifests, files and encoders, read-only folders and full disks.

Each fault must end in a right answer or in one clear sentence (an IndexProblem, or a
non-zero exit of `qa`), never in a traceback or a wrong answer; `qa index --rebuild`
must repair whatever a rebuild can. All tests use the HashingEmbedder.
"""

from __future__ import annotations

import errno
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import qa.index.build
import qa.index.integrity
import qa.index.writer
from qa.cli import main
from qa.corpus import CorpusFile
from qa.corpus.worker import DocumentReader
from qa.index import lifecycle
from qa.index.build import build_index
from qa.index.embedders import (
    HashingEmbedder,
    SentenceTransformerEmbedder,
    load_embedder,
    load_query_embedder,
    query_encoder_path,
)
from qa.index.problems import IndexCorrupt, IndexProblem
from qa.index.store import IndexStore
from qa.search import Searcher
from qa.settings import BUNDLED_MODEL, Settings

from .conftest import SHIPPED_CORPUS, resave_with_encoder

REAL_QUESTIONS = [
    "How did the judgement for help and protection change?",
    "Which recommendations from the 2020 inspection remained?",
    "What did Ofsted say about leadership?",
]
FIRST_HALF = "Growing report\n\n1.1 The first half is about lighthouse keepers.\n"
SECOND_HALF = "\n1.2 The second half is about orchard growers.\n"


def indexed_text(settings: Settings, source: str) -> str:
    return Searcher.open(settings, HashingEmbedder()).snapshot.documents[source].text


# --- files that change while the build reads them --------------------------------------------


def test_a_file_completed_just_after_it_was_read_is_read_again_whole(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy still in progress: the build parses the first half, then the copy completes.
    The hash after the read differs from the one before, so the file is read again."""
    path = settings.corpus / "growing.txt"
    path.write_text(FIRST_HALF, encoding="utf-8")
    read = DocumentReader.read
    completed: list[str] = []

    def read_then_complete(reader: DocumentReader, file: CorpusFile) -> object:
        document = read(reader, file)
        if file.source == "growing.txt" and not completed:
            with path.open("a", encoding="utf-8") as handle:
                handle.write(SECOND_HALF)
            completed.append(file.source)
        return document

    monkeypatch.setattr(DocumentReader, "read", read_then_complete)
    report = build_index(settings, HashingEmbedder())
    assert completed and not report.errors
    assert "orchard growers" in indexed_text(settings, "growing.txt")
    monkeypatch.undo()
    assert build_index(settings, HashingEmbedder()).unchanged


def test_a_file_rewritten_while_it_is_read_and_left_as_it_was_is_read_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case that stayed half-indexed: the file is whole when scanned, rewritten in place
    (truncated, half written) while the build parses it, then completed with the same bytes
    as before. Its hash after the read equals the one before; only its state (size and
    change time) shows that it was written, and the build reads it again."""
    path = settings.corpus / "growing.txt"
    path.write_text(FIRST_HALF + SECOND_HALF, encoding="utf-8")
    time.sleep(0.05)  # the rewrite lands in a later clock tick than this write, as in life
    read = DocumentReader.read
    rewritten: list[str] = []

    def read_while_rewritten(reader: DocumentReader, file: CorpusFile) -> object:
        if file.source != "growing.txt" or rewritten:
            return read(reader, file)
        path.write_text(FIRST_HALF, encoding="utf-8")
        document = read(reader, file)
        path.write_text(FIRST_HALF + SECOND_HALF, encoding="utf-8")
        rewritten.append(file.source)
        return document

    monkeypatch.setattr(DocumentReader, "read", read_while_rewritten)
    report = build_index(settings, HashingEmbedder())
    assert rewritten and not report.errors
    assert "orchard growers" in indexed_text(settings, "growing.txt")


def test_a_file_that_keeps_changing_is_reported_and_read_at_the_next_build(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = settings.corpus / "growing.txt"
    path.write_text(FIRST_HALF, encoding="utf-8")
    read = DocumentReader.read

    def read_and_append(reader: DocumentReader, file: CorpusFile) -> object:
        document = read(reader, file)
        if file.source == "growing.txt":
            with path.open("a", encoding="utf-8") as handle:
                handle.write(SECOND_HALF)
        return document

    monkeypatch.setattr(DocumentReader, "read", read_and_append)
    report = build_index(settings, HashingEmbedder())
    reasons = {error.source: error.reason for error in report.errors}
    assert "changed while it was being read (3 tries)" in reasons["growing.txt"]
    searcher = Searcher.open(settings, HashingEmbedder())
    assert "growing.txt" not in searcher.snapshot.catalog
    # so `qa ask` updates first
    assert lifecycle.changes(settings, searcher.snapshot).changed == ("growing.txt",)

    monkeypatch.undo()
    report = build_index(settings, HashingEmbedder())
    assert report.changes.changed == ("growing.txt",) and not report.errors
    assert indexed_text(settings, "growing.txt").count("orchard growers") == 3
    assert build_index(settings, HashingEmbedder()).unchanged


# --- the query encoder -----------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["flip", "truncate", "remove"])
def test_a_damaged_query_encoder_is_refused_at_every_load_and_by_verify(
    settings: Settings, damage: str
) -> None:
    build_index(settings, HashingEmbedder())
    encoder = settings.index / "encoders" / "0123456789abcdef.onnx"
    encoder.parent.mkdir()
    encoder.write_bytes(bytes(range(256)) * 4096)  # 1 MB standing in for the ONNX export
    resave_with_encoder(settings, encoder)
    store = IndexStore(settings.index)
    assert store.load().manifest.encoder is not None
    data = encoder.read_bytes()
    if damage == "flip":  # one bit in the middle: a sampled check would miss it
        middle = len(data) // 2
        encoder.write_bytes(data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :])
        expected = "was altered"
    elif damage == "truncate":
        encoder.write_bytes(data[: len(data) // 2])
        expected = "is missing or truncated"
    else:
        encoder.unlink()
        expected = "is missing or truncated"
    for full_check in (False, True):
        with pytest.raises(IndexCorrupt, match=expected) as error:
            store.load(full_check=full_check)
        assert "encoders/0123456789abcdef.onnx" in str(error.value)
        assert str(error.value).endswith("run `qa index --rebuild`")


@pytest.mark.slow
def test_a_damaged_export_of_the_real_model_is_refused_then_exported_again(
    tmp_path: Path,
) -> None:
    """One flipped byte in the exported encoder changed 13 of 20 dense searches silently and
    `--rebuild` reused it; a cut one made onnxruntime raise InvalidProtobuf at every question."""
    settings = Settings(corpus=SHIPPED_CORPUS, index=tmp_path / "index", model=BUNDLED_MODEL)
    model = load_embedder(BUNDLED_MODEL, settings.batch_size)
    build_index(settings, model)
    encoder = query_encoder_path(settings.index, BUNDLED_MODEL)
    intact = encoder.read_bytes()

    def dense_answers() -> list[list[tuple[str, int]]]:
        searcher = Searcher.open(settings)
        return [
            [(h.chunk.source, h.chunk.start) for h in searcher.search(q, mode="dense").hits]
            for q in REAL_QUESTIONS
        ]

    before = dense_answers()
    middle = len(intact) // 2
    encoder.write_bytes(intact[:middle] + bytes([intact[middle] ^ 1]) + intact[middle + 1 :])
    with pytest.raises(IndexCorrupt, match="onnx was altered"):
        Searcher.open(settings)
    build_index(settings, model, rebuild=True)
    assert encoder.read_bytes() == intact  # exported again, not reused
    assert dense_answers() == before

    encoder.write_bytes(intact[: len(intact) // 3])
    assert isinstance(
        load_query_embedder(BUNDLED_MODEL, settings.index), SentenceTransformerEmbedder
    )  # passed over with a warning, not an InvalidProtobuf traceback
    with pytest.raises(IndexCorrupt, match="onnx is missing or truncated"):
        Searcher.open(settings)
    assert build_index(settings, model).unchanged  # the export is made again before the check
    assert encoder.read_bytes() == intact
    assert dense_answers() == before


# --- a damaged pointer or manifest -------------------------------------------------------------


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _link_to_dev_zero(path: Path) -> None:
    path.unlink()
    path.symlink_to("/dev/zero")


def _non_utf8(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:5] + b"\xff" + data[6:])


def _names_a_missing_version(path: Path) -> None:
    version, rest = path.read_text().split(" ", 1)
    other = version[:-1] + ("1" if version[-1] == "0" else "0")
    path.write_text(f"{other} {rest}")


POINTER_DAMAGE = {
    "a named pipe": (_fifo, "cannot be read (a named pipe (FIFO), not a regular file)"),
    "a link to /dev/zero": (_link_to_dev_zero, "a character device, not a regular file"),
    "a non-UTF-8 byte": (_non_utf8, "is damaged"),
    "empty": (lambda path: path.write_bytes(b""), "is damaged"),
    "one megabyte": (lambda path: path.write_bytes(b"v" * 2**20), "over the limit of 256 bytes"),
    "a missing version": (_names_a_missing_version, "which is not there"),
    "no checksum": (
        lambda path: path.write_text(path.read_text().split()[0] + "\n"),
        "has lost the checksum",
    ),
}
MANIFEST_DAMAGE = {
    "a named pipe": (_fifo, "cannot be read (a named pipe (FIFO), not a regular file)"),
    "a link to /dev/zero": (_link_to_dev_zero, "a character device, not a regular file"),
    "a folder": (lambda path: (path.unlink(), path.mkdir()), "a folder, not a regular file"),
    "missing": (lambda path: path.unlink(), "cannot be read (No such file or directory)"),
    "one byte longer": (lambda path: path.write_bytes(path.read_bytes() + b" "), "checksum"),
}


def load_in_time(store: IndexStore, seconds: float = 30) -> BaseException | None:
    """What loading raises, from a thread given ``seconds``: a read that blocks on a pipe
    fails the test instead of hanging the run."""
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            store.load()
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"loading did not end within {seconds} s"
    return outcome[0]


def ask(cli: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["ask", "--json", "adoption panel", *cli])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("target", "damage"),
    [*(("CURRENT", name) for name in POINTER_DAMAGE), *(("manifest", n) for n in MANIFEST_DAMAGE)],
)
def test_a_damaged_pointer_or_manifest_is_one_sentence_and_a_rebuild_repairs_it(
    cli: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, damage: str
) -> None:
    assert main(["index", *cli]) == 0
    capsys.readouterr()
    index = tmp_path / "index"
    code, intact, _ = ask(cli, capsys)
    assert code == 0
    store = IndexStore(index)
    damage_of, expected = (POINTER_DAMAGE if target == "CURRENT" else MANIFEST_DAMAGE)[damage]
    path = index / "CURRENT" if target == "CURRENT" else live_folder(index) / "manifest.json"
    damage_of(path)

    problem = load_in_time(store)
    assert isinstance(problem, IndexProblem), repr(problem)
    assert expected in str(problem) and str(problem).endswith("run `qa index --rebuild`")
    assert main(["index", "--verify", *cli]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qa: ") and err.count("\n") == 1 and expected in err

    code, answer, err = ask(cli, capsys)  # qa ask rebuilds first, then answers as before
    assert code == 0 and answer == intact
    assert "building the index" in err and "Traceback" not in err
    assert main(["index", "--verify", *cli]) == 0
    damage_of(index / "CURRENT" if target == "CURRENT" else live_folder(index) / "manifest.json")
    assert main(["index", "--rebuild", *cli]) == 0
    assert main(["index", "--verify", *cli]) == 0
    capsys.readouterr()
    assert ask(cli, capsys)[1] == intact


def live_folder(index: Path) -> Path:
    live = IndexStore(index).current()
    assert live is not None
    return live


# --- a folder that cannot be written, a disk that fills up -------------------------------------


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mounts a tmpfs of the given size at ``tmp_path/index`` (where the ``cli`` fixture's
    index is); skips the test where mounting is not allowed (not root, or a container)."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        folder = tmp_path / "index"
        folder.mkdir(exist_ok=True)
        try:
            result = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                capture_output=True,
                text=True,
            )
        except FileNotFoundError:
            pytest.skip("no mount command")
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def make_read_only(index: Path, mounted: bool) -> None:
    """Root ignores permission bits, so as root the index is a tmpfs remounted read-only."""
    if mounted:
        subprocess.run(["mount", "-o", "remount,ro", str(index)], check=True)
    else:
        for folder in [index, *(p for p in index.rglob("*") if p.is_dir())]:
            folder.chmod(0o555)


def test_a_read_only_index_serves_and_each_update_says_why_it_cannot(
    cli: list[str],
    tmp_path: Path,
    tiny_corpus: Path,
    capsys: pytest.CaptureFixture[str],
    tmpfs: Callable[[str], Path],
) -> None:
    """Every `qa index` on a read-only folder ended in an EROFS traceback."""
    root = os.geteuid() == 0
    index = tmpfs("16m") if root else tmp_path / "index"
    assert main(["index", *cli]) == 0
    capsys.readouterr()
    intact = ask(cli, capsys)[1]
    make_read_only(index, mounted=root)

    assert main(["index", *cli]) == 0  # nothing to write: the index is up to date
    assert "Index is up to date" in capsys.readouterr().out
    assert ask(cli, capsys)[1] == intact
    assert main(["index", "--verify", *cli]) == 0

    (tiny_corpus / "respite.txt").write_text("Respite care review.\n", encoding="utf-8")
    for command in (["index"], ["index", "--rebuild"], ["ask", "respite care"]):
        capsys.readouterr()
        assert main([*command, *cli]) == 2
        err = capsys.readouterr().err.splitlines()
        assert err[-1].startswith(f"qa: the index folder {index} cannot be written (")
        assert err[-1].endswith("make it writable, or choose another folder with --index")
        assert not any("Traceback" in line for line in err)
    assert main(["ask", "--no-update", "--json", "adoption panel", *cli]) == 2


WRITES = {
    "write_tables": (qa.index.writer, "write_tables"),
    "np.save": (qa.index.writer.np, "save"),
    "faiss write_index": (qa.index.writer.VectorIndex, "save"),
    "write_text": (Path, "write_text"),
    "write_bytes": (Path, "write_bytes"),
    "fsync": (os, "fsync"),
    "rename": (Path, "rename"),
    "pointer switch": (os, "replace"),
}


@pytest.mark.parametrize("write", WRITES)
def test_a_disk_that_fills_during_a_save_leaves_the_previous_index_serving(
    cli: list[str],
    tmp_path: Path,
    tiny_corpus: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    write: str,
) -> None:
    """ENOSPC from each kind of write a save makes (before: a raw traceback, 6 of 6), and
    the same from faiss, which reports it in words."""
    assert main(["index", *cli]) == 0
    capsys.readouterr()
    index = tmp_path / "index"
    intact, version = ask(cli, capsys)[1], live_folder(index)
    (tiny_corpus / "respite.txt").write_text("Respite care review.\n", encoding="utf-8")

    owner, name = WRITES[write]
    original = getattr(owner, name)
    saving = qa.index.writer.IndexWriter._save
    failed: list[str] = []

    def full(*args: Any, **kwargs: Any) -> Any:
        if not failed and in_save:
            failed.append(write)
            if write == "faiss write_index":  # faiss says it in words, in a RuntimeError
                raise RuntimeError("write error in vectors.faiss: 3 != 7 (No space left on device)")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return original(*args, **kwargs)

    in_save = False

    def save(*args: Any, **kwargs: Any) -> Any:
        nonlocal in_save
        in_save = True
        try:
            return saving(*args, **kwargs)
        finally:
            in_save = False

    with monkeypatch.context() as patched:
        patched.setattr(owner, name, full)
        patched.setattr(qa.index.writer.IndexWriter, "_save", save)
        assert main(["index", *cli]) == 2
    assert failed == [write]
    err = capsys.readouterr().err.splitlines()  # the embedding progress bar, then the error
    assert err[-1] == (
        f"qa: the index could not be saved because the disk holding {index} is full; the"
        " previous index is unchanged: free some space and run `qa index` again"
    )
    assert live_folder(index) == version
    left = sorted(p.name for p in index.iterdir() if p.name.startswith(("v-", ".tmp", "CUR")))
    assert left == ["CURRENT", version.name]
    (tiny_corpus / "respite.txt").unlink()
    assert ask(cli, capsys)[1] == intact


def test_a_real_full_disk_leaves_the_previous_index_serving(
    cli: list[str],
    tiny_corpus: Path,
    capsys: pytest.CaptureFixture[str],
    tmpfs: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a 1 MB tmpfs, a build whose files do not fit fails in one sentence and removes
    what it wrote; the previous version still answers, and once the space is there again the
    next build finishes."""
    monkeypatch.setenv("QA_MAX_DOCUMENT_CHUNKS", "100000")  # big.txt makes 6,667
    index = tmpfs("1m")
    assert main(["index", *cli]) == 0
    capsys.readouterr()
    intact, version = ask(cli, capsys)[1], live_folder(index)
    big = tiny_corpus / "big.txt"
    big.write_text("Respite care review, paragraph after paragraph.\n\n" * 40_000)
    assert main(["index", *cli]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("qa: the index could not be saved because the disk holding")
    assert live_folder(index) == version and not list(index.glob(".tmp-*"))
    big.unlink()
    assert ask(cli, capsys)[1] == intact
    assert main(["index", *cli]) == 0


# --- damage that a load by samples does not see ------------------------------------------------


def test_damage_between_the_samples_of_a_load_is_refused_when_a_search_meets_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large files are checked by samples at load. A posting damaged between them made the
    BM25 product write outside its array (a segmentation fault that would take the app down
    for everyone); a text byte, a UnicodeDecodeError. Both are now IndexCorrupt."""
    monkeypatch.setattr(qa.index.integrity, "FULL_HASH_BYTES", 0)
    monkeypatch.setattr(qa.index.integrity, "SAMPLE_BLOCKS", 2)
    monkeypatch.setattr(qa.index.integrity, "SAMPLE_BLOCK_BYTES", 8)
    build_index(settings, HashingEmbedder())
    live = IndexStore(settings.index).current()
    assert live is not None
    searcher = Searcher.open(settings, HashingEmbedder())
    every_term = " ".join(searcher.snapshot.bm25.vocabulary)

    postings = np.load(live / "bm25_indices.npy")
    postings[len(postings) // 2] = 10**6
    np.save(live / "bm25_indices.npy", postings)
    with pytest.raises(IndexCorrupt, match="BM25 index is damaged"):
        Searcher.open(settings, HashingEmbedder()).search(every_term, mode="lexical")

    texts = live / "texts.txt"
    data = texts.read_bytes()
    texts.write_bytes(data[: len(data) // 2] + b"\xff" + data[len(data) // 2 + 1 :])
    snapshot = IndexStore(settings.index).load()
    with pytest.raises(IndexCorrupt, match=r"texts\.txt is damaged"):
        [chunk.text for chunk in snapshot.chunks]
    with pytest.raises(IndexCorrupt, match=r"(bm25_indices\.npy|texts\.txt) was altered"):
        IndexStore(settings.index).load(full_check=True)
