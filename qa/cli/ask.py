"""``qa ask``: print the passages that answer a question, or each question of a file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from qa.cli.common import add_settings_arguments, open_searcher, say
from qa.settings import Settings
from qa.types import Mode

if TYPE_CHECKING:
    from qa.cli.common import Commands


def add_parser(commands: Commands) -> None:
    ask = commands.add_parser("ask", help="print the passages that answer a question")
    ask.add_argument("question", nargs="?", help="the question (or use --questions)")
    ask.add_argument("-k", "--top-k", type=int, help="number of passages (default 5)")
    ask.add_argument("--json", action="store_true", help="print JSON (one object per question)")
    ask.add_argument(
        "--questions", type=Path, help="file of questions: one per line, or JSONL with 'question'"
    )
    ask.add_argument("--mode", choices=[m.value for m in Mode], default=Mode.HYBRID.value)
    ask.add_argument(
        "--document",
        action="append",
        dest="documents",
        metavar="SOURCE",
        help="only this document (path relative to the corpus); repeatable",
    )
    ask.add_argument(
        "--organisation",
        action="append",
        dest="organisations",
        metavar="NAME",
        help="only documents about this council or body (as listed by the index); repeatable",
    )
    ask.add_argument("--year-from", type=int, help="only documents dated in or after this year")
    ask.add_argument("--year-to", type=int, help="only documents dated in or before this year")
    ask.add_argument(
        "--no-answer",
        action="store_true",
        help="only the passages, no quoted answer: batch retrieval at any -k without the"
        " answer stage's encoder run",
    )
    ask.add_argument(
        "--no-update",
        action="store_true",
        help="fail instead of updating the index when the corpus changed",
    )
    add_settings_arguments(ask)


def run_ask(args: argparse.Namespace, settings: Settings) -> int:
    from qa.corpus.organisations import organisation_name
    from qa.questions import QuestionFileError, load_questions
    from qa.render.json import answer_record
    from qa.render.terminal import format_answer
    from qa.types import Filters

    if (args.question is not None) == (args.questions is not None):
        print("qa ask: give either a question or --questions FILE", file=sys.stderr)
        return 2
    if args.question is not None and not args.question.strip():
        print("qa ask: the question is empty", file=sys.stderr)
        return 2
    try:
        questions = load_questions(args.questions) if args.questions else (args.question,)
    except QuestionFileError as error:
        say(f"qa ask: {error}")
        return 2
    searcher = open_searcher(settings, update=not args.no_update, verbose=args.verbose)
    filters = Filters(
        sources=frozenset(args.documents) if args.documents else None,
        organisations=frozenset(organisation_name(o) or o for o in args.organisations)
        if args.organisations
        else None,
        year_from=args.year_from,
        year_to=args.year_to,
    )
    for question in questions:
        answer = searcher.search(
            question, k=settings.top_k, mode=args.mode, filters=filters, extract=not args.no_answer
        )
        if args.json:
            print(json.dumps(answer_record(answer), ensure_ascii=False), flush=True)
        else:
            print(format_answer(answer))
        if args.verbose:
            stages = ", ".join(
                f"{name} {seconds * 1000:.1f} ms" for name, seconds in answer.timings.items()
            )
            print(f"timing: {stages}", file=sys.stderr)
    return 0
