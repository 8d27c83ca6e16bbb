"""Real Ofsted reports (PDF) of eight councils, through `qa ask --json` as a user gets them.

Every passage of a PDF must carry the page it starts on (checked against that page's own
text), no passage may hold a running header or a page-number line, the judgement table's
rows and the "What needs to improve?" items must be whole inside one passage, and passages
must cite their section. The index is built with the hashing embedder: these are properties
of reading and chunking, not of the model.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pypdfium2
import pytest

import qa.index.embedders
import qa.search
from qa.cli import main
from qa.corpus import load_corpus
from qa.index.embedders import HashingEmbedder
from qa.text import normalise_space

from .conftest import ILACS, SHIPPED_CORPUS

REPORTS = sorted((ILACS / "reports").glob("*.pdf"))
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not REPORTS, reason=f"the Ofsted reports are not in {ILACS}"),
]
QUESTIONS = [
    json.loads(line)["question"]
    for line in (Path(__file__).parents[1] / "eval" / "ilacs" / "questions.jsonl").open()
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 17 reports and the shipped corpus in one folder, as a journalist would have them."""
    folder = tmp_path_factory.mktemp("councils") / "corpus"
    folder.mkdir()
    for path in [*REPORTS, *SHIPPED_CORPUS.glob("*.txt")]:
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(scope="module")
def answers(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """`qa ask --json -k 10` for every question of the ilacs reference set."""
    questions = tmp_path_factory.mktemp("questions") / "questions.txt"
    questions.write_text("\n".join(QUESTIONS) + "\n", encoding="utf-8")
    index = tmp_path_factory.mktemp("index") / "index"
    embedder = HashingEmbedder()
    with pytest.MonkeyPatch.context() as patch:
        for module in (qa.index.embedders, qa.search):
            for name in ("load_embedder", "load_query_embedder"):
                if hasattr(module, name):
                    patch.setattr(module, name, lambda *args, **kwargs: embedder)
        out = tmp_path_factory.mktemp("out") / "answers.jsonl"
        with out.open("w", encoding="utf-8") as handle:
            patch.setattr(sys, "stdout", handle)
            flags = ["--questions", str(questions), "--corpus", str(corpus), "--index", str(index)]
            code = main(["ask", "--json", "-k", "10", *flags])
        assert code == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def pdf_passages(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, int], dict[str, Any]] = {}
    for answer in answers:
        for passage in answer["passages"]:
            if passage["source"].endswith(".pdf"):
                seen[(passage["source"], passage["start"])] = passage
    return list(seen.values())


def page_texts(path: Path) -> list[str]:
    document = pypdfium2.PdfDocument(path)
    try:
        return [normalise_space(page.get_textpage().get_text_range()) for page in document]
    finally:
        document.close()


def words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]{3,}", text)


def test_every_pdf_passage_cites_the_page_its_words_are_printed_on(
    answers: list[dict[str, Any]], corpus: Path
) -> None:
    """The part of a passage on each page it cites, from `page` to `page_end`, is printed on
    that page: its first and last words are in the page's own text (pypdfium2)."""
    passages = pdf_passages(answers)
    assert len(passages) > 100
    documents = {d.source: d for d in load_corpus(corpus).documents}
    printed = {source: page_texts(corpus / source) for source in {p["source"] for p in passages}}
    for passage in passages:
        assert isinstance(passage["page"], int) and passage["page"] >= 1, passage
        document = documents[passage["source"]]
        last = passage["page_end"] or passage["page"]
        bounds = [*document.pages, len(document.text)]
        for page in range(passage["page"], last + 1):
            start = max(passage["start"], bounds[page - 1])
            end = min(passage["end"], bounds[page])
            on_page = words(document.text[start:end])
            page_words = " ".join(words(printed[passage["source"]][page - 1]))
            for sample in (on_page[:4], on_page[-4:]):
                assert " ".join(sample) in page_words, (passage["source"], page, sample)


def running_lines(path: Path) -> set[str]:
    """Lines printed at the top or bottom of at least half the pages (digits as #): the
    running header ("Inspection of X local authority children's services"), its date and
    page-number line, or a bare page number."""
    document = pypdfium2.PdfDocument(path)
    try:
        pages = [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()
    edges: Counter[str] = Counter()
    for text in pages:
        lines = [normalise_space(line) for line in text.splitlines() if line.strip()]
        edges.update({re.sub(r"\d", "#", line) for line in lines[:2] + lines[-2:]})
    return {line for line, count in edges.items() if count >= len(pages) / 2 and len(line) > 3}


def test_no_passage_holds_a_running_header_or_a_page_number_line(
    answers: list[dict[str, Any]], corpus: Path
) -> None:
    running = {
        source: running_lines(corpus / source)
        for source in {p["source"] for p in pdf_passages(answers)}
    }
    # Reports from 2021 print a running header and a date line; older ones a page number only.
    assert sum(bool(lines) for lines in running.values()) >= len(running) / 2
    for passage in pdf_passages(answers):
        text = re.sub(r"\d", "#", normalise_space(passage["text"]))
        if passage["page"] > 1:  # the cover prints the report's title, which the header repeats
            for line in running[passage["source"]]:
                assert line not in text, (passage["source"], line)
        for line in passage["text"].split("\n"):
            assert not re.fullmatch(r"\s*\d{1,3}\s*", line), passage["text"][:120]


def test_judgement_rows_and_improvement_items_are_whole_in_one_passage(corpus: Path) -> None:
    from qa.chunking import chunk_document

    loaded = load_corpus(corpus)
    for document in (d for d in loaded.documents if d.format == "pdf"):
        chunks = chunk_document(document)
        rows = [
            line
            for line in document.text.split("\n")
            if re.search(r" \| (?:Good|Outstanding|Inadequate|Requires)", line)
        ]
        items = [line for line in document.text.split("\n") if line.startswith(("◼", "•"))]
        assert rows and items, document.source
        for line in rows + items:
            assert any(line in chunk.text for chunk in chunks), (document.source, line)


def test_pdf_passages_cite_their_section(answers: list[dict[str, Any]]) -> None:
    passages = pdf_passages(answers)
    with_section = [p for p in passages if p["section"]]
    assert len(with_section) >= 0.9 * len(passages)
    numbered = [p for p in passages if re.match(r"\d{1,3}\. ", p["text"])]
    assert all(p["paragraph"] for p in numbered)
