"""What reading documents in a child process costs against reading them in this one.

Reads every file of each folder given (default: the shipped corpus and the 17 Ofsted
reports) four ways, a few times each, and prints the median seconds, then the peak memory
of the largest child:

* in process: :func:`qa.corpus.read_document`, as builds read before issue 17;
* as built: :class:`qa.corpus.worker.DocumentReader`, PDF, DOCX and HTML in one child
  process for the whole run, plain text in process;
* every format in one child;
* as built, but a new child for each file.

    python scripts/reading_cost.py corpus /work/shared/ilacs/reports --repeats 5

A one-off measurement behind the choice in :mod:`qa.corpus.worker` (RELIABILITY.md, section 3).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import qa.corpus.worker
from qa.corpus import CorpusFile, read_document, scan_corpus
from qa.corpus.readers import SUFFIXES
from qa.corpus.worker import DocumentReader
from qa.settings import Settings


def in_process(files: list[CorpusFile], settings: Settings) -> None:
    for file in files:
        read_document(file, settings.read_limits)


def as_built(files: list[CorpusFile], settings: Settings) -> None:
    with DocumentReader(settings.read_limits) as reader:
        for file in files:
            reader.read(file)


def all_in_child(files: list[CorpusFile], settings: Settings) -> None:
    isolated = qa.corpus.worker.ISOLATED
    qa.corpus.worker.ISOLATED = frozenset(SUFFIXES.values())
    try:
        as_built(files, settings)
    finally:
        qa.corpus.worker.ISOLATED = isolated


def child_per_file(files: list[CorpusFile], settings: Settings) -> None:
    for file in files:
        with DocumentReader(settings.read_limits) as reader:
            reader.read(file)


WAYS: dict[str, Callable[[list[CorpusFile], Settings], None]] = {
    "in process": in_process,
    "as built (PDF, DOCX, HTML in one child)": as_built,
    "every format in one child": all_in_child,
    "as built, a new child for each file": child_per_file,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "folders",
        nargs="*",
        type=Path,
        default=[Path("corpus"), Path("/work/shared/ilacs/reports")],
    )
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    settings = Settings()
    for folder in arguments.folders:
        files, _ = scan_corpus(folder, settings.max_file_bytes)
        size = sum(file.path.stat().st_size for file in files) / 1e6
        print(f"\n{folder}: {len(files)} files, {size:.1f} MB")
        for name, way in WAYS.items():
            seconds = []
            for _ in range(arguments.repeats):
                started = time.perf_counter()
                way(files, settings)
                seconds.append(time.perf_counter() - started)
            print(f"  {name:<42} {statistics.median(seconds):6.2f} s")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\npeak memory of the largest child: {children:.0f} MB")


if __name__ == "__main__":
    main()
