"""Crash safety of index builds and serving answers while the index is rebuilt (issue 8).

Crash safety: a build is killed with SIGKILL at many moments, at every stage (parse, chunk,
embed, BM25, writing files, fsync, rename, pointer switch, cleanup); after each kill the live
index must load and answer exactly as one complete version did, and the next build must clean
the leftovers and finish. The builds run in children forked from a small server process that
imported qa once, so a kill costs a fork, not a Python start. A child kills itself at the Nth
call of a chosen function (before or after it runs), or from a timer thread after a delay spread
over a calibrated build, which can land in the middle of a write.

Run longer with ``QA_KILLS=200 pytest tests/test_reliability.py -s`` (``QA_KILL_SEED`` picks
another plan).

All tests use :class:`qa.index.embedders.HashingEmbedder`, never the real model.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from qa.index.build import build_index, build_spec
from qa.index.embedders import HashingEmbedder
from qa.index.store import CURRENT, IndexStore
from qa.search import Searcher
from qa.settings import Settings

REPO = Path(__file__).resolve().parents[1]
KILLS = int(os.environ.get("QA_KILLS", "24"))
KILL_SEED = int(os.environ.get("QA_KILL_SEED", "8"))

# --- a generated corpus ----------------------------------------------------------------------

_WORDS = re.findall(
    r"\w+",
    "adoption fostering carers allowance council panel review inspection children services"
    " budget housing youth offending placement respite school transport safeguarding audit"
    " recommendation improvement training recruitment assessment leaving care mental health",
)
_TOPICS = ("lighthouse", "orchard", "glacier", "harbour", "meadow", "quarry", "vineyard", "canyon")


def _paragraph(rng: random.Random, topic: str, words: int = 40) -> str:
    body = " ".join(rng.choice(_WORDS) for _ in range(words))
    return f"The {topic} report notes that {body}."


def generated_corpus(seed: int, count: int = 30, marker: str = "") -> dict[str, str]:
    """``count`` small documents (txt, md, html), each about one topic, several paragraphs."""
    rng = random.Random(seed)
    files: dict[str, str] = {}
    for number in range(count):
        topic = _TOPICS[number % len(_TOPICS)]
        paragraphs = [_paragraph(rng, topic) + f" {marker}" for _ in range(rng.randint(2, 5))]
        title = f"{topic.title()} review number {number}"
        if number % 10 == 3:
            body = "".join(f"<p>{p}</p>" for p in paragraphs)
            name = f"docs/{topic}-{number:02d}.html"
            files[name] = f"<html><head><title>{title}</title></head><body>{body}</body></html>"
        elif number % 10 == 7:
            files[f"{topic}-{number:02d}.md"] = f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n"
        else:
            files[f"{topic}-{number:02d}.txt"] = f"{title}\n\n" + "\n\n".join(paragraphs) + "\n"
    return files


def write_files(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def corpus_pair(tmp_path: Path) -> tuple[Path, Path]:
    """Corpus A and corpus B = A with 5 documents changed, 3 added and 2 removed."""
    first = generated_corpus(1)
    second = dict(first)
    names = sorted(first)
    for name in names[:5]:
        second[name] = first[name].replace("report notes", "zeppelin report notes")
    for number in range(3):
        second[f"added-{number}.txt"] = f"Zeppelin hangar survey {number}\n\n" + _paragraph(
            random.Random(number), "zeppelin"
        )
    for name in names[-2:]:
        del second[name]
    return write_files(tmp_path / "corpus-a", first), write_files(tmp_path / "corpus-b", second)


QUERIES = ("zeppelin hangar", "lighthouse adoption panel", "glacier budget audit", "respite care")
Ranking = list[tuple[str, int, int]]


def rankings(settings: Settings) -> dict[str, Ranking]:
    """Top passages (source, start, end) for each query in each mode: a version's fingerprint."""
    searcher = Searcher.open(settings, HashingEmbedder())
    return {
        f"{mode}:{query}": [
            (h.chunk.source, h.chunk.start, h.chunk.end)
            for h in searcher.search(query, k=5, mode=mode).hits
        ]
        for query in QUERIES
        for mode in ("hybrid", "lexical", "dense")
    }


