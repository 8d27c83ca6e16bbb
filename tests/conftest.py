"""Shared fixtures: tiny corpora under tmp_path, the shipped corpus, a fake embedder.

Unit tests never load the real model: they use :class:`qa.index.embedders.HashingEmbedder`.
Only tests marked ``slow`` load the bundled model.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import settings as hypothesis_settings

import qa.index.embedders
import qa.search
from qa.corpus import load_corpus
from qa.index.build import build_index
from qa.index.embedders import HashingEmbedder, load_embedder
from qa.index.manifest import pointer_text
from qa.index.store import CURRENT, MANIFEST, IndexStore
from qa.index.tables import tables_of
from qa.index.writer import IndexWriter
from qa.search import Searcher
from qa.settings import BUNDLED_MODEL, Settings
from qa.types import Document

# No example database in the work tree (failures print their example), and no deadline:
# timings on a shared CI machine vary too much for one.
hypothesis_settings.register_profile("qa", database=None, deadline=None)
hypothesis_settings.load_profile("qa")

REPO = Path(__file__).resolve().parents[1]
SHIPPED_CORPUS = REPO / "corpus"
# The real Ofsted reports CI finds beside the repository (../shared/ilacs), and the invented
# second council shipped with the tests.
ILACS = REPO.parent / "shared" / "ilacs"
OTHER_COUNCIL = Path(__file__).parent / "fixtures" / "other_council"

CABINET_2024 = "cabinet-2024-12-ofsted-inspection-outcome.txt"
CABINET_2020 = "cabinet-2020-03-ofsted-inspection-findings.txt"
NEWS_2020 = "insidecroydon-2020-03-ofsted-rates-good.txt"
SCRUTINY_2017 = "scrutiny-2017-ofsted-response-update.txt"
SCRUTINY_2019 = "scrutiny-2019-performance-trends-monitoring-visit.txt"
SHIPPED = (CABINET_2024, CABINET_2020, NEWS_2020, SCRUTINY_2017, SCRUTINY_2019)

# Three small documents, each about one distinct topic, so that a search has one right answer.
TINY_CORPUS = {
    "adoption.txt": (
        "Adoption Panel Annual Report\n\n"
        "1. SUMMARY\n\n"
        "1.1 The adoption panel met eleven times and approved fourteen adopters.\n\n"
        "1.2 Matching for very young children is now quicker than the national average.\n"
    ),
    "fostering.md": (
        "# Fostering Recruitment Update\n\n"
        "The council recruited twelve new foster carers this year.\n\n"
        "- Carers receive a weekly fostering allowance.\n"
        "- Training is offered every month.\n"
    ),
    "reports/youth.txt": (
        "Youth Offending Service Review\n\n"
        "2. DETAIL\n\n"
        "2.1 Knife crime among young people rose; the youth offending team grew by two officers.\n"
    ),
}


def write_corpus(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (relative path → text or bytes) under ``root`` and return it."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def make_pdf(path: Path, pages: list[list[str]], title: str | None = None) -> Path:
    """A real PDF with one line of text per string, one page per list."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    if title:
        pdf.setTitle(title)
    for lines in pages:
        for i, line in enumerate(lines):
            pdf.drawString(72, 750 - 20 * i, line)
        pdf.showPage()
    pdf.save()
    return path


def rewrite_manifest(
    index: Path, edit: Callable[[dict[str, Any]], object], checksum: bool = True
) -> None:
    """Change the live manifest of ``index`` as another version of qa would have written it:
    its checksum in ``CURRENT`` (as from format 4 on), or none (as before)."""
    live = IndexStore(index).current()
    assert live is not None
    manifest = json.loads((live / MANIFEST).read_text(encoding="utf-8"))
    edit(manifest)
    data = json.dumps(manifest).encode("utf-8")
    (live / MANIFEST).write_bytes(data)
    pointer = pointer_text(live.name, data) if checksum else f"{live.name}\n"
    (index / CURRENT).write_text(pointer, encoding="ascii")


