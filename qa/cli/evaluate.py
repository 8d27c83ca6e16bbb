"""``qa eval``: measure retrieval and answers on the reference questions and on BEIR datasets,
every mode beside a naive anchor, and write the reports."""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from qa.cli.common import ProgressBar, add_settings_arguments, open_searcher, say
from qa.settings import Settings
from qa.types import Backend

if TYPE_CHECKING:
    from qa.cli.common import Commands


def add_parser(commands: Commands) -> None:
    evaluate = commands.add_parser(
        "eval",
        help="measure retrieval and answers on the reference questions and on outside BEIR"
        " datasets, every mode, beside a naive anchor",
    )
    evaluate.add_argument(
        "--questions", type=Path, help="reference set (default: eval/questions.jsonl)"
    )
    evaluate.add_argument(
        "--out", type=Path, help="folder for eval.json, eval.md, eval.png (default: reports)"
    )
    evaluate.add_argument("--k", type=int, default=10, help="passages per question (default 10)")
    evaluate.add_argument(
        "--compare", type=Path, metavar="OLD.json", help="show the change against this report"
    )
    outside = evaluate.add_mutually_exclusive_group()
    outside.add_argument(
        "--beir",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="also evaluate this BEIR dataset (repeatable); the shared Medline beside the"
        " checkout (../shared/beir/med) is evaluated too when present, unless --beir-only",
    )
    outside.add_argument(
        "--no-beir", action="store_true", help="skip every BEIR dataset: only the reference set"
    )
    evaluate.add_argument(
        "--beir-only",
        action="store_true",
        help="skip the reference set: only the BEIR datasets (--beir, else the shared Medline)",
    )
    evaluate.add_argument("--split", default="test", help="BEIR qrels split (default test)")
    evaluate.add_argument(
        "--work",
        type=Path,
        help="folder for the BEIR datasets' documents and indexes and the anchor's vectors,"
        " reused while unchanged (default OUT/work)",
    )
    evaluate.add_argument(
        "--copy-from",
        type=Path,
        action="append",
        default=[],
        metavar="SRC",
        help="first copy the files of folder SRC into --corpus (repeatable): a corpus of"
        " several folders, e.g. ../shared/ilacs/reports and corpus for eval/ilacs",
    )
    add_settings_arguments(evaluate)


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    from qa.evaluation.beir import BeirError
    from qa.evaluation.compare import format_comparison
    from qa.evaluation.markdown import write_reports
    from qa.evaluation.metrics import SHOWN_PASSAGES
    from qa.evaluation.reference import ReferenceSetError, project_root
    from qa.evaluation.render import format_failures, format_run
    from qa.evaluation.report_json import ReportError, read_report
    from qa.evaluation.suite import assemble_corpus, plan_eval, run_plan

    if args.k < SHOWN_PASSAGES:
        print(f"qa eval: --k must be at least {SHOWN_PASSAGES}", file=sys.stderr)
        return 2
    root = project_root()
    out = args.out or root / "reports"
    try:
        previous = read_report(args.compare) if args.compare else None
        if args.copy_from:
            assemble_corpus(args.copy_from, settings.corpus)
        plan = plan_eval(
            settings,
            root,
            questions=args.questions,
            beir=args.beir,
            default_beir=not args.no_beir and not (args.beir_only and args.beir),
            work=args.work or out / "work",
            k=args.k,
            split=args.split,
            reference=not args.beir_only,
        )
        opener = partial(open_searcher, settings, update=True, verbose=args.verbose)
        run, questions = run_plan(plan, opener, ProgressBar)
    except (ReportError, ReferenceSetError, BeirError, ValueError) as error:
        say(f"qa eval: {error}")
        return 2
    if settings.backend is not Backend.EMBEDDED:
        from qa.backends.milvus import shown_uri

        print(f"search backend: {settings.backend} at {shown_uri(settings.milvus_location)}\n")
    print(format_run(run))
    if args.verbose and run.reference is not None and run.reference.failures():
        print(
            "\nFailures (evidence not in the top 5):\n" + format_failures(run.reference, questions)
        )
    paths = write_reports(run, questions, out, previous)
    if previous is not None:
        print("\n" + format_comparison(previous, run))
    print("\nwrote " + ", ".join(str(p) for p in paths))
    return 0
