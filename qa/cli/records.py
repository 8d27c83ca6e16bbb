"""The commands that print what the index holds rather than answer a question: the tracked
recommendations, the stated grades, and a document's indexed text."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from qa.cli.common import add_settings_arguments, open_searcher, say
from qa.settings import Settings

if TYPE_CHECKING:
    from qa.cli.common import Commands


def add_recommendations_parser(commands: Commands) -> None:
    recommendations = commands.add_parser(
        "recommendations",
        help="list each report's recommendations, linked across reports, with a status",
    )
    recommendations.add_argument("--json", action="store_true", help="print JSON, one item a line")
    add_settings_arguments(recommendations)


def add_show_parser(commands: Commands) -> None:
    show = commands.add_parser(
        "show",
        help="print a document's text as indexed: the text every passage's start/end index",
    )
    show.add_argument("source", help="the document's path relative to the corpus folder")
    show.add_argument(
        "--json", action="store_true", help="print its facts and document_text as JSON"
    )
    add_settings_arguments(show)


def add_judgements_parser(commands: Commands) -> None:
    judgements = commands.add_parser(
        "judgements",
        help="list the grades the documents state, per organisation and aspect, across dates",
    )
    judgements.add_argument("--json", action="store_true", help="print JSON, one row a line")
    add_settings_arguments(judgements)


def run_recommendations(args: argparse.Namespace, settings: Settings) -> int:
    from qa.features.recommendations import snapshot_recommendations
    from qa.render.json import recommendation_record
    from qa.render.terminal import format_recommendations

    searcher = open_searcher(settings, update=True, verbose=args.verbose)
    tracked = snapshot_recommendations(searcher.snapshot, searcher.embedder)
    if args.json:
        for entry in tracked:
            print(json.dumps(recommendation_record(entry), ensure_ascii=False))
    else:
        print(format_recommendations(tracked))
    return 0


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    """The text passages' offsets index: for a PDF, DOCX or HTML file the extracted text (a
    reader checking an offset needs it), for a text file the file's own text."""
    from qa.render.json import document_record

    searcher = open_searcher(settings, update=True, verbose=args.verbose)
    documents = searcher.snapshot.documents
    if args.source not in documents:
        known = ", ".join(sorted(documents)[:10])
        say(f"qa show: no document {args.source!r} in the index (documents: {known})")
        return 2
    document = documents[args.source]
    if args.json:
        print(json.dumps(document_record(document), ensure_ascii=False))
    elif sys.stdout.isatty():  # shown, never obeyed; piped, it is the indexed text exactly
        from qa.render.terminal import terminal_text

        sys.stdout.write(terminal_text(document.text))
    else:
        sys.stdout.write(document.text)
    return 0


def run_judgements(args: argparse.Namespace, settings: Settings) -> int:
    from qa.render.json import judgement_record
    from qa.render.terminal import format_judgements

    searcher = open_searcher(settings, update=True, verbose=args.verbose)
    rows = searcher.judgements.rows(searcher.snapshot)
    if args.json:
        for row in rows:
            print(json.dumps(judgement_record(row), ensure_ascii=False))
    else:
        print(format_judgements(rows))
    return 0
