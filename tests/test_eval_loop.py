"""One measurement loop: the naive anchor, the reference set and BEIR in one run and one report,
the report's new fields through JSON, and --compare across old and new reports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa import cli
from qa.evaluation import compare, suite
from qa.evaluation.anchor import Anchor, AnchorMethod
from qa.evaluation.answers import ANSWER_MODE, AnswerFigures, AnswerOutcome, AnswerSummary
from qa.evaluation.metrics import OVERALL, metric_names
from qa.evaluation.records import RecordScore
from qa.evaluation.reference import QuestionType
from qa.evaluation.render import format_run, metric_cell
from qa.evaluation.report import (
    AnchorSummary,
    EvaluationRun,
    Latency,
    LowConfidence,
    ModeSummary,
    PassageSummary,
    QuestionOutcome,
    QuestionReport,
    ReferenceReport,
    TypeSummary,
    anchor_base,
)
from qa.evaluation.report_json import read_report, write_json
from qa.index.embedders import HashingEmbedder
from qa.settings import load_settings
from qa.types import Mode

ROOT = Path(__file__).resolve().parents[1]
UNITS = [
    "Basalt lava erupts from shield volcanoes in Hawaii.",
    "Glaciers carve fjords as the ice moves towards the sea.",
    "Coral reefs bleach when the ocean warms.",
]


# --- the anchor


def test_the_anchor_ranks_by_bm25_by_cosine_and_by_their_fusion() -> None:
    anchor = Anchor.build(UNITS, HashingEmbedder())
    rankings = anchor.rankings("glaciers carving fjords", depth=2)
    assert rankings[AnchorMethod.BM25] == [1, 0]
    assert set(rankings) == set(AnchorMethod)


class FixedQuery(HashingEmbedder):
    """Embeds every question as the same vector, so cosine scores are the first column."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([[1.0, 0.0]] * len(texts), dtype=np.float32)


class FixedScores:
    def get_scores(self, terms: list[str]) -> list[float]:
        return [3.0, 2.0, 0.0]


def test_the_fusion_adds_reciprocal_ranks_and_breaks_ties_by_unit_order() -> None:
    vectors = np.array([[0.0, 0.0], [2.0, 0.0], [3.0, 0.0]], dtype=np.float32)
    rankings = Anchor(FixedScores(), vectors, FixedQuery()).rankings("any", depth=3)
    assert rankings[AnchorMethod.BM25] == [0, 1, 2]
    assert rankings[AnchorMethod.MINILM] == [2, 1, 0]
    # 1/61 + 1/63 for units 0 and 2 beats 2/62 for unit 1, ranked second by both.
    assert rankings[AnchorMethod.RRF] == [0, 2, 1]


