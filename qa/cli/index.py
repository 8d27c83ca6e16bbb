"""``qa index``: build or update the index of the corpus, or verify the live one."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from qa.cli.common import ProgressBar, add_settings_arguments, print_report
from qa.settings import Settings

if TYPE_CHECKING:
    from qa.cli.common import Commands


def add_parser(commands: Commands) -> None:
    index = commands.add_parser("index", help="build or update the index of the corpus")
    index.add_argument(
        "--rebuild", action="store_true", help="start from scratch instead of updating"
    )
    index.add_argument(
        "--verify",
        action="store_true",
        help="check every byte of the live index against its manifest (loading samples large"
        " files) and build nothing",
    )
    index.add_argument(
        "--workers",
        type=int,
        help="embed on Ray with this many model processes (a local Ray, or --ray-address);"
        " needs the scale extra",
    )
    index.add_argument("--ray-address", help="the Ray cluster to embed on (e.g. ray://head:10001)")
    add_settings_arguments(index)


def run_index(settings: Settings, rebuild: bool, verbose: bool) -> int:
    from qa.index.build import build_index
    from qa.index.embedders import load_embedder

    started = time.perf_counter()
    embedder = load_embedder(settings.model, settings.batch_size)
    if verbose:
        print(f"model loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    report = build_index(settings, embedder, rebuild=rebuild, progress=ProgressBar)
    print_report(report, sys.stdout)
    return 0


def run_verify(settings: Settings) -> int:
    from qa.index.store import IndexStore

    snapshot = IndexStore(settings.index).load(full_check=True)
    manifest = snapshot.manifest
    records = [*manifest.files.values(), *([manifest.encoder.record] if manifest.encoder else [])]
    megabytes = sum(record.bytes for record in records) / 1e6
    encoder = " (with the query encoder)" if manifest.encoder else ""
    print(
        f"Index {snapshot.version} is intact: {len(records)} files{encoder},"
        f" {megabytes:,.1f} MB checked; {len(snapshot.catalog)} documents,"
        f" {len(snapshot.chunks)} chunks"
    )
    return 0
