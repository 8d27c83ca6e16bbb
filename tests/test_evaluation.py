"""The evaluation harness: reference-set validation, metrics, reports, BEIR, quality gate."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from pathlib import Path
from typing import Any

import pytest

from qa import cli
from qa.evaluation import beir, compare, markdown, metrics, reference, render, run
from qa.evaluation.answers import AnswerFigures
from qa.evaluation.metrics import OVERALL, evidence_metrics, first_cover_ranks
from qa.evaluation.reference import Evidence, Question, QuestionType
from qa.evaluation.report import (
    EvaluationRun,
    Latency,
    LowConfidence,
    ModeSummary,
    QuestionOutcome,
    QuestionReport,
    ReferenceReport,
    TypeSummary,
)
from qa.evaluation.report_json import ReportError, part_json, read_report, run_json, write_json
from qa.index.build import build_index
from qa.index.embedders import HashingEmbedder
from qa.search import Searcher
from qa.settings import Settings
from qa.types import Chunk, Mode

ROOT = Path(__file__).resolve().parents[1]


def log2_discount(rank: int) -> float:
    return 1 / math.log2(rank + 1)


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def chunk(source: str, text: str) -> Chunk:
    return Chunk(source, 0, len(text), text, None, None)


# --- reference set


def test_shipped_reference_set_is_valid() -> None:
    assert (
        reference.validate_reference_set(ROOT / "eval" / "questions.jsonl", ROOT / "corpus") == []
    )


def test_shipped_reference_set_loads_into_frozen_records() -> None:
    questions = reference.load_reference_set(ROOT / "eval" / "questions.jsonl")
    assert len(questions) == 126
    assert {q.type for q in questions} == set(QuestionType)
    assert all(q.evidence == () for q in questions if not q.answerable)
    with pytest.raises(dataclasses.FrozenInstanceError):
        questions[0].evidence[0].quote = "changed"  # type: ignore[misc]


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(
        "Annual report\n\nThe service employed 120 social\n   workers in 2023.\n\n"
        "Caseloads fell to an average of 16 children.\n",
        encoding="utf-8",
    )
    return folder


def test_broken_quote_is_reported_and_whitespace_is_collapsed(corpus: Path, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "q.jsonl",
        [
            {
                "id": "ok",
                "question": "How many?",
                "type": "number",
                "evidence": [
                    {"document": "a.txt", "quote": "employed 120 social workers in 2023."}
                ],
            },
            {
                "id": "broken",
                "question": "How many?",
                "type": "number",
                "evidence": [{"document": "a.txt", "quote": "employed 121 social workers"}],
            },
        ],
    )
    problems = reference.validate_reference_set(path, corpus)
    assert len(problems) == 1
    assert "q.jsonl:2: broken: evidence 1: quote not found in a.txt" in problems[0]


def test_every_kind_of_problem_is_reported(corpus: Path, tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    lines = [
        json.dumps(
            {
                "id": "q1",
                "question": "A?",
                "type": "fact",
                "evidence": [{"document": "a.txt", "quote": "Annual report"}],
            }
        ),
        json.dumps(
            {
                "id": "q1",
                "question": "B?",
                "type": "fact",
                "evidence": [{"document": "a.txt", "quote": "Annual report"}],
            }
        ),
        json.dumps({"id": "q3", "question": "C?", "type": "opinion", "evidence": []}),
        json.dumps(
            {
                "id": "q4",
                "question": "D?",
                "type": "unanswerable",
                "evidence": [{"document": "a.txt", "quote": "Annual report"}],
            }
        ),
        json.dumps({"id": "q5", "question": "E?", "type": "fact", "evidence": []}),
        json.dumps(
            {
                "id": "q6",
                "question": "F?",
                "type": "fact",
                "evidence": [{"document": "missing.txt", "quote": "x"}],
            }
        ),
        "{not json",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = "\n".join(reference.validate_reference_set(path, corpus))
    assert "q.jsonl:2: q1: duplicate id (first on line 1)" in problems
    assert "q3: unknown type 'opinion'" in problems
    assert "q4: an unanswerable question must have no evidence" in problems
    assert "q5: an answerable question needs at least one evidence item" in problems
    assert "q6: evidence 1: document 'missing.txt' is not a readable file" in problems
    assert "q.jsonl:7: invalid JSON" in problems
    with pytest.raises(reference.ReferenceSetError, match="duplicate id"):
        reference.load_reference_set(path)


# --- relevance rule


def test_cover_needs_same_document_and_whole_quote_modulo_whitespace() -> None:
    quote = Evidence("a.txt", "employed 120\nsocial workers")
    assert metrics.covers(chunk("a.txt", "The service employed  120 social\n workers."), quote)
    assert not metrics.covers(chunk("b.txt", "The service employed 120 social workers."), quote)
    assert not metrics.covers(chunk("a.txt", "The service employed 120 social"), quote)


def test_first_cover_rank_counts_only_the_first_of_duplicate_passages() -> None:
    passages = [
        chunk("a.txt", "nothing here"),
        chunk("a.txt", "alpha\n   beta"),
        chunk("a.txt", "alpha beta gamma"),
        chunk("b.txt", "delta"),
    ]
    evidence = [
        Evidence("a.txt", "alpha beta"),
        Evidence("b.txt", "delta"),
        Evidence("a.txt", "delta"),
    ]
    assert first_cover_ranks(passages, evidence) == (2, 4, None)


# --- metrics on hand-made rankings


def metrics_of(ranks: tuple[int | None, ...], k: int = 10) -> dict[str, float]:
    return evidence_metrics({"q": ranks}, k)["q"]


def test_one_item_found_late_is_not_promoted_to_rank_one() -> None:
    # A run of relevant docs only would put the item first: MRR 1 and R@1 1. Fillers keep it third.
    assert metrics_of((3,)) == pytest.approx(
        {"R@1": 0.0, "R@5": 1.0, "R@10": 1.0, "MRR@10": 1 / 3, "nDCG@10": log2_discount(3)}
    )


def test_items_found_apart_and_one_missed() -> None:
    ideal = log2_discount(1) + log2_discount(2) + log2_discount(3)
    assert metrics_of((1, None, 7)) == pytest.approx(
        {
            "R@1": 1 / 3,
            "R@5": 1 / 3,
            "R@10": 2 / 3,
            "MRR@10": 1.0,
            "nDCG@10": (log2_discount(1) + log2_discount(7)) / ideal,
        }
    )


def test_two_items_in_one_passage_both_count_at_its_rank_for_recall() -> None:
    # trec_eval would break the tie by doc id and count only one of them at cutoff 1.
    assert metrics_of((1, 1)) == pytest.approx(
        {"R@1": 1.0, "R@5": 1.0, "R@10": 1.0, "MRR@10": 1.0, "nDCG@10": 1.0}
    )
    shared_second = metrics_of((2, 2))
    assert shared_second["R@1"] == 0.0
    assert shared_second["MRR@10"] == pytest.approx(0.5)
    assert shared_second["nDCG@10"] == pytest.approx(
        (log2_discount(2) + log2_discount(3)) / (log2_discount(1) + log2_discount(2))
    )


def test_nothing_found_scores_zero_and_beyond_depth_counts_as_not_found() -> None:
    assert metrics_of((None, None)) == {
        "R@1": 0.0,
        "R@5": 0.0,
        "R@10": 0.0,
        "MRR@10": 0.0,
        "nDCG@10": 0.0,
    }
    assert metrics_of((11,)) == {"R@1": 0.0, "R@5": 0.0, "R@10": 0.0, "MRR@10": 0.0, "nDCG@10": 0.0}
    assert set(metrics_of((3,), k=20)) == {"R@1", "R@5", "R@20", "MRR@20", "nDCG@20"}


def test_metrics_match_textbook_formulas_on_random_rankings_without_ties() -> None:
    generator = random.Random(7)
    cases: dict[str, tuple[int | None, ...]] = {}
    for number in range(200):
        items = generator.randint(1, 5)
        sampled = generator.sample(range(1, 16), items)
        cases[f"q{number}"] = tuple(r if r <= 12 else None for r in sampled)
    computed = evidence_metrics(cases, 10)
    for qid, ranks in cases.items():
        found = [r for r in ranks if r is not None and r <= 10]
        ideal = sum(log2_discount(i) for i in range(1, min(len(ranks), 10) + 1))
        expected = {
            "R@1": sum(r <= 1 for r in found) / len(ranks),
            "R@5": sum(r <= 5 for r in found) / len(ranks),
            "R@10": len(found) / len(ranks),
            "MRR@10": 1 / min(found) if found else 0.0,
            "nDCG@10": sum(log2_discount(r) for r in found) / ideal,
        }
        assert computed[qid] == pytest.approx(expected), (qid, ranks)


def test_discovery_run_places_items_at_passage_ranks_with_strictly_falling_scores() -> None:
    run = metrics.discovery_run((3, 1, 1, None), k=5)
    assert sorted(run, key=run.__getitem__, reverse=True) == ["e1", "e2", "e0", "p4", "p5"]
    assert len(set(run.values())) == len(run)


def test_means_by_type_and_overall() -> None:
    per_question = {"a": {"R@5": 1.0}, "b": {"R@5": 0.0}, "c": {"R@5": 0.5}}
    means = metrics.mean_by_group(
        per_question, {"a": "fact", "b": "fact", "c": "list"}, ["fact", "list", "number"]
    )
    assert means == {"fact": {"R@5": 0.5}, "list": {"R@5": 0.5}, "overall": {"R@5": 0.5}}


def test_latency_percentiles() -> None:
    latency = Latency.of([0.001 * n for n in range(1, 101)])
    assert latency.median_ms == pytest.approx(50.5)
    assert latency.p95_ms == pytest.approx(95.05)
    assert latency.queries == 100


def test_low_confidence_counts_and_lexical_has_none() -> None:
    answerable = Question("a", "A?", QuestionType.FACT, (Evidence("a.txt", "x"),))
    unanswerable = Question("u", "U?", QuestionType.UNANSWERABLE, ())

    def result(question: Question, flagged: bool, mode: Mode) -> run.QuestionResult:
        metrics = evidence_metrics({"a": (1,)}, 10)["a"] if question.answerable else {}
        return run.QuestionResult(
            question,
            mode,
            (1,) if question.answerable else (),
            (),
            flagged,
            0.2 if flagged else 0.6,
            0.01,
            metrics,
        )

    results = [
        result(unanswerable, True, Mode.DENSE),
        result(answerable, True, Mode.DENSE),
        result(answerable, False, Mode.DENSE),
    ]
    summary = run.summarise(Mode.DENSE, results, threshold=0.35)
    assert summary.low_confidence is not None
    assert (summary.low_confidence.unanswerable_rate, summary.low_confidence.answerable_rate) == (
        1.0,
        0.5,
    )
    assert summary.metrics["overall"]["R@1"] == 1.0
    assert run.summarise(Mode.LEXICAL, results, threshold=0.35).low_confidence is None


# --- end to end with a fake model


QUESTIONS: list[dict[str, Any]] = [
    {
        "id": "q1",
        "question": "How many social workers were employed?",
        "type": "number",
        "evidence": [{"document": "workforce.txt", "quote": "employed 120 social workers"}],
    },
    {
        "id": "q2",
        "question": "What happened to caseloads?",
        "type": "fact",
        "evidence": [
            {"document": "caseloads.txt", "quote": "Caseloads fell to an average of 16 children"}
        ],
    },
    {
        "id": "q3",
        "question": "Workers and caseloads",
        "type": "cross_document",
        "evidence": [
            {"document": "workforce.txt", "quote": "employed 120 social workers"},
            {"document": "caseloads.txt", "quote": "Caseloads fell to an average of 16 children"},
        ],
    },
    {
        "id": "q4",
        "question": "Which football team won the league?",
        "type": "unanswerable",
        "evidence": [],
    },
]


@pytest.fixture()
def project(tmp_path: Path) -> tuple[Settings, Path]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "workforce.txt").write_text(
        "Workforce\n\nIn 2023 the service employed 120 social workers, most of them permanent.\n",
        encoding="utf-8",
    )
    (corpus / "caseloads.txt").write_text(
        "Caseloads\n\nCaseloads fell to an average of 16 children per worker.\n", encoding="utf-8"
    )
    (corpus / "budget.txt").write_text(
        "Budget\n\nThe budget rose by 3 million pounds.\n", encoding="utf-8"
    )
    settings = Settings(corpus=corpus, index=tmp_path / "index", model="hashing-test")
    build_index(settings, HashingEmbedder())
    return settings, write_jsonl(tmp_path / "questions.jsonl", QUESTIONS)


def test_evaluate_writes_json_markdown_and_chart(
    project: tuple[Settings, Path], tmp_path: Path
) -> None:
    settings, questions_path = project
    assert reference.validate_reference_set(questions_path, settings.corpus) == []
    searcher = Searcher.open(settings, HashingEmbedder())
    questions = reference.load_reference_set(questions_path)
    report = run.evaluate(searcher, questions, k=10)
    record = part_json(report)
    assert set(record["modes"]) == {"lexical", "dense", "hybrid"}
    lexical = record["modes"]["lexical"]
    assert lexical["questions"] == {"number": 1, "fact": 1, "cross_document": 1, "overall": 3}
    assert (
        lexical["metrics"]["overall"]["R@10"] == 1.0
    )  # three documents: everything is in the top 10
    assert lexical["low_confidence"] is None
    assert record["modes"]["hybrid"]["low_confidence"]["unanswerable"] == 1
    assert record["questions"]["q3"]["modes"]["lexical"]["ranks"][0] is not None

    paths = markdown.write_reports(EvaluationRun("now", (report,)), questions, tmp_path / "out")
    assert [p.name for p in paths] == ["eval.json", "eval.png", "eval.md"]
    assert paths[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = paths[2].read_text(encoding="utf-8")
    assert "| hybrid | **overall** | 3 |" in text and "![" in text
    assert json.loads(paths[0].read_text(encoding="utf-8"))["parts"][0]["k"] == 10
    assert "R@1" in render.format_table(report).splitlines()[0]


def test_failures_list_missed_quotes_and_top_passages(project: tuple[Settings, Path]) -> None:
    settings, _ = project
    searcher = Searcher.open(settings, HashingEmbedder())
    irrelevant = Question(
        "q8", "budget", QuestionType.FACT, (Evidence("budget.txt", "not in the corpus at all"),)
    )
    report = run.evaluate(searcher, [irrelevant], k=5, modes=(Mode.LEXICAL,))
    text = render.format_failures(report, [irrelevant])
    assert "q8 (fact) missed by lexical: budget" in text
    assert "budget.txt: “not in the corpus at all”" in text
    assert "1. budget.txt: Budget The budget rose by 3 million pounds." in text
    assert report.unreachable == ("q8: budget.txt: 'not in the corpus at all'",)


# --- report files


def test_a_report_read_back_from_its_file_keeps_every_figure_and_prints_the_same_table(
    project: tuple[Settings, Path], tmp_path: Path
) -> None:
    settings, questions_path = project
    searcher = Searcher.open(settings, HashingEmbedder())
    report = run.evaluate(searcher, reference.load_reference_set(questions_path), k=10)
    path = tmp_path / "eval.json"
    write_json(EvaluationRun("now", (report,)), path)
    (read,) = read_report(path).parts
    assert isinstance(read, ReferenceReport)
    assert (
        run_json(EvaluationRun("now", (read,)))
        == run_json(EvaluationRun("now", (report,)))
        == json.loads(path.read_text("utf-8"))
    )
    assert render.format_table(read) == render.format_table(report)
    assert [s.mode for s in read.modes] == [Mode.LEXICAL, Mode.DENSE, Mode.HYBRID]
    assert read.questions[2].outcome(Mode.LEXICAL) == report.questions[2].outcome(Mode.LEXICAL)
    assert compare.compare_reports(read, report) and all(
        d.change == pytest.approx(0) for d in compare.compare_reports(read, report)
    )


def test_the_report_of_before_time_aware_selection_still_loads_for_compare() -> None:
    path = ROOT / "docs" / "eval-before-issue6.json"
    (old,) = read_report(path).parts
    assert isinstance(old, ReferenceReport) and old.k == 10 and len(old.questions) == 81
    hybrid = {s.mode: s for s in old.modes}[Mode.HYBRID]
    assert hybrid.metrics["cross_document"]["R@5"] == pytest.approx(0.8333)
    assert hybrid.low_confidence is not None and hybrid.low_confidence.unanswerable == 14
    assert {"format": 1, **part_json(old)} == json.loads(path.read_text(encoding="utf-8"))


def test_a_damaged_report_names_the_file_and_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    record = json.loads((ROOT / "docs" / "eval-before-issue6.json").read_text(encoding="utf-8"))
    del record["modes"]["hybrid"]["latency_ms"]["p95"]
    record["questions"]["q001"]["modes"]["dense"]["ranks"] = ["first"]
    damaged = tmp_path / "damaged.json"
    damaged.write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(ReportError, match=r"damaged.json: field 'modes.hybrid.latency_ms.p95'"):
        read_report(damaged)
    record["modes"]["hybrid"]["latency_ms"]["p95"] = 9.0
    damaged.write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(ReportError, match=r"'questions.q001.modes.dense.ranks' must be a list"):
        read_report(damaged)
    damaged.write_text(json.dumps({**record, "kind": "survey"}), encoding="utf-8")
    with pytest.raises(ReportError, match="field 'kind' must be 'reference' or 'beir'"):
        read_report(damaged)
    damaged.write_text("not json", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["eval", "--compare", str(damaged)]) == 2
    assert f"cannot read report {damaged}" in capsys.readouterr().err


def test_compare_reports_gives_new_minus_old_and_changed_questions() -> None:
    def record(r5: float, missed: int) -> ReferenceReport:
        hybrid = ModeSummary(
            Mode.HYBRID,
            (TypeSummary(OVERALL, 1, {"R@5": r5, "MRR@10": 0.5}),),
            LowConfidence(1, 2, 1, 10, threshold=0.35),
            Latency(10.0, 20.0, 1),
        )
        outcome = QuestionOutcome(Mode.HYBRID, (1,), {}, False, None, missed, ())
        question = QuestionReport("q1", QuestionType.FACT, (outcome,))
        return ReferenceReport("then", "q.jsonl", "v1", "model", 10, (hybrid,), (), (question,))

    old, new = record(0.70, 1), record(0.75, 0)
    changes = {(d.group, d.metric): d.change for d in compare.compare_reports(old, new)}
    assert changes[("overall", "R@5")] == pytest.approx(0.05)
    assert changes[("overall", "MRR@10")] == 0.0
    assert compare.changed_questions(old, new) == {"hybrid": ([], ["q1"])}
    runs = EvaluationRun("then", (old,)), EvaluationRun("now", (new,))
    text = compare.format_comparison(*runs)
    assert "+0.050" in text and "newly passing q1" in text
    assert "| hybrid | overall | +0.050 | 0 |" in compare.format_comparison(*runs, markdown=True)


def test_cli_eval_writes_reports_and_compares(
    project: tuple[Settings, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings, questions_path = project
    monkeypatch.setattr("qa.index.embedders.load_embedder", lambda *_: HashingEmbedder())
    arguments = [
        "eval",
        "--corpus",
        str(settings.corpus),
        "--index",
        str(settings.index),
        "--model",
        "hashing-test",
        "--questions",
        str(questions_path),
        "--out",
        str(tmp_path / "r"),
        "--no-beir",
    ]
    assert cli.main(arguments) == 0
    first = capsys.readouterr().out
    assert "\nhybrid        overall " in first and "eval.png" in first
    assert "anchor rrf" in first and "answers (hybrid)" in first
    assert cli.main([*arguments, "--compare", str(tmp_path / "r" / "eval.json"), "--verbose"]) == 0
    assert "Change against the report of" in capsys.readouterr().out
    assert "## Change against an earlier report" in (tmp_path / "r" / "eval.md").read_text(
        encoding="utf-8"
    )

    broken = write_jsonl(
        tmp_path / "broken.jsonl",
        [
            {
                **QUESTIONS[0],
                "evidence": [{"document": "workforce.txt", "quote": "employed 999 social workers"}],
            }
        ],
    )
    assert cli.main([*arguments[:-5], "--no-beir", "--questions", str(broken)]) == 2
    assert "quote not found" in capsys.readouterr().err


# --- BEIR


def write_beir(folder: Path) -> Path:
    folder.mkdir()
    documents = [
        ("d1", "Volcanoes", "Basalt lava erupts from shield volcanoes in Hawaii."),
        ("d2", "Glaciers", "Glaciers carve fjords as the ice moves towards the sea."),
        ("d3", "Coral", "Coral reefs bleach when the ocean warms."),
        ("d4", "Deserts", "Sand dunes migrate with the prevailing wind."),
        ("d/5", "Rivers", "Meandering rivers deposit silt on floodplains; the sea is far."),
        (".d6", "Caves", "Stalactites grow from dripping limestone water."),
        ("d7", "", "Tides rise and fall twice a day."),
    ]
    write_jsonl(
        folder / "corpus.jsonl", [{"_id": i, "title": t, "text": x} for i, t, x in documents]
    )
    write_jsonl(
        folder / "queries.jsonl",
        [
            {"_id": "q1", "text": "basalt lava shield Hawaii"},
            {"_id": "q2", "text": "stalactites dripping limestone"},
            {"_id": "q3", "text": "sea"},
            {"_id": "q4", "text": "not judged"},
        ],
    )
    (folder / "qrels").mkdir()
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\t.d6\t1\nq3\td2\t2\nq3\td/5\t1\nq3\td4\t1\n",
        encoding="utf-8",
    )
    return folder


def test_beir_loader_keeps_judged_queries_and_rejects_bad_header(tmp_path: Path) -> None:
    dataset = beir.load_beir(write_beir(tmp_path / "tiny"))
    assert dataset.name == "tiny" and len(dataset.documents) == 7
    assert set(dataset.queries) == {"q1", "q2", "q3"}
    assert dataset.qrels["q3"] == {"d2": 2, "d/5": 1, "d4": 1}
    (tmp_path / "tiny" / "qrels" / "test.tsv").write_text("q1\td1\t1\n", encoding="utf-8")
    with pytest.raises(beir.BeirError, match="header"):
        beir.load_beir(tmp_path / "tiny")


def test_beir_file_names_are_safe_and_runs_rank_documents_by_first_passage() -> None:
    assert beir.file_name("d/5") == "d-d%2F5.txt" and not beir.file_name(".d6").startswith(".")
    run = beir.document_run(["B", "q1", "B", "A", None], "q1", depth=100)
    assert sorted(run, key=run.__getitem__, reverse=True) == ["B", "A"]
    assert beir.document_run(["A", "B"], "q9", depth=1) == {"A": 1.0}


def test_beir_harness_on_a_tiny_dataset(tmp_path: Path) -> None:
    dataset = beir.load_beir(write_beir(tmp_path / "tiny"))
    settings = Settings(model="hashing-test")
    workspace = tmp_path / "tiny" / ".qa-index"
    report = beir.evaluate_beir(dataset, settings, HashingEmbedder(), workspace)
    assert (report.documents, report.indexed_documents, report.queries) == (7, 7, 3)
    modes = {m.mode: m for m in report.modes}
    assert set(modes) == {"lexical", "dense", "hybrid"}
    lexical = report.per_query[Mode.LEXICAL]
    # q1 and q2 use words found only in their relevant document: ranked first.
    for qid in ("q1", "q2"):
        assert lexical[qid] == {"nDCG@10": 1.0, "R@10": 1.0, "R@100": 1.0, "MRR@10": 1.0}
    # q3 ("sea") finds d2 and d/5 but never d4: recall 2/3 (4 decimals, as published), nDCG < 1.
    assert lexical["q3"]["R@100"] == pytest.approx(2 / 3, abs=1e-4)
    assert 0 < lexical["q3"]["nDCG@10"] < 1
    for mode in modes.values():
        assert all(0.0 <= v <= 1.0 for v in mode.metrics[OVERALL].values())
        assert mode.metrics[OVERALL]["R@10"] <= mode.metrics[OVERALL]["R@100"]

    paths = markdown.write_reports(EvaluationRun("now", (report,)), (), tmp_path / "out")
    assert [p.name for p in paths] == ["eval.json", "eval.md"]
    assert "| lexical |" in paths[1].read_text(encoding="utf-8")
    assert "nDCG@10" in render.format_run(EvaluationRun("now", (report,)))
    assert read_report(paths[0]).parts == (report,)  # no similarity kept: read back whole
    # A second run reuses the index and gives the same numbers.
    again = beir.evaluate_beir(dataset, settings, HashingEmbedder(), workspace)
    assert [m.metrics for m in again.modes] == [m.metrics for m in report.modes]


def test_cli_eval_beir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_beir(tmp_path / "tiny")
    monkeypatch.setattr("qa.index.embedders.load_embedder", lambda *_: HashingEmbedder())
    out = tmp_path / "r"
    only = ["eval", "--beir-only", "--model", "hashing-test", "--out", str(out)]
    assert cli.main([*only, "--beir", str(folder)]) == 0
    printed = capsys.readouterr().out
    assert "BEIR tiny (test): 3 queries, 7/7 documents" in printed
    assert "Reference set" not in printed and "BEIR med" not in printed
    (workspace,) = (out / "work").glob("beir-tiny-*")
    assert (workspace / "index" / "CURRENT").is_file()
    assert not (folder / ".qa-index").exists()  # the dataset's folder is never written to
    assert (out / "eval.json").is_file() and not (out / "eval.png").exists()
    assert cli.main([*only, "--beir", str(tmp_path / "nothing")]) == 2
    assert "corpus.jsonl is missing" in capsys.readouterr().err


# --- quality gate (real model)

# Hybrid recall@5 over the 99 answerable questions of eval/questions.jsonl (126 questions
# since 2026-12-01, when judgement, current and recommendation questions were added),
# measured with `qa eval` (bundled all-MiniLM-L6-v2, chunk size 1000 / overlap 150, chunker 2,
# weighted fusion 0.5, time-aware selection with side quota 3): hybrid 0.857 since evidence
# items count as covered by their alternatives (0.801 before), 0.923 since the organisation
# boost, chunk context and the current-rating questions' alternatives (the anchor: 0.739),
# 0.953 on 2026-12-02 since grade and role-holder questions lift the passages that answer
# them ("Is it still rated inadequate?", "Which Ofsted inspector led ...?").
# On the 67 questions the set held before, hybrid was 0.893. The gate allows 0.03 below it.
HYBRID_RECALL_AT_5 = 0.953
TOLERANCE = 0.03
# Per question type: no type may fall more than TOLERANCE below these, and questions across
# reports and years must reach 0.9. The first five are the figures before time-aware
# selection (docs/eval-before-issue6.json); the last three were measured on 2026-12-01 with
# alternatives counted.
BEFORE_TIME_AWARE = {
    "fact": 0.769, "number": 1.0, "list": 0.727, "paraphrase": 0.929, "cross_document": 0.833,
    "judgement": 0.679, "current": 0.889, "recommendation": 0.833,
}  # fmt: skip
CROSS_DOCUMENT_TARGET = 0.9
# The answers in hybrid mode (qa.evaluation.answers), measured on 2026-12-02: the share of
# the 99 answerable questions whose first sentence (77) and some sentence (91) holds a gold
# quote, of the 126 questions whose answer is right (101), and of the 27 unanswerable ones
# flagged (24, with no answerable one flagged). Issue 16's targets are below.
ANSWER_FIRST_QUOTE = 77 / 99
ANSWER_ANY_QUOTE = 91 / 99
ANSWER_RIGHT = 101 / 126
ANSWER_FLAGGED = 24 / 27
ANSWER_FALSELY_FLAGGED = 0.03  # issue 16's ceiling, of the answerable questions
# Records against eval/recommendations.jsonl (8 items, all found, 8 statuses right since
# items are repeated in part) and eval/judgements.jsonl (14 of 16 grades found), measured on
# 2026-12-01.
RECOMMENDATION_STATUS_RIGHT = 8
JUDGEMENTS_FOUND = 14


@pytest.fixture(scope="module")
def real_report(tmp_path_factory: pytest.TempPathFactory) -> ReferenceReport:
    """Default settings on the shipped corpus: the project index if current, else a fresh one.

    Readiness is judged with the encoder questions go through (the build's INT8 export when
    there is one), as ``qa ask`` judges it: the full model would call an exported index
    incompatible."""
    from qa.index import lifecycle
    from qa.index.embedders import load_embedder, load_query_embedder

    settings = Settings(corpus=ROOT / "corpus", index=ROOT / "index")
    asking = load_query_embedder(settings.model, settings.index, settings.batch_size)
    if lifecycle.status(settings, asking).state is not lifecycle.IndexState.READY:
        settings = settings.replace(index=tmp_path_factory.mktemp("gate") / "index")
        build_index(settings, load_embedder(settings.model, settings.batch_size))
    searcher = Searcher.open(settings)
    questions = reference.load_reference_set(ROOT / "eval" / "questions.jsonl")
    return run.evaluate(searcher, questions, k=10, gold=ROOT / "eval")


@pytest.fixture(scope="module")
def real_summaries(real_report: ReferenceReport) -> dict[str, ModeSummary]:
    return {s.mode: s for s in real_report.modes}


@pytest.mark.slow
def test_gate_hybrid_recall_at_5_has_not_dropped(
    real_summaries: dict[str, ModeSummary],
) -> None:
    hybrid = real_summaries["hybrid"].metrics["overall"]["R@5"]
    assert hybrid >= HYBRID_RECALL_AT_5 - TOLERANCE, f"hybrid recall@5 {hybrid:.3f}"


@pytest.mark.slow
def test_gate_questions_across_years_reach_target_and_no_type_drops(
    real_summaries: dict[str, ModeSummary],
) -> None:
    by_type = {t: m["R@5"] for t, m in real_summaries["hybrid"].metrics.items() if t != "overall"}
    assert by_type["cross_document"] >= CROSS_DOCUMENT_TARGET, by_type
    for kind, before in BEFORE_TIME_AWARE.items():
        assert by_type[kind] >= before - TOLERANCE, (kind, by_type)


@pytest.mark.slow
def test_gate_hybrid_recall_at_5_beats_each_single_mode(
    real_summaries: dict[str, ModeSummary],
) -> None:
    recall = {mode: s.metrics["overall"]["R@5"] for mode, s in real_summaries.items()}
    assert recall["hybrid"] >= recall["lexical"], recall
    assert recall["hybrid"] >= recall["dense"], recall


def overall_answers(report: ReferenceReport) -> AnswerFigures:
    assert report.answers is not None
    return next(f for f in report.answers.types if f.group == OVERALL)


@pytest.mark.slow
def test_gate_answers_hold_the_evidence_no_less_often(real_report: ReferenceReport) -> None:
    figures = overall_answers(real_report)
    assert figures.first_quote / figures.answerable >= ANSWER_FIRST_QUOTE - TOLERANCE, figures
    assert figures.any_quote / figures.answerable >= ANSWER_ANY_QUOTE - TOLERANCE, figures
    assert figures.right / figures.questions >= ANSWER_RIGHT - TOLERANCE, figures
    assert figures.flagged / figures.unanswerable >= ANSWER_FLAGGED - TOLERANCE, figures
    assert figures.falsely_flagged <= ANSWER_FALSELY_FLAGGED * figures.answerable, figures
    scores = {score.kind: score for score in real_report.records}
    recommendations, judgements = scores["recommendations"], scores["judgements"]
    assert recommendations.found == recommendations.gold, recommendations
    assert (recommendations.status_right or 0) >= RECOMMENDATION_STATUS_RIGHT, recommendations
    assert judgements.found >= JUDGEMENTS_FOUND, judgements


@pytest.mark.slow
def test_issue_16_targets_answers_hold_a_gold_quote_and_unanswerable_questions_are_flagged(
    real_report: ReferenceReport,
) -> None:
    """Issue 16's acceptance on the reference set: a gold quote in at least 90% of the
    answers, 12 of 14 unanswerable questions flagged (the same share of the 27 now) with at
    most 3% of answerable ones falsely flagged, a sentence per period in every comparison and
    every judgement question right (91/99, 24/27, 0/99, 12/12 and 14/14 on 2026-12-02)."""
    assert real_report.answers is not None
    figures = overall_answers(real_report)
    assert figures.any_quote / figures.answerable >= 0.9, figures
    assert figures.flagged / figures.unanswerable >= 12 / 14, figures
    assert figures.falsely_flagged <= 0.03 * figures.answerable, figures
    assert figures.periods_complete == figures.comparisons, figures
    judgement = next(f for f in real_report.answers.types if f.group == "judgement")
    assert judgement.right == judgement.questions, judgement