def test_the_anchor_keeps_its_vectors_until_the_units_change(tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    first = Anchor.build(UNITS, embedder, cache=tmp_path, name="tiny")
    (kept,) = tmp_path.glob("anchor-tiny-*.npy")
    np.save(kept, np.zeros_like(first.vectors))  # a cached file is read, not recomputed
    assert not Anchor.build(UNITS, embedder, cache=tmp_path, name="tiny").vectors.any()
    Anchor.build([*UNITS, "Tides rise twice a day."], embedder, cache=tmp_path, name="tiny")
    (replaced,) = tmp_path.glob("anchor-tiny-*.npy")
    assert replaced != kept and np.load(replaced).shape[0] == 4


def test_a_ratio_is_to_the_anchor_fusion_of_the_same_group_and_absent_without_it() -> None:
    tags = (TypeSummary("judgement", 1, {"R@5": 0.8}),)
    fusion = AnchorSummary(AnchorMethod.RRF, (TypeSummary("judgement", 3, {"R@5": 0.5}),), tags)
    bm25 = AnchorSummary(AnchorMethod.BM25, (TypeSummary("judgement", 3, {"R@5": 0.25}),))
    assert metric_cell(0.6, anchor_base((bm25, fusion)), "judgement", "R@5") == "0.600 ×1.20"
    # A tag and a type may share a name: a tag's ratio is to the anchor's tag.
    assert metric_cell(0.6, anchor_base((fusion,), tags=True), "judgement", "R@5") == "0.600 ×0.75"
    assert metric_cell(0.6, anchor_base((bm25,)), "judgement", "R@5") == "0.600"
    assert metric_cell(0.6, anchor_base((fusion,)), "fact", "R@5") == "0.600"


# --- building the run


def test_a_corpus_of_several_folders_is_copied_once_and_names_must_not_clash(
    tmp_path: Path,
) -> None:
    reports, shipped = tmp_path / "reports", tmp_path / "shipped"
    for folder, name in ((reports, "50035108.pdf"), (shipped, "cabinet.txt")):
        folder.mkdir()
        (folder / name).write_text(name, encoding="utf-8")
    (shipped / ".hidden").write_text("x", encoding="utf-8")
    target = tmp_path / "corpus"
    assert suite.assemble_corpus([reports, shipped], target) == 2
    assert sorted(p.name for p in target.iterdir()) == ["50035108.pdf", "cabinet.txt"]
    assert suite.assemble_corpus([reports, shipped], target) == 0  # unchanged: nothing copied
    (shipped / "50035108.pdf").write_text("other", encoding="utf-8")
    with pytest.raises(ValueError, match=r"50035108\.pdf is in both"):
        suite.assemble_corpus([reports, shipped], target)


def test_an_absent_outside_collection_is_skipped_with_a_line(tmp_path: Path) -> None:
    plan = suite.plan_eval(load_settings(), tmp_path / "project", None, [], True, tmp_path / "work")
    assert plan.beir == ()
    assert len(plan.skipped) == 1 and "no BEIR dataset there" in plan.skipped[0]
    assert plan.questions == tmp_path / "project" / "eval" / "questions.jsonl"
    assert suite.workspace(tmp_path / "a" / "med", tmp_path).name.startswith("beir-med-")
    assert suite.workspace(tmp_path / "a" / "med", tmp_path) != suite.workspace(
        tmp_path / "b" / "med", tmp_path
    )


def write_beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    documents = [("d1", "Volcanoes", UNITS[0]), ("d2", "Glaciers", UNITS[1]), ("d3", "", UNITS[2])]
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in documents),
        encoding="utf-8",
    )
    (folder / "queries.jsonl").write_text(
        json.dumps({"_id": "q1", "text": "basalt lava Hawaii"}) + "\n", encoding="utf-8"
    )
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t1\n", encoding="utf-8"
    )
    return folder


def test_qa_eval_measures_the_reference_set_and_the_shared_beir_set_in_one_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    (project / "corpus").mkdir(parents=True)
    (project / "eval").mkdir()
    (project / "pyproject.toml").write_text("[tool.qa]\n", encoding="utf-8")
    (project / "corpus" / "lava.txt").write_text(UNITS[0] + "\n", encoding="utf-8")
    (project / "corpus" / "ice.txt").write_text(UNITS[1] + "\n", encoding="utf-8")
    question = {
        "id": "q1",
        "question": "Where does basalt lava erupt?",
        "type": "fact",
        "evidence": [{"document": "lava.txt", "quote": "shield volcanoes in Hawaii"}],
        "answer": ["Hawaii"],
    }
    (project / "eval" / "questions.jsonl").write_text(json.dumps(question) + "\n", "utf-8")
    write_beir(tmp_path / "shared" / "beir" / "med")
    monkeypatch.chdir(project)
    monkeypatch.setattr("qa.index.embedders.load_embedder", lambda *_: HashingEmbedder())
    monkeypatch.setattr("qa.index.embedders.load_query_embedder", lambda *_: HashingEmbedder())
    assert cli.main(["eval", "--model", "hashing-test", "--index", str(tmp_path / "index")]) == 0
    printed = capsys.readouterr().out
    assert "Reference set" in printed and "BEIR med (test): 1 queries" in printed
    assert printed.count("anchor rrf") == 2 and "×" in printed
    run = read_report(project / "reports" / "eval.json")
    assert [type(part).__name__ for part in run.parts] == ["ReferenceReport", "BeirReport"]
    assert all(len(part.anchor) == 3 for part in run.parts)
    reference = run.reference
    assert reference is not None and reference.answers is not None
    assert reference.questions[0].answer is not None
    markdown = (project / "reports" / "eval.md").read_text(encoding="utf-8")
    assert "## BEIR med (test)" in markdown and "### Answers" in markdown
    # Again with the outside set gone: skipped, with a line saying so.
    for path in (tmp_path / "shared" / "beir" / "med").rglob("*"):
        path.unlink() if path.is_file() else None
    assert cli.main(["eval", "--model", "hashing-test", "--index", str(tmp_path / "index")]) == 0
    assert "skipped " in capsys.readouterr().out


# --- the report file


def figures_of(value: float) -> dict[str, float]:
    return dict.fromkeys(metric_names(10), value)