def index_settings(corpus: Path, index: Path) -> Settings:
    return Settings(corpus=corpus, index=index, chunk_size=300, chunk_overlap=50, batch_size=4)


# --- the build server ------------------------------------------------------------------------

# Reads one JSON request a line, forks a child that runs build_index with the requested kill
# point patched in, and answers how the child ended. Function points count calls in the
# child; "before" kills the child when the Nth call starts, "after" when it has returned.
SERVER = textwrap.dedent(
    r"""
    import functools, json, os, shutil, signal, sys, threading, time
    from pathlib import Path
    import numpy as np
    import qa.corpus.worker, qa.index.build, qa.index.intake, qa.index.writer
    from qa.index.embedders import HashingEmbedder
    from qa.index.build import build_index
    from qa.settings import Settings

    POINTS = {
        "read": (qa.corpus.worker.DocumentReader, "read"),
        "chunk": (qa.index.intake, "chunk_document"),
        "embed": (HashingEmbedder, "encode"),
        "tokenize": (qa.index.build, "tokenize"),
        "bm25": (qa.index.build.BM25Index, "build"),
        "write_tables": (qa.index.writer, "write_tables"),
        "np.save": (np, "save"),
        "faiss.write": (qa.index.writer.VectorIndex, "save"),
        "write_text": (Path, "write_text"),
        "sha256": (qa.index.writer, "file_record"),
        "fsync": (os, "fsync"),
        "fsync_folder": (qa.index.writer, "_fsync_folder"),
        "rename": (Path, "rename"),
        "os.replace": (os, "replace"),
        "rmtree": (shutil, "rmtree"),
    }

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def patch(request, counts):
        kill = request.get("kill") or {}
        for name, (owner, attribute) in POINTS.items():
            original = owner.__dict__[attribute]
            is_classmethod = isinstance(original, classmethod)
            function = original.__func__ if is_classmethod else original

            def wrapper(*args, _name=name, _function=function, **kwargs):
                counts[_name] = counts.get(_name, 0) + 1
                hit = kill.get("point") == _name and counts[_name] == kill.get("nth")
                if hit and kill["when"] == "before":
                    die()
                result = _function(*args, **kwargs)
                if hit:
                    die()
                return result

            functools.update_wrapper(wrapper, function)
            setattr(owner, attribute, classmethod(wrapper) if is_classmethod else wrapper)
        if "delay" in kill:
            timer = threading.Timer(kill["delay"], die)
            timer.daemon = True
            timer.start()

    def child(request):
        counts = {}
        patch(request, counts)
        settings = Settings(corpus=Path(request["corpus"]), index=Path(request["index"]),
                            chunk_size=300, chunk_overlap=50, batch_size=4)
        started = time.perf_counter()
        build_index(settings, HashingEmbedder(), rebuild=request["rebuild"])
        counts["seconds"] = time.perf_counter() - started
        Path(request["report"]).write_text(json.dumps(counts))

    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                child(request)
            except BaseException as error:
                print(f"build failed: {error!r}", file=sys.stderr, flush=True)
                code = 3
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        answer = {"signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                  "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None}
        print(json.dumps(answer), flush=True)
    """
)

STAGES = {
    "read": "parse",
    "chunk": "chunk",
    "embed": "embedding",
    "tokenize": "BM25",
    "bm25": "BM25",
    "write_tables": "write files",
    "np.save": "write files",
    "faiss.write": "write files",
    "write_text": "write files",
    "sha256": "write files",
    "fsync": "fsync",
    "fsync_folder": "fsync",
    "rename": "rename",
    "os.replace": "pointer switch",
    "rmtree": "cleanup",
}