def resave_with_encoder(settings: Settings, encoder: Path) -> None:
    """Save the live version again, recording ``encoder`` as its query encoder (the builds
    of these tests use the HashingEmbedder, which has no encoder to export)."""
    snapshot = IndexStore(settings.index).load()
    IndexWriter(settings.index).save(
        snapshot.manifest.spec,
        tables_of([snapshot.documents[source] for source in snapshot.catalog], snapshot.chunks),
        np.asarray(snapshot.embeddings),
        snapshot.vectors,
        snapshot.bm25,
        encoder=encoder,
    )


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus", dict(TINY_CORPUS))


@pytest.fixture
def settings(tmp_path: Path, tiny_corpus: Path) -> Settings:
    """Settings for the tiny corpus, index in tmp_path; chunk size 300 gives several chunks."""
    return Settings(corpus=tiny_corpus, index=tmp_path / "index", chunk_size=300, chunk_overlap=50)


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def cli(tmp_path: Path, tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Flags for a tiny corpus and an index in tmp_path; model loaders return a HashingEmbedder."""
    embedder = HashingEmbedder()

    def load(*args: Any, **kwargs: Any) -> HashingEmbedder:
        return embedder

    monkeypatch.setattr(qa.index.embedders, "load_embedder", load)
    monkeypatch.setattr(qa.index.embedders, "load_query_embedder", load)
    monkeypatch.setattr(qa.search, "load_query_embedder", load)
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("QA_")]:
        monkeypatch.delenv(name)
    return [
        "--corpus",
        str(tiny_corpus),
        "--index",
        str(tmp_path / "index"),
        "--chunk-size",
        "300",
        "--chunk-overlap",
        "50",
    ]


@pytest.fixture(scope="session")
def shipped_documents() -> dict[str, Document]:
    loaded = load_corpus(SHIPPED_CORPUS)
    assert not loaded.errors, loaded.errors
    return {d.source: d for d in loaded.documents}


@pytest.fixture(scope="session")
def real_searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    """The shipped corpus indexed once per session with the real bundled model.

    Questions go through the ONNX query encoder the build exports, as in ``qa ask``.
    """
    index = tmp_path_factory.mktemp("real-index") / "index"
    settings = Settings(corpus=SHIPPED_CORPUS, index=index, model=BUNDLED_MODEL)
    report = build_index(settings, load_embedder(BUNDLED_MODEL, settings.batch_size))
    assert report.errors == ()
    assert report.documents == len(SHIPPED)
    return Searcher.open(settings)


@pytest.fixture(scope="session")
def two_councils(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    """Croydon's shipped reports and the invented Northmoor's, one corpus, the real model."""
    root = tmp_path_factory.mktemp("two-councils")
    corpus = root / "corpus"
    shutil.copytree(SHIPPED_CORPUS, corpus)
    for path in OTHER_COUNCIL.iterdir():
        shutil.copyfile(path, corpus / path.name)
    settings = Settings(corpus=corpus, index=root / "index", model=BUNDLED_MODEL)
    assert build_index(settings, load_embedder(BUNDLED_MODEL, settings.batch_size)).errors == ()
    return Searcher.open(settings)


CI_LOG = "ci_log"  # the user property holding what a test prints for the CI log


@pytest.fixture
def ci_log(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Print text in the run's summary, under "figures the tests measured".

    Figures a test measures (the benchmark's tables, reading speeds, where screenshots went)
    belong in the CI log, but a test's own output is captured, and with the run spread over
    the cores (pytest-xdist) it is printed by another process: the text travels with the
    test's report instead, which xdist sends back to the process that prints."""

    def log(text: str) -> None:
        request.node.user_properties.append((CI_LOG, text.strip("\n")))

    return log


def pytest_terminal_summary(terminalreporter: Any) -> None:
    logged = [
        (report.nodeid, text)
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, text in getattr(report, "user_properties", ())
        if name == CI_LOG
    ]
    if logged:
        terminalreporter.section("figures the tests measured")
        for nodeid, text in sorted(logged):
            terminalreporter.write_line(f"{nodeid}:\n{text}\n")
