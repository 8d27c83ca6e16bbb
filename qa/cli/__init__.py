"""The ``qa`` command: a thin shell over the library (argument parsing and printing only).

Each command's flags and what it runs live in its own module; this one assembles the parser,
dispatches, and turns the errors a user can act on into a message and exit status 2."""

from __future__ import annotations

import argparse
import logging
import sys

from qa.cli import ask, bench, evaluate, index, records
from qa.cli.common import require_corpus, say, settings_from
from qa.settings import SettingsError

log = logging.getLogger("qa")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa", description="Ask questions of a folder of documents and get cited passages."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    index.add_parser(commands)
    ask.add_parser(commands)
    evaluate.add_parser(commands)
    records.add_recommendations_parser(commands)
    records.add_show_parser(commands)
    records.add_judgements_parser(commands)
    bench.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    log.setLevel(logging.INFO if args.verbose else logging.WARNING)
    from qa.index.embedders import ModelError
    from qa.index.problems import IndexProblem

    if args.command == "bench":
        return bench.run_bench(args)
    try:
        settings = settings_from(args)
        if args.command != "eval":
            require_corpus(settings)
        if args.command == "index" and args.verify:
            return index.run_verify(settings)
        if args.command == "index":
            return index.run_index(settings, args.rebuild, args.verbose)
        if args.command == "eval":
            return evaluate.run_eval(args, settings)
        if args.command == "recommendations":
            return records.run_recommendations(args, settings)
        if args.command == "judgements":
            return records.run_judgements(args, settings)
        if args.command == "show":
            return records.run_show(args, settings)
        return ask.run_ask(args, settings)
    except (SettingsError, ModelError, IndexProblem, FileNotFoundError) as error:
        say(f"qa: {error}")
        return 2
    except KeyboardInterrupt:
        print("qa: interrupted; the previous index is unchanged", file=sys.stderr)
        return 130