class BuildServer:
    """A Python process that forks one build child per request (see SERVER)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=(folder / "server.log").open("w"),
            text=True,
            cwd=REPO,
        )

    def build(
        self, settings: Settings, rebuild: bool, kill: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Run one build: how the child ended and, if it finished, its call counts."""
        report = self.folder / "counts.json"
        report.unlink(missing_ok=True)
        request = {
            "corpus": str(settings.corpus),
            "index": str(settings.index),
            "rebuild": rebuild,
            "kill": kill,
            "report": str(report),
        }
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self.process.stdout.readline())
        answer["counts"] = json.loads(report.read_text()) if report.is_file() else None
        return answer

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def kill_plan(counts: dict[bool, dict[str, Any]], kills: int, seed: int) -> list[dict[str, Any]]:
    """``kills`` kill points: three quarters at function calls, round-robin over every point so
    each stage is hit, the rest at delays spread evenly over a build; rebuild and incremental
    builds alternate."""
    rng = random.Random(seed)
    timed = kills // 4
    points = sorted(name for name in STAGES if counts[False].get(name) and counts[True].get(name))
    rng.shuffle(points)
    plan: list[dict[str, Any]] = []
    for number in range(kills - timed):
        rebuild = number % 2 == 1
        point = points[number % len(points)]
        plan.append(
            {
                "rebuild": rebuild,
                "kill": {
                    "point": point,
                    "nth": rng.randint(1, counts[rebuild][point]),
                    "when": rng.choice(("before", "after")),
                },
            }
        )
    for number in range(timed):
        rebuild = number % 2 == 1
        plan.append(
            {
                "rebuild": rebuild,
                "kill": {"delay": counts[rebuild]["seconds"] * (number + 0.5) / timed},
            }
        )
    return plan


def leftovers(index: Path) -> list[str]:
    """What an interrupted build may leave: temporary folders, a pointer draft, surplus versions."""
    names = sorted(p.name for p in index.iterdir())
    temporary = [n for n in names if n.startswith(".tmp-") or n == f"{CURRENT}.tmp"]
    versions = [n for n in names if n.startswith("v-")]
    return temporary + (versions if len(versions) > 2 else [])


def test_killed_builds_leave_the_previous_index_usable_and_the_next_build_recovers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus_a, corpus_b = corpus_pair(tmp_path)
    expected: dict[Path, dict[str, Ranking]] = {}
    for corpus in (corpus_a, corpus_b):
        reference = index_settings(corpus, tmp_path / f"reference-{corpus.name}")
        build_index(reference, HashingEmbedder())
        expected[corpus] = rankings(reference)
    assert expected[corpus_a] != expected[corpus_b]

    index = tmp_path / "index"
    server = BuildServer(tmp_path)
    figures: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    try:
        # Calibrate: the calls of every point in each kind of build, in both directions, from
        # the steady state of a live version and one previous version.
        counts: dict[bool, dict[str, Any]] = {}
        for corpus in (corpus_a, corpus_b, corpus_a):
            build_index(index_settings(corpus, index), HashingEmbedder())
        for rebuild in (True, False):
            for corpus in (corpus_b, corpus_a):
                answer = server.build(index_settings(corpus, index), rebuild, None)
                assert answer["code"] == 0, answer
                found = answer["counts"]
                known = counts.setdefault(rebuild, found)
                counts[rebuild] = {
                    name: min(known.get(name, 0), found.get(name, 0)) for name in found
                }
        live_corpus, other = corpus_a, corpus_b
        assert rankings(index_settings(live_corpus, index)) == expected[live_corpus]

        for step in kill_plan(counts, KILLS, KILL_SEED):
            kill = step["kill"]
            before = IndexStore(index).current()
            answer = server.build(index_settings(other, index), step["rebuild"], kill)
            where = kill.get("point") or f"after {kill['delay']:.3f} s"
            if answer["signal"] is None:  # a timer that fired after the build had finished
                assert answer["code"] == 0 and "delay" in kill, (where, answer)
                figures["finished before the timed kill"] += 1
            else:
                assert answer["signal"] == 9, (where, answer)
                figures["killed"] += 1
                stages[STAGES.get(kill.get("point", ""), "timed")] += 1

            # The live index loads, checked file by file, and answers exactly as one complete
            # version: the previous one, or the new one if the kill came after the pointer switch.
            store = IndexStore(index)
            store.load(build_spec(index_settings(other, index), HashingEmbedder()))
            switched = store.current() != before
            settings = index_settings(other if switched else live_corpus, index)
            assert rankings(settings) == expected[settings.corpus], (where, switched)
            figures["survived (a complete version live)"] += 1
            figures["new version already live" if switched else "previous version live"] += 1

            # The next build cleans what the killed one left and makes the new corpus live.
            build_index(index_settings(other, index), HashingEmbedder())
            assert leftovers(index) == [], where
            assert rankings(index_settings(other, index)) == expected[other], where
            searcher = Searcher.open(index_settings(other, index), HashingEmbedder())
            zeppelins = searcher.search("zeppelin", k=20, mode="lexical").hits
            assert bool(zeppelins) == (other == corpus_b), where  # B's new words, and only B's
            figures["recovered"] += 1
            live_corpus, other = other, live_corpus
    finally:
        server.close()
    with capsys.disabled():
        print(f"\ncrash safety (QA_KILLS={KILLS}, seed {KILL_SEED}): {dict(figures)}")
        print(f"kills by stage: {dict(sorted(stages.items()))}")
    assert figures["killed"] >= KILLS * 3 // 4
    assert figures["survived (a complete version live)"] == KILLS
    assert figures["recovered"] == KILLS
    if KILLS >= 16:
        assert set(stages) >= {
            "parse",
            "chunk",
            "embedding",
            "BM25",
            "write files",
            "fsync",
            "rename",
            "pointer switch",
            "cleanup",
        }


