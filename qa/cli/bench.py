"""``qa bench``: build, load, memory and query latency on generated corpora, and each stage of
one question on the shipped corpus."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from qa.types import Backend

if TYPE_CHECKING:
    from qa.cli.common import Commands


def add_parser(commands: Commands) -> None:
    bench = commands.add_parser(
        "bench",
        help="measure build, load, memory and query latency on generated corpora, and each"
        " stage of one question on the shipped corpus",
    )
    bench.add_argument(
        "--sizes",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=(1000, 10_000),
        help="passages per corpus, comma-separated (default 1000,10000; up to 1000000)",
    )
    bench.add_argument("--queries", type=int, default=200, help="queries per mode (default 200)")
    bench.add_argument(
        "--out", type=Path, default=Path("reports/bench"), help="folder for bench.json/md/png"
    )
    bench.add_argument(
        "--work", type=Path, help="folder for generated corpora and indexes (default OUT/work)"
    )
    bench.add_argument(
        "--backend",
        choices=[b.value for b in Backend],
        default=Backend.EMBEDDED.value,
        help="milvus: also build, serve and compare each size on Milvus Lite (needs the scale"
        " extra)",
    )
    bench.add_argument("-v", "--verbose", action="store_true", help="print each step")


def run_bench(args: argparse.Namespace) -> int:
    from qa.bench.report import write_reports
    from qa.bench.run import BenchConfig, run_benchmark

    logging.getLogger("qa").setLevel(logging.INFO)
    backends = tuple(dict.fromkeys((Backend.EMBEDDED, Backend(args.backend))))
    config = BenchConfig(
        sizes=args.sizes, queries=args.queries, out=args.out, work=args.work, backends=backends
    )
    paths = write_reports(run_benchmark(config), config.out)
    print(paths[1].read_text(encoding="utf-8"))
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0
