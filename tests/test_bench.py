"""The benchmark: generated corpora look real, and a small run writes well-formed reports."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

import qa.index.embedders
from qa.bench.synthetic import (
    SyntheticEmbedder,
    Vocabulary,
    corpus_vocabulary,
    generate_document,
    generate_queries,
    split_sentences,
    write_corpus,
)
from qa.chunking import chunk_document
from qa.corpus import load_corpus
from qa.index.embedders import HashingEmbedder
from qa.index.lexical import BM25Index, tokenize
from qa.types import Backend, Document

from .conftest import REPO, SHIPPED_CORPUS


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return corpus_vocabulary(load_corpus(SHIPPED_CORPUS).documents)


def reference_sample(folder: Path, chosen: slice) -> Path:
    """A questions file in ``folder`` holding the ``chosen`` lines of the reference set."""
    lines = (REPO / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    path = folder / "questions.jsonl"
    path.write_text("\n".join(lines[chosen]) + "\n", encoding="utf-8")
    return path


def _passages(vocabulary: Vocabulary, documents: int) -> list[str]:
    texts = [generate_document(vocabulary, n, 100, seed=0) for n in range(documents)]
    return [
        c.text
        for n, text in enumerate(texts)
        for c in chunk_document(Document(f"{n}.txt", "t", None, "h", "txt", text=text))
    ]


def test_generated_corpora_are_reproducible_and_about_the_size_asked(
    vocabulary: Vocabulary, tmp_path: Path
) -> None:
    assert write_corpus(vocabulary, 250, tmp_path / "a") == 3
    write_corpus(vocabulary, 250, tmp_path / "b")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.txt"))
    assert [(tmp_path / "a" / f).read_text() for f in files] == [
        (tmp_path / "b" / f).read_text() for f in files
    ]
    documents = load_corpus(tmp_path / "a").documents
    chunks = [c for d in documents for c in chunk_document(d)]
    assert 250 <= len(chunks) <= 300


def test_generated_text_varies_vocabulary_so_rare_terms_appear(vocabulary: Vocabulary) -> None:
    rows = [tokenize(p) for p in _passages(vocabulary, 10)]
    shipped_terms = {t for s in vocabulary.sentences for t in tokenize(s)}
    generated_terms = {t for row in rows for t in row}
    assert len(generated_terms - shipped_terms) > 200


def test_lexical_scores_equal_bm25okapi_on_a_generated_corpus(vocabulary: Vocabulary) -> None:
    rows = [tokenize(p) for p in _passages(vocabulary, 20)]
    index, reference = BM25Index.build(rows), BM25Okapi(rows)
    for query in generate_queries(vocabulary, [], 30, seed=1):
        tokens = tokenize(query)
        np.testing.assert_allclose(
            index.scores(tokens), reference.get_scores(tokens), rtol=1e-6, atol=1e-6
        )


def test_a_streamed_lexical_build_scores_as_bm25okapi_whatever_its_block_size(
    vocabulary: Vocabulary,
) -> None:
    rows = [tokenize(p) for p in _passages(vocabulary, 20)]
    reference = BM25Okapi(rows)
    whole = BM25Index.build(rows, block=len(rows))
    streamed = BM25Index.build((row for row in rows), block=7)  # read once, 7 rows a block
    assert streamed.vocabulary == whole.vocabulary
    assert (streamed.weights != whole.weights).nnz == 0
    for query in generate_queries(vocabulary, [], 30, seed=2):
        tokens = tokenize(query)
        np.testing.assert_allclose(
            streamed.scores(tokens), reference.get_scores(tokens), rtol=1e-6, atol=1e-6
        )


def test_synthetic_passage_vectors_are_near_their_sentences(vocabulary: Vocabulary) -> None:
    sentence_vectors = np.random.default_rng(0).normal(size=(len(vocabulary.sentences), 32))
    sentence_vectors /= np.linalg.norm(sentence_vectors, axis=1, keepdims=True)
    embedder = SyntheticEmbedder(vocabulary, sentence_vectors)
    passage = _passages(vocabulary, 1)[3]
    vector = embedder.encode([passage])[0]
    rows = [
        vocabulary.sentences.index(s)
        for s in vocabulary.sentences
        if any(vocabulary.key(s) == vocabulary.key(p) for p in split_sentences(passage))
    ]
    assert rows
    assert float(sentence_vectors[rows].mean(axis=0) @ vector) > 0.3
    assert float(np.abs(embedder.encode([passage])[0] - vector).max()) == 0.0


def test_the_question_benchmark_times_each_stage_per_setting_and_prints_its_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Figures printed, none asserted: the fake embedder times the pipeline, not the model."""
    from qa.bench.latency import SETTINGS, measure_questions
    from qa.bench.report import format_questions
    from qa.bench.run import machine

    embedder = HashingEmbedder()
    monkeypatch.setattr(qa.index.embedders, "load_embedder", lambda *_, **__: embedder)
    monkeypatch.setattr(qa.index.embedders, "load_query_embedder", lambda *_, **__: embedder)
    questions = reference_sample(tmp_path, slice(3))

    figures = measure_questions(SHIPPED_CORPUS, questions, tmp_path, rounds=2)
    table = "\n".join(format_questions({"machine": machine(), "questions": asdict(figures)}))
    print(table)

    assert figures.questions == 3 and figures.rounds == 2
    assert [run.setting for run in figures.runs] == list(SETTINGS)
    for run in figures.runs:
        assert run.total.p50_ms <= run.total.p95_ms <= run.total.p99_ms
        assert {"understand", "lexical", "dense", "features", "select", "assemble"} <= set(
            run.stages
        )
        assert ("answer" in run.stages) == run.setting.answer
    rows = [line for line in table.splitlines() if line.startswith("| k = ")]
    assert [row.split(" | ")[0] for row in rows] == 2 * [
        "| k = 5",
        "| k = 100",
        "| k = 100, no answer",
    ]
    assert "3 reference questions × 2 rounds" in table and " cores." in table