# --- serving while the index is rebuilt ------------------------------------------------------

_EDITION = re.compile(r"edition(\d+)")


def edition_corpus(root: Path, edition: int) -> None:
    """12 one-paragraph documents whose every passage names the edition; one document is
    replaced by another from edition to edition, so sources change too."""
    for old in root.glob("*.txt"):
        old.unlink()
    rng = random.Random(edition)
    for number in range(12):
        if number == 11:
            number += edition
        topic = _TOPICS[number % len(_TOPICS)]
        text = _paragraph(rng, topic, words=20)
        write_files(
            root, {f"{topic}-{number:02d}.txt": f"edition{edition} {text} edition{edition}\n"}
        )


def editions(answer_hits: Any) -> set[int]:
    return {int(m) for hit in answer_hits for m in _EDITION.findall(hit.chunk.text)}


BUILD_IN_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from qa.index.embedders import HashingEmbedder
    from qa.index.build import build_index
    from qa.settings import Settings
    settings = Settings(corpus=Path(sys.argv[1]), index=Path(sys.argv[2]), chunk_size=300,
                        chunk_overlap=50, batch_size=4)
    print(build_index(settings, HashingEmbedder()).summary())
    """
)


def test_searches_during_rebuilds_come_from_one_version_and_refresh_switches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    edition_corpus(corpus, 0)
    settings = index_settings(corpus, tmp_path / "index")
    build_index(settings, HashingEmbedder())
    shared = Searcher.open(
        settings, HashingEmbedder()
    )  # refreshed before each question, as the app does
    pinned = Searcher.open(settings, HashingEmbedder())  # never refreshed: keeps edition 0
    first_version = pinned.snapshot.path

    stop = threading.Event()
    lock = threading.Lock()
    served: Counter[str] = Counter()
    errors: list[str] = []
    seen: dict[str, int] = {}
    questions = ["lighthouse budget", "edition review", "", "orchard carers training", "glacier"]

    def read(name: str, searcher: Searcher, refresh: bool) -> None:
        latest = 0
        number = 0
        while not stop.is_set():
            number += 1
            try:
                if refresh:
                    searcher.refresh()
                mode = ("hybrid", "lexical", "dense")[number % 3]
                answer = searcher.search(questions[number % len(questions)], k=8, mode=mode)
                found = editions(answer.hits)
                if len(found) > 1:
                    errors.append(f"{name}: one answer mixes editions {sorted(found)}")
                elif found and min(found) < latest:
                    errors.append(f"{name}: went back from edition {latest} to {min(found)}")
                elif answer.hits and not found:
                    errors.append(f"{name}: a passage without its edition")
                latest = max(found, default=latest)
            except Exception as error:  # counted and reported: the test fails on any
                errors.append(f"{name}: {error!r}")
            with lock:
                served[name] += 1
                served["during rebuilds" if seen.get("building") else "between rebuilds"] += 1
                seen[name] = latest

    readers = [
        threading.Thread(target=read, args=(f"shared-{n}", shared, True), daemon=True)
        for n in (1, 2)
    ] + [threading.Thread(target=read, args=("pinned", pinned, False), daemon=True)]
    for reader in readers:
        reader.start()
    switch_seconds = []
    try:
        for edition in (1, 2, 3, 4):
            edition_corpus(corpus, edition)
            seen["building"] = 1
            if edition < 4:
                build_index(settings, HashingEmbedder())
            else:  # the last rebuild by another process, as `qa index` beside the running app
                subprocess.run(
                    [sys.executable, "-c", BUILD_IN_CHILD, str(corpus), str(settings.index)],
                    check=True,
                    cwd=REPO,
                    capture_output=True,
                    timeout=120,
                )
            seen["building"] = 0
            built = time.perf_counter()
            # The shared searcher switches to the new version without a restart.
            while min(seen.get("shared-1", 0), seen.get("shared-2", 0)) < edition:
                assert time.perf_counter() - built < 20, (
                    f"readers never saw edition {edition}: {seen}"
                )
                time.sleep(0.01)
            switch_seconds.append(time.perf_counter() - built)
        assert not first_version.exists()  # cleaned away while the pinned reader still uses it
        time.sleep(0.2)
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=30)
    # The pinned reader kept answering from edition 0 after its version's folder was deleted.
    assert editions(pinned.search("lighthouse budget edition review", k=8).hits) == {0}
    assert pinned.snapshot.path == first_version
    assert shared.snapshot.path == IndexStore(settings.index).current()
    with capsys.disabled():
        print(
            f"\nserving while rebuilding: {dict(served)}; errors: {len(errors)};"
            f" switch to a new version after {max(switch_seconds):.3f} s at most"
        )
    assert errors == []
    assert served["during rebuilds"] > 0 and served["pinned"] > 0


# --- several writers ---------------------------------------------------------------------------

BUILDS_IN_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from qa.index.embedders import HashingEmbedder
    from qa.index.build import build_index
    from qa.settings import Settings
    settings = Settings(corpus=Path(sys.argv[1]), index=Path(sys.argv[2]), chunk_size=300,
                        chunk_overlap=50, batch_size=4)
    for _ in range(int(sys.argv[3])):
        build_index(settings, HashingEmbedder(), rebuild=True)
    """
)