def a_run() -> EvaluationRun:
    """A run with every field measured since format 2, figures exact in 4 decimals."""
    tags = (TypeSummary("lead_inspector", 1, figures_of(1.0)),)
    hybrid = ModeSummary(
        Mode.HYBRID,
        (TypeSummary("fact", 1, figures_of(1.0)), TypeSummary(OVERALL, 1, figures_of(1.0))),
        LowConfidence(0, 1, 0, 1, 0.35),
        Latency(10.0, 20.0, 2),
        tags,
    )
    outcome = QuestionOutcome(Mode.HYBRID, (1,), {"R@5": 1.0}, False, None, 0, ())
    answer = AnswerOutcome(2, "Lead inspector: Jo Smith.", True, True, True, None, (), False, True)
    figures = AnswerFigures(OVERALL, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 1)
    report = ReferenceReport(
        "2026-12-01T00:00:00+00:00",
        "eval/ilacs/questions.jsonl",
        "v1",
        "bundled",
        10,
        (hybrid,),
        (),
        (
            QuestionReport("i1", QuestionType.FACT, (outcome,), ("lead_inspector",), answer),
            QuestionReport("i2", QuestionType.UNANSWERABLE, (), ("year_without_report",), None),
        ),
        anchor=(
            AnchorSummary(AnchorMethod.RRF, (TypeSummary(OVERALL, 1, figures_of(0.5)),), tags),
        ),
        answers=AnswerSummary(ANSWER_MODE, (figures,), (figures,)),
        records=(
            RecordScore("judgements", "eval/ilacs/judgements.jsonl", 75, 70, None, 3, ("a",)),
        ),
    )
    return EvaluationRun(report.created_at, (report,), ("../shared/beir/med: absent",))


def test_the_new_fields_come_back_from_the_file_unchanged(tmp_path: Path) -> None:
    run = a_run()
    write_json(run, tmp_path / "eval.json")
    assert read_report(tmp_path / "eval.json") == run
    assert format_run(read_report(tmp_path / "eval.json")) == format_run(run)
    assert "1.000 ×2.00" in format_run(run) and "judgements: 70/75 found, 3 extra" in format_run(
        run
    )


def test_compare_sets_an_old_single_report_beside_a_new_run_part_by_part(tmp_path: Path) -> None:
    old = read_report(ROOT / "docs" / "eval-before-issue6.json")
    text = compare.format_comparison(old, a_run())
    assert "eval/ilacs/questions.jsonl:" in text
    assert "hybrid   overall" in text  # R@5 of the new run against the old one
    new_beir = EvaluationRun("now", (*a_run().parts,))
    markdown = compare.format_comparison(a_run(), new_beir, markdown=True)
    assert "answers (hybrid): first sentence holds a gold quote 100% → 100%" in markdown
    assert "records: judgements found 70/75 → 70/75" in markdown


def test_cli_compares_a_new_run_with_a_report_of_the_old_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_beir(tmp_path / "tiny")
    monkeypatch.setattr("qa.index.embedders.load_embedder", lambda *_: HashingEmbedder())
    old = ROOT / "docs" / "eval-before-issue6.json"
    arguments = ["eval", "--beir-only", "--beir", str(folder), "--model", "hashing-test"]
    assert cli.main([*arguments, "--out", str(tmp_path / "r"), "--compare", str(old)]) == 0
    assert "BEIR tiny: new" in capsys.readouterr().out
    again = [
        *arguments,
        "--out",
        str(tmp_path / "s"),
        "--compare",
        str(tmp_path / "r" / "eval.json"),
    ]
    assert cli.main(again) == 0
    assert "BEIR tiny:\nmode" in capsys.readouterr().out


def test_compare_says_for_how_many_questions_the_top_five_sources_agree() -> None:
    """As when one index version is evaluated through two search backends."""

    def run_with(second_source: str, second_start: int) -> EvaluationRun:
        report = a_run().reference
        assert report is not None
        passages = (
            PassageSummary("a.txt", "1.1", 0, "first"),
            PassageSummary(second_source, None, second_start, "second"),
        )
        questions = tuple(
            replace(
                question,
                id=name,
                outcomes=tuple(replace(o, top=passages) for o in question.outcomes),
            )
            for name in ("q1", "q2")
            for question in report.questions[:1]
        )
        return EvaluationRun("now", (replace(report, questions=questions),))

    embedded = run_with("b.txt", 100)
    same_sources = compare.top_agreement(embedded.parts[0], run_with("b.txt", 900).parts[0])
    assert same_sources == (
        "hybrid: the top 5 sources agree for 2 of 2 questions (100%); the same 5 passages for 0 (0%)"
    )
    other = compare.format_comparison(embedded, run_with("c.txt", 100))
    assert "the top 5 sources agree for 0 of 2 questions (0%)" in other
