"""What every ``qa`` command shares: the settings flags, messages that are shown and never
obeyed, progress bars, and an index made ready before a command reads it."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from qa.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from qa.index.build import BuildReport
    from qa.search import Searcher

    Commands = argparse._SubParsersAction[argparse.ArgumentParser]
    """The ``qa`` parser's subcommands, to which each command's module adds its own."""


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of every command that reads the corpus or the index: where they are, the
    model, the chunking, and --verbose."""
    group = parser.add_argument_group(
        "settings (override pyproject.toml [tool.qa] and QA_* variables)"
    )
    group.add_argument("--corpus", type=Path, help="folder of documents (default: corpus)")
    group.add_argument("--index", type=Path, help="folder of the index (default: index)")
    group.add_argument(
        "--model",
        help="embedding model: bundled:all-MiniLM-L6-v2 (default), bundled:bge-small-en-v1.5,"
        " or a sentence-transformers folder",
    )
    group.add_argument("--chunk-size", type=int, help="chunk size limit in characters")
    group.add_argument("--chunk-overlap", type=int, help="overlap when a long paragraph is split")
    parser.add_argument("-v", "--verbose", action="store_true", help="print timings and details")


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings with the command's flags over pyproject.toml and QA_* variables (a flag a
    command does not have counts as not given)."""
    return load_settings(
        overrides={
            "corpus": args.corpus,
            "index": args.index,
            "model": args.model,
            "chunk_size": args.chunk_size,
            "chunk_overlap": args.chunk_overlap,
            "top_k": getattr(args, "top_k", None),
            "workers": getattr(args, "workers", None),
            "ray_address": getattr(args, "ray_address", None),
        }
    )


def require_corpus(settings: Settings) -> None:
    """Say that the corpus folder is missing before the model loads (seconds), not after."""
    if not settings.corpus.is_dir():
        raise SettingsError(f"corpus folder {settings.corpus} does not exist")


class ProgressBar:
    """A tqdm progress bar on stderr, created only when there is work to show."""

    def __init__(self, total: int, description: str, unit: str = "passage") -> None:
        from tqdm import tqdm

        self._bar = tqdm(
            total=total, desc=description, unit=unit, file=sys.stderr, dynamic_ncols=True
        )

    def update(self, n: int) -> None:
        self._bar.update(n)

    def close(self) -> None:
        self._bar.close()


def say(message: str, file: TextIO | None = None) -> None:
    """Print a message (to stderr unless ``file``) that may hold file names, document text or
    a reason read from a file: each control character in it is shown as its escape, never
    obeyed by the terminal (a file name can hold the sequence that clears the screen)."""
    from qa.render.terminal import terminal_text

    print(terminal_text(message), file=file or sys.stderr)


def print_report(report: BuildReport, file: TextIO) -> None:
    """Each file the build read (with its pages and passages), the files it skipped and
    why (on stderr), then its summary, each on one line."""
    from qa.render.terminal import terminal_line

    for line in report.file_lines():
        say(terminal_line(line), file)
    for error in report.errors:
        say(terminal_line(f"skipped {error}"))
    say(terminal_line(report.summary()), file)


def open_searcher(settings: Settings, update: bool, verbose: bool) -> Searcher:
    """A searcher over an index made ready first (built, updated or rebuilt, saying why),
    or with ``update`` False the reason it is not ready, as an error."""
    from qa.index import lifecycle
    from qa.index.embedders import load_query_embedder
    from qa.render.terminal import terminal_line
    from qa.search import Searcher

    def announce(found: lifecycle.IndexStatus) -> None:
        if found.state is lifecycle.IndexState.STALE:
            say(terminal_line(f"{found.reason}: updating the index"))
        else:
            say(terminal_line(f"{found.reason}: building the index of {settings.corpus} first"))

    started = time.perf_counter()
    embedder = load_query_embedder(settings.model, settings.index, settings.batch_size)
    loaded = time.perf_counter()
    ready = lifecycle.ensure(
        settings, embedder, update=update, progress=ProgressBar, announce=announce
    )
    if ready.report is not None:
        print_report(ready.report, sys.stderr)
    if verbose:
        print(
            f"timing: model load {loaded - started:.2f} s, index load {time.perf_counter() - loaded:.2f} s",
            file=sys.stderr,
        )
    return Searcher(settings, ready.snapshot, ready.embedder)
