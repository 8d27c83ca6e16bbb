"""One measurement loop: the reference set and the outside collections in one run (``qa eval``).

A retrieval default may change only if it is no worse at home and better outside (issue
15), so one command measures both: the reference set over our corpus, the BEIR datasets
found beside the checkout (:data:`OUTSIDE_SETS`, skipped with a line when absent) and any
given with ``--beir``, each with the naive anchor computed in the same run. BEIR documents,
their index and the anchor's vectors live in a work folder and are reused while the data
and settings are unchanged.

A reference set may need a corpus of several folders (the ilacs reports and the shipped
text files): :func:`assemble_corpus` copies them into one, since the corpus scan does not
follow links out of its folder.

Example::

    plan = plan_eval(settings, root, questions=None, beir=[], default_beir=True,
                     work=root / "reports" / "work")
    run, questions = run_plan(plan, lambda: Searcher.open(settings))
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from qa.evaluation.report import EvaluationRun, Report

if TYPE_CHECKING:
    from qa.evaluation.reference import Question
    from qa.index.build import ProgressFactory
    from qa.search import Searcher
    from qa.settings import Settings

# Outside collections every `qa eval` runs, relative to the folder of the project's
# pyproject.toml: Medline in BEIR layout (30 queries, 1,033 abstracts), as
# ../shared/beir/README.md describes it.
OUTSIDE_SETS = (Path("..") / "shared" / "beir" / "med",)


@dataclass(frozen=True)
class EvalPlan:
    """What one ``qa eval`` measures: the reference set (None to skip it) and BEIR datasets.

    ``skipped`` says which default collections are absent; ``work`` holds the BEIR
    workspaces and the anchor's vectors.
    """

    settings: Settings
    questions: Path | None
    beir: tuple[Path, ...]
    work: Path
    k: int = 10
    split: str = "test"
    skipped: tuple[str, ...] = ()


def outside_sets(root: Path) -> tuple[tuple[Path, ...], tuple[str, ...]]:
    """The default outside collections under ``root`` that exist, and a line for each that
    does not."""
    found, skipped = [], []
    for relative in OUTSIDE_SETS:
        folder = (root / relative).resolve()
        if (folder / "corpus.jsonl").is_file():
            found.append(folder)
        else:
            skipped.append(f"{root / relative}: no BEIR dataset there (corpus.jsonl missing)")
    return tuple(found), tuple(skipped)


def plan_eval(
    settings: Settings,
    root: Path,
    questions: Path | None,
    beir: Sequence[Path],
    default_beir: bool,
    work: Path,
    k: int = 10,
    split: str = "test",
    reference: bool = True,
) -> EvalPlan:
    """The plan of one ``qa eval``: the reference set (``questions``, default
    ``root/eval/questions.jsonl``; none without ``reference``), the outside collections
    under ``root`` when ``default_beir``, then ``beir``."""
    found, skipped = outside_sets(root) if default_beir else ((), ())
    return EvalPlan(
        settings,
        (questions or root / "eval" / "questions.jsonl") if reference else None,
        (*found, *beir),
        work,
        k,
        split,
        skipped,
    )


def workspace(dataset: Path, work: Path) -> Path:
    """The folder of one BEIR dataset's documents, index and anchor vectors under ``work``.

    Named by the dataset's folder and a hash of its full path, so two datasets of one name
    never share an index.
    """
    resolved = dataset.resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:8]
    return work / f"beir-{resolved.name}-{digest}"


def assemble_corpus(sources: Sequence[Path], target: Path) -> int:
    """Copy the regular files of each folder of ``sources`` (not their subfolders) into
    ``target``; a file already there with the same bytes is left alone. Returns how many
    were copied. Raises ValueError when two sources hold files of the same name, since a
    reference set names documents by their bare file names."""
    origin: dict[str, Path] = {}
    for source in sources:
        if not source.is_dir():
            raise ValueError(f"{source} is not a folder")
        for path in sorted(source.iterdir()):
            if not path.is_file() or path.name.startswith("."):
                continue
            if path.name in origin:
                raise ValueError(f"{path.name} is in both {origin[path.name].parent} and {source}")
            origin[path.name] = path
    target.mkdir(parents=True, exist_ok=True)
    copied = 0
    for name, path in origin.items():
        destination = target / name
        if destination.is_file() and destination.read_bytes() == path.read_bytes():
            continue
        shutil.copyfile(path, destination)
        copied += 1
    return copied


def run_plan(
    plan: EvalPlan,
    open_searcher: Callable[[], Searcher],
    progress: ProgressFactory | None = None,
) -> tuple[EvaluationRun, tuple[Question, ...]]:
    """Run everything ``plan`` names; the run and the reference questions it used.

    BEIR folders are read before anything is measured, so a broken one stops the run at
    once (BeirError), and the reference set is checked against the corpus before any model
    loads (ReferenceSetError listing every problem).
    """
    from qa.evaluation.anchor import Anchor, anchor_embedder
    from qa.evaluation.beir import evaluate_beir, load_beir
    from qa.evaluation.reference import (
        ReferenceSetError,
        load_reference_set,
        validate_reference_set,
    )
    from qa.evaluation.run import evaluate
    from qa.index.embedders import load_embedder

    if plan.questions is not None:
        problems = validate_reference_set(plan.questions, plan.settings.corpus)
        if problems:
            raise ReferenceSetError(
                f"{len(problems)} problem(s) in {plan.questions}:\n" + "\n".join(problems)
            )
    datasets = [(folder, load_beir(folder, plan.split)) for folder in plan.beir]
    anchor_model = anchor_embedder()
    parts: list[Report] = []
    questions: tuple[Question, ...] = ()
    if plan.questions is not None:
        questions = load_reference_set(plan.questions)
        searcher = open_searcher()
        texts = [chunk.text for chunk in searcher.snapshot.chunks]
        name = f"{plan.questions.parent.name}-{plan.questions.stem}"
        anchor = Anchor.build(texts, anchor_model, plan.work, name, progress)
        parts.append(
            evaluate(
                searcher,
                questions,
                plan.k,
                questions_file=str(plan.questions),
                anchor=anchor,
                gold=plan.questions.parent,
            )
        )
    if datasets:
        embedder = load_embedder(plan.settings.model, plan.settings.batch_size)
        for folder, dataset in datasets:
            parts.append(
                evaluate_beir(
                    dataset,
                    plan.settings,
                    embedder,
                    workspace(folder, plan.work),
                    plan.split,
                    progress=progress,
                    anchor_embedder=anchor_model,
                )
            )
    created = datetime.now(UTC).isoformat(timespec="seconds")
    return EvaluationRun(created, tuple(parts), plan.skipped), questions