@pytest.mark.slow
def test_a_small_benchmark_run_writes_its_reports(
    tmp_path: Path, ci_log: Callable[[str], None]
) -> None:
    """The CI run of the benchmark: it prints the figures and asserts no timing."""
    from qa.bench.report import format_markdown, write_reports
    from qa.bench.run import BenchConfig, run_benchmark

    # With the scale extra, the Milvus backend too (qa bench --backend milvus), on Milvus Lite.
    milvus = importlib.util.find_spec("milvus_lite") is not None
    # One small size: the generated-corpus path end to end; `qa bench` measures the larger.
    # Every ninth reference question is timed (14 of 126: timing all of them took 60 s here;
    # the test above checks the per-question figures on 3).
    questions = reference_sample(tmp_path, slice(None, None, 9))
    config = BenchConfig(
        sizes=(1000,),
        queries=50,
        out=tmp_path / "bench",
        corpus=SHIPPED_CORPUS,
        questions=questions,
        embedding_sample=16,
        backends=(Backend.EMBEDDED, Backend.MILVUS) if milvus else (Backend.EMBEDDED,),
        question_rounds=1,
    )
    paths = write_reports(run_benchmark(config), config.out)
    ci_log(format_markdown(json.loads(paths[0].read_text())))
    record = json.loads(paths[0].read_text())
    assert [r["size"] for r in record["sizes"]] == [1000]
    for result in record["sizes"]:
        assert 0.9 * result["size"] <= result["build"]["passages"] <= 1.2 * result["size"]
        assert set(result["serve"]["latency"]) == {"lexical", "dense", "hybrid"}
        assert result["serve"]["queries"] == config.queries
        assert result["lexical"]["max_difference"] < 1e-4
        if milvus:
            assert result["milvus"]["dense_kind"] == "flat (Milvus Lite)"
            assert result["milvus"]["recall_at_10"] >= 0.99  # both exact: ties may differ
    table_rows = [
        line for line in paths[1].read_text().splitlines() if re.match(r"\| [\d,]+ \|", line)
    ]
    # One build row and one serving row per size, and with Milvus a row per backend and size.
    assert len(table_rows) == (4 if milvus else 2)
    assert paths[2].read_bytes().startswith(b"\x89PNG")
    questions = record["questions"]
    assert [(r["setting"]["k"], r["setting"]["answer"]) for r in questions["runs"]] == [
        (5, True),
        (100, True),
        (100, False),
    ]
    for run in questions["runs"]:
        assert {"understand", "lexical", "dense", "features", "select", "assemble"} <= set(
            run["stages"]
        )
        assert ("answer" in run["stages"]) == run["setting"]["answer"]
    assert "one question p95 < 300 ms" in paths[1].read_text()
    options = record["model"]["options"]
    assert len(options) >= 7 and all(o["passages_per_second"] > 0 for o in options)