def test_two_processes_building_one_index_at_once_both_finish(tmp_path: Path) -> None:
    """`qa index` run while the app rebuilds: before the writer lock, one build deleted the
    other's temporary folder (FileNotFoundError in about one build of five)."""
    corpus_a, corpus_b = corpus_pair(tmp_path)
    index = tmp_path / "index"
    builders = [
        subprocess.Popen(
            [sys.executable, "-c", BUILDS_IN_CHILD, str(corpus), str(index), "6"],
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        for corpus in (corpus_a, corpus_b)
    ]
    for builder in builders:
        _, errors = builder.communicate(timeout=120)
        assert builder.returncode == 0, errors
    assert leftovers(index) == []
    live = IndexStore(index).load().documents
    assert set(live) in (
        {p.relative_to(c).as_posix() for p in c.rglob("*.*")} for c in (corpus_a, corpus_b)
    )


def test_clean_keeps_the_version_that_was_live_before_the_last_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that read CURRENT just before a switch is still loading that version, so it
    must outlive the switch. Names stamped to the second sorted builds of one second by their
    random suffix, and clean() could delete that version and keep an older one instead."""
    import uuid

    import qa.index.writer

    suffixes = iter(["ffffffff", "eeeeeeee", "dddddddd", "cccccccc"])
    monkeypatch.setattr(qa.index.writer.uuid, "uuid4", lambda: uuid.UUID(next(suffixes) + "0" * 24))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = index_settings(corpus, tmp_path / "index")
    lives = []
    for edition in range(3):
        edition_corpus(corpus, edition)
        build_index(settings, HashingEmbedder())
        lives.append(IndexStore(settings.index).current())
    assert sorted(settings.index.glob("v-*")) == sorted(lives[1:])
