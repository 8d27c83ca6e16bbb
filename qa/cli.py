"""The ``qa`` command: a thin shell over the library (argument parsing and printing only)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from qa.settings import Settings, SettingsError, load_settings
from qa.types import Backend, Mode

if TYPE_CHECKING:
    from qa.index.build import BuildReport
    from qa.search import Searcher

log = logging.getLogger("qa")


def _settings_arguments(parser: argparse.ArgumentParser) -> None:
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa", description="Ask questions of a folder of documents and get cited passages."
    )
    commands = parser.add_subparsers(dest="command", required=True)

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
    _settings_arguments(index)

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
    _settings_arguments(ask)

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
    _settings_arguments(evaluate)

    recommendations = commands.add_parser(
        "recommendations",
        help="list each report's recommendations, linked across reports, with a status",
    )
    recommendations.add_argument("--json", action="store_true", help="print JSON, one item a line")
    _settings_arguments(recommendations)

    show = commands.add_parser(
        "show",
        help="print a document's text as indexed: the text every passage's start/end index",
    )
    show.add_argument("source", help="the document's path relative to the corpus folder")
    show.add_argument(
        "--json", action="store_true", help="print its facts and document_text as JSON"
    )
    _settings_arguments(show)

    judgements = commands.add_parser(
        "judgements",
        help="list the grades the documents state, per organisation and aspect, across dates",
    )
    judgements.add_argument("--json", action="store_true", help="print JSON, one row a line")
    _settings_arguments(judgements)

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
    return parser


def _settings(args: argparse.Namespace) -> Settings:
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


class _Bar:
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


def _say(message: str, file: TextIO | None = None) -> None:
    """Print a message (to stderr unless ``file``) that may hold file names, document text or
    a reason read from a file: each control character in it is shown as its escape, never
    obeyed by the terminal (a file name can hold the sequence that clears the screen)."""
    from qa.render.terminal import terminal_text

    print(terminal_text(message), file=file or sys.stderr)


def _print_report(report: BuildReport, file: TextIO) -> None:
    """Each file the build read (with its pages and passages), the files it skipped and
    why (on stderr), then its summary, each on one line."""
    from qa.render.terminal import terminal_line

    for line in report.file_lines():
        _say(terminal_line(line), file)
    for error in report.errors:
        _say(terminal_line(f"skipped {error}"))
    _say(terminal_line(report.summary()), file)


def _require_corpus(settings: Settings) -> None:
    """Say that the corpus folder is missing before the model loads (seconds), not after."""
    if not settings.corpus.is_dir():
        raise SettingsError(f"corpus folder {settings.corpus} does not exist")


def run_index(settings: Settings, rebuild: bool, verbose: bool) -> int:
    from qa.index.build import build_index
    from qa.index.embedders import load_embedder

    started = time.perf_counter()
    embedder = load_embedder(settings.model, settings.batch_size)
    if verbose:
        print(f"model loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    report = build_index(settings, embedder, rebuild=rebuild, progress=_Bar)
    _print_report(report, sys.stdout)
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


def _open_searcher(settings: Settings, update: bool, verbose: bool) -> Searcher:
    """A searcher over an index made ready first (built, updated or rebuilt, saying why),
    or with ``update`` False the reason it is not ready, as an error."""
    from qa.index import lifecycle
    from qa.index.embedders import load_query_embedder
    from qa.render.terminal import terminal_line
    from qa.search import Searcher

    def announce(found: lifecycle.IndexStatus) -> None:
        if found.state is lifecycle.IndexState.STALE:
            _say(terminal_line(f"{found.reason}: updating the index"))
        else:
            _say(terminal_line(f"{found.reason}: building the index of {settings.corpus} first"))

    started = time.perf_counter()
    embedder = load_query_embedder(settings.model, settings.index, settings.batch_size)
    loaded = time.perf_counter()
    ready = lifecycle.ensure(settings, embedder, update=update, progress=_Bar, announce=announce)
    if ready.report is not None:
        _print_report(ready.report, sys.stderr)
    if verbose:
        print(
            f"timing: model load {loaded - started:.2f} s, index load {time.perf_counter() - loaded:.2f} s",
            file=sys.stderr,
        )
    return Searcher(settings, ready.snapshot, ready.embedder)


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
        _say(f"qa ask: {error}")
        return 2
    searcher = _open_searcher(settings, update=not args.no_update, verbose=args.verbose)
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


def run_recommendations(args: argparse.Namespace, settings: Settings) -> int:
    from qa.features.recommendations import snapshot_recommendations
    from qa.render.json import recommendation_record
    from qa.render.terminal import format_recommendations

    searcher = _open_searcher(settings, update=True, verbose=args.verbose)
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

    searcher = _open_searcher(settings, update=True, verbose=args.verbose)
    documents = searcher.snapshot.documents
    if args.source not in documents:
        known = ", ".join(sorted(documents)[:10])
        _say(f"qa show: no document {args.source!r} in the index (documents: {known})")
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

    searcher = _open_searcher(settings, update=True, verbose=args.verbose)
    rows = searcher.judgements.rows(searcher.snapshot)
    if args.json:
        for row in rows:
            print(json.dumps(judgement_record(row), ensure_ascii=False))
    else:
        print(format_judgements(rows))
    return 0


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
        open_searcher = partial(_open_searcher, settings, update=True, verbose=args.verbose)
        run, questions = run_plan(plan, open_searcher, _Bar)
    except (ReportError, ReferenceSetError, BeirError, ValueError) as error:
        _say(f"qa eval: {error}")
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


def run_bench(args: argparse.Namespace) -> int:
    from qa.bench.report import write_reports
    from qa.bench.run import BenchConfig, run_benchmark

    log.setLevel(logging.INFO)
    backends = tuple(dict.fromkeys((Backend.EMBEDDED, Backend(args.backend))))
    config = BenchConfig(
        sizes=args.sizes, queries=args.queries, out=args.out, work=args.work, backends=backends
    )
    paths = write_reports(run_benchmark(config), config.out)
    print(paths[1].read_text(encoding="utf-8"))
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    log.setLevel(logging.INFO if args.verbose else logging.WARNING)
    from qa.index.embedders import ModelError
    from qa.index.problems import IndexProblem

    if args.command == "bench":
        return run_bench(args)
    try:
        settings = _settings(args)
        if args.command != "eval":
            _require_corpus(settings)
        if args.command == "index" and args.verify:
            return run_verify(settings)
        if args.command == "index":
            return run_index(settings, args.rebuild, args.verbose)
        if args.command == "eval":
            return run_eval(args, settings)
        if args.command == "recommendations":
            return run_recommendations(args, settings)
        if args.command == "judgements":
            return run_judgements(args, settings)
        if args.command == "show":
            return run_show(args, settings)
        return run_ask(args, settings)
    except (SettingsError, ModelError, IndexProblem, FileNotFoundError) as error:
        _say(f"qa: {error}")
        return 2
    except KeyboardInterrupt:
        print("qa: interrupted; the previous index is unchanged", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
