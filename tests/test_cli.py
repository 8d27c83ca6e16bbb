"""The ``qa`` command run in-process, with the hashing embedder standing in for the model."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

import qa.index.embedders
import qa.search
from qa.cli import main
from qa.corpus import load_corpus
from qa.index.embedders import HashingEmbedder

from .conftest import make_pdf, rewrite_manifest, write_corpus

PASSAGE_TYPES: dict[str, tuple[type, ...]] = {
    "rank": (int,),
    "source": (str,),
    "title": (str,),
    "date": (str, type(None)),
    "section": (str, type(None)),
    "paragraph": (str, type(None)),
    "start": (int,),
    "end": (int,),
    "text": (str,),
    "score": (float,),
    "bm25_rank": (int, type(None)),
    "dense_rank": (int, type(None)),
}


def json_lines(output: str) -> list[dict[str, Any]]:
    lines = [line for line in output.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


def check_record(record: dict[str, Any], corpus: Path) -> None:
    """Every field of the documented schema, with its type, and text == document text[start:end]."""
    assert isinstance(record["question"], str)
    assert type(record["low_confidence"]) is bool
    assert isinstance(record["passages"], list) and record["passages"]
    documents = {d.source: d for d in load_corpus(corpus).documents}
    for rank, passage in enumerate(record["passages"], start=1):
        for field, types in PASSAGE_TYPES.items():
            assert field in passage, field
            value = passage[field]
            assert type(value) in types, f"{field} = {value!r}"
        assert passage["rank"] == rank
        assert passage["source"] in documents, "source is the path relative to the corpus folder"
        assert not Path(passage["source"]).is_absolute()
        document = documents[passage["source"]]
        assert passage["text"] == document.text[passage["start"] : passage["end"]]
        assert passage["title"] == document.title
        assert passage["date"] == document.date


def test_ask_without_an_index_builds_it_first(
    cli: list[str], tiny_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "--json", "knife crime youth offending", *cli]) == 0
    out, err = capsys.readouterr()
    assert "no index yet" in err
    (record,) = json_lines(out)
    check_record(record, tiny_corpus)
    assert record["question"] == "knife crime youth offending"
    assert record["passages"][0]["source"] == "reports/youth.txt"  # relative, POSIX separators
    assert (Path(cli[3]) / "CURRENT").is_file()


def test_index_then_ask_json(
    cli: list[str], tiny_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index", *cli]) == 0
    out, _ = capsys.readouterr()
    assert "Rebuilt index: 3 documents" in out
    assert main(["ask", "--json", "-k", "2", "foster carers allowance", *cli]) == 0
    out, err = capsys.readouterr()
    assert "building" not in err
    (record,) = json_lines(out)
    check_record(record, tiny_corpus)
    assert len(record["passages"]) == 2
    assert record["passages"][0]["source"] == "fostering.md"


def test_verbose_ask_times_every_stage_of_the_question_path(
    cli: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "-v", "adoption panel approved adopters", *cli]) == 0
    err = capsys.readouterr().err
    timing = next(line for line in err.splitlines() if line.startswith("timing: understand"))
    stages = [part.split()[0] for part in timing.removeprefix("timing: ").split(", ")]
    assert stages == [
        "understand",
        "lexical",
        "dense",
        "fusion",
        "features",
        "select",
        "assemble",
        "answer",
    ]


def test_no_answer_gives_the_same_passages_without_an_answer(
    cli: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    question = ["-k", "3", "adoption panel approved adopters"]
    assert main(["ask", "--json", *question, *cli]) == 0
    answered = json_lines(capsys.readouterr().out)[0]
    assert main(["ask", "--json", "--no-answer", *question, *cli]) == 0
    passages_only = json_lines(capsys.readouterr().out)[0]
    assert answered["answer"]["sentences"]
    assert passages_only["passages"] == answered["passages"]
    assert passages_only["answer"] == {"statement": "", "text": "", "sentences": []}
    assert main(["ask", "--no-answer", *question, *cli]) == 0
    printed = capsys.readouterr().out
    assert "Answer:" not in printed
    assert "The adoption panel met eleven times" in printed


def test_questions_file_of_plain_lines(
    cli: list[str], tmp_path: Path, tiny_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = tmp_path / "questions.txt"
    questions.write_text(
        "adoption panel adopters\n\nfoster carers allowance\n  knife crime  \n", encoding="utf-8"
    )
    assert main(["ask", "--json", "--questions", str(questions), *cli]) == 0
    records = json_lines(capsys.readouterr().out)
    assert [r["question"] for r in records] == [
        "adoption panel adopters",
        "foster carers allowance",
        "knife crime",
    ]
    for record in records:
        check_record(record, tiny_corpus)
    assert [r["passages"][0]["source"] for r in records] == [
        "adoption.txt",
        "fostering.md",
        "reports/youth.txt",
    ]


def test_questions_file_of_jsonl(
    cli: list[str], tmp_path: Path, tiny_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        '{"id": "q1", "question": "knife crime youth offending"}\n'
        '{"id": "q2", "question": "weekly fostering allowance", "type": "fact"}\n',
        encoding="utf-8",
    )
    assert main(["ask", "--json", "--questions", str(questions), *cli]) == 0
    out = capsys.readouterr().out
    assert len(out.strip().split("\n")) == 2  # one JSON object per line
    records = json_lines(out)
    assert [r["question"] for r in records] == [
        "knife crime youth offending",
        "weekly fostering allowance",
    ]
    for record in records:
        check_record(record, tiny_corpus)


def test_invalid_jsonl_line_is_reported_with_its_line_number(
    cli: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = tmp_path / "questions.jsonl"
    questions.write_text('{"question": "fine"}\n{"question": 3}\n', encoding="utf-8")
    assert main(["ask", "--json", "--questions", str(questions), *cli]) == 2
    assert "questions.jsonl:2" in capsys.readouterr().err


def test_ask_needs_exactly_one_source_of_questions(
    cli: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", *cli]) == 2
    assert "give either a question or --questions" in capsys.readouterr().err
    questions = tmp_path / "q.txt"
    questions.write_text("adoption\n", encoding="utf-8")
    assert main(["ask", "adoption", "--questions", str(questions), *cli]) == 2


@pytest.mark.parametrize("question", ["", "   ", "\t\n"])
def test_a_blank_question_is_a_usage_error_whatever_its_spaces(
    cli: list[str], question: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", *cli, question]) == 2
    assert "the question is empty" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["index"], ["ask", "adoption"], ["recommendations"]])
def test_a_missing_corpus_is_reported_before_the_model_loads(
    cli: list[str],
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def no_model(*args: Any, **kwargs: Any) -> HashingEmbedder:
        raise AssertionError("the model was loaded for a corpus that does not exist")

    monkeypatch.setattr(qa.index.embedders, "load_embedder", no_model)
    monkeypatch.setattr(qa.index.embedders, "load_query_embedder", no_model)
    flags = [*cli]
    flags[flags.index("--corpus") + 1] = str(tmp_path / "nonexistent")
    assert main([command[0], *flags, *command[1:]]) == 2
    assert f"corpus folder {tmp_path / 'nonexistent'} does not exist" in capsys.readouterr().err


def test_text_output_is_readable(cli: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "-k", "1", "knife crime youth offending", *cli]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Question: knife crime youth offending")
    assert "[1] Youth Offending Service Review" in out
    assert "Knife crime among young people rose" in out


def test_stale_index_is_updated_before_answering(
    cli: list[str], tiny_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index", *cli]) == 0
    write_corpus(
        tiny_corpus,
        {"respite.txt": "Short Breaks Review\n\nRespite care was given to 240 families.\n"},
    )
    capsys.readouterr()
    assert main(["ask", "--json", "respite care families", *cli]) == 0
    out, err = capsys.readouterr()
    assert "1 added (respite.txt)" in err
    assert json_lines(out)[0]["passages"][0]["source"] == "respite.txt"


def test_no_update_refuses_a_stale_index(
    cli: list[str], tiny_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index", *cli]) == 0
    (tiny_corpus / "adoption.txt").write_text(
        "Adoption Panel\n\nNow meets monthly.\n", encoding="utf-8"
    )
    capsys.readouterr()
    assert main(["ask", "--no-update", "adoption", *cli]) == 2
    err = capsys.readouterr().err
    assert "1 changed (adoption.txt)" in err
    assert "qa index" in err


def test_an_index_of_an_older_format_is_rebuilt_before_answering(
    cli: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index", *cli]) == 0
    rewrite_manifest(
        tmp_path / "index", lambda manifest: manifest.update(format_version=1), checksum=False
    )
    capsys.readouterr()
    assert main(["ask", "--json", "adoption panel", *cli]) == 0
    out, err = capsys.readouterr()
    assert "unsupported index format 1" in err
    assert "building the index" in err
    assert json_lines(out)[0]["passages"][0]["source"] == "adoption.txt"


def test_verify_reads_every_byte_and_names_an_altered_file(
    cli: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index", *cli]) == 0
    capsys.readouterr()
    assert main(["index", "--verify", *cli]) == 0
    assert "is intact" in capsys.readouterr().out
    texts = next((tmp_path / "index").glob("v-*/texts.txt"))
    data = texts.read_bytes()
    texts.write_bytes(data[:-1] + b"#")
    assert main(["index", "--verify", *cli]) == 2
    err = capsys.readouterr().err
    assert "texts.txt was altered" in err
    assert "qa index --rebuild" in err


def test_filters_by_document_and_year(
    cli: list[str], tiny_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_corpus(tiny_corpus, {"fostering.md.meta.json": '{"date": "2022-01"}'})
    assert main(["ask", "--json", "--document", "fostering.md", "knife crime", *cli]) == 0
    record = json_lines(capsys.readouterr().out)[0]
    assert {p["source"] for p in record["passages"]} == {"fostering.md"}
    assert main(["ask", "--json", "--year-from", "2022", "adoption youth fostering", *cli]) == 0
    record = json_lines(capsys.readouterr().out)[0]
    assert {p["source"] for p in record["passages"]} == {"fostering.md"}


def test_index_reports_skipped_files(
    cli: list[str], tiny_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_corpus(tiny_corpus, {"broken.txt": b"\x00\x01binary\x00" * 30})
    assert main(["index", *cli]) == 0
    out, err = capsys.readouterr()
    assert "skipped broken.txt: binary data, not text" in err
    assert "3 documents" in out


def test_index_accounts_for_each_file_it_reads_with_pages_and_passages(
    cli: list[str], tiny_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_pdf(tiny_corpus / "report.pdf", [["Respite care for families."], ["Short breaks."]])
    write_corpus(tiny_corpus, {"broken.pdf": b"%PDF-1.4 not really"})
    assert main(["index", *cli]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert "read report.pdf (2 pages, 1 passage)" in lines
    assert any(line.startswith("read adoption.txt (") for line in lines)
    assert "skipped broken.pdf: " in err and "Reading" in err
    assert lines[-1].startswith("Rebuilt index: 4 documents")
    # An unchanged corpus reads nothing again.
    assert main(["index", *cli]) == 0
    assert capsys.readouterr().out.startswith("Index is up to date")


def test_interrupted_index_says_the_previous_index_is_unchanged(
    cli: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import qa.index.build

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(qa.index.build, "build_index", interrupted)
    assert main(["index", *cli]) == 130
    assert "previous index is unchanged" in capsys.readouterr().err


def test_bad_setting_is_reported_not_raised(
    cli: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index", *cli[:4], "--chunk-size", "50"]) == 2
    assert "chunk_size must be at least 200" in capsys.readouterr().err


@pytest.mark.slow
def test_index_output_shows_no_third_party_progress_bars(tiny_corpus: Path, tmp_path: Path) -> None:
    """The model's own "Loading weights" bar used to land in the middle of `qa index` output."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    done = subprocess.run(
        [sys.executable, "-m", "qa.cli", "index", "--corpus", str(tiny_corpus), "--index", "index"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    assert "Loading weights" not in done.stderr
    assert done.stdout.splitlines()[-1].startswith("Rebuilt index: 3 documents")
    assert [line for line in done.stderr.splitlines() if line.strip() and "%|" not in line] == []


def test_organisation_flag_keeps_one_councils_passages(
    cli: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from .test_search import COUNCILS

    flags = [*cli]
    flags[flags.index("--corpus") + 1] = str(write_corpus(tmp_path / "councils", COUNCILS))
    question = "care leavers accommodation"
    assert (
        main(["ask", *flags, "--json", "--organisation", "London Borough of Sutton", question]) == 0
    )
    record = json_lines(capsys.readouterr().out)[0]
    assert record["passages"] and {p["source"] for p in record["passages"]} == {"sutton.txt"}


def test_show_prints_the_text_passage_offsets_index(
    cli: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", *cli, "--json", "adoption panel"]) == 0
    passage = json_lines(capsys.readouterr().out)[0]["passages"][0]
    assert main(["show", *cli, "--json", passage["source"]]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["document_text"][passage["start"] : passage["end"]] == passage["text"]
    assert (record["format"], record["pages"]) == ("text", [])
    assert main(["show", *cli, passage["source"]]) == 0
    assert capsys.readouterr().out == record["document_text"]
    assert main(["show", *cli, "missing.pdf"]) == 2
    assert "no document 'missing.pdf'" in capsys.readouterr().err


# Sets the window's title, writes the clipboard, clears the screen (with ESC [ and with CSI).
TERMINAL_COMMANDS = "\x1b]0;pwned\x07 \x1b]52;c;cm0gLXJmIH4K\x07 \x1b[2J \x9b2J"


def test_escape_sequences_in_documents_and_file_names_are_shown_not_obeyed(
    cli: list[str], tiny_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`qa ask` printed them raw, and a line feed in a file name split its citation line."""
    assert main(["index", *cli]) == 0
    name = "respite\x1b[2J\nreview.txt"
    text = (
        "Short Breaks Review\n\n1.1 Respite care reached 240 families. The service ran"
        " through the summer and the autumn, and most families asked for it again; the"
        " panel heard from carers, social workers and the young people themselves, who"
        f" asked for more evenings and fewer forms. {TERMINAL_COMMANDS} The end.\n"
    )
    write_corpus(tiny_corpus, {name: text})
    capsys.readouterr()
    assert main(["ask", "-k", "1", "respite care families", *cli]) == 0
    out, err = capsys.readouterr()
    assert not [c for c in out if (c < " " and c != "\n") or "\x7f" <= c <= "\x9f"]
    # (the progress bar's own carriage returns aside)
    assert not [c for c in err if (c < " " and c not in "\n\r") or "\x7f" <= c <= "\x9f"]
    for shown in ("\\x1b]0;pwned\\x07", "\\x1b]52;c;cm0gLXJmIH4K\\x07", "\\x1b[2J", "\\x9b2J"):
        assert shown in out
    assert max(len(line) for line in out.splitlines() if "chars" not in line) <= 100
    (citation,) = [line for line in out.splitlines() if " chars " in line]
    assert citation.endswith(f"respite\\x1b[2J\\nreview.txt chars 21-{len(text) - 1}")
    assert "1 added (respite\\x1b[2J\\nreview.txt)" in err


def test_qa_show_on_a_terminal_shows_control_characters_and_piped_gives_the_text_exactly(
    cli: list[str],
    tiny_corpus: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    said = "Respite care reached 240 families, and most of them asked for it again next year."
    text = f"Short Breaks Review\n\n{said * 3} {TERMINAL_COMMANDS}\n"
    write_corpus(tiny_corpus, {"respite.txt": text})
    assert main(["index", *cli]) == 0
    capsys.readouterr()
    assert main(["show", *cli, "respite.txt"]) == 0
    assert capsys.readouterr().out == text  # piped: the offsets index, byte for byte
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)  # capsys's stream, this test's
    assert main(["show", *cli, "respite.txt"]) == 0
    assert capsys.readouterr().out == (
        f"Short Breaks Review\n\n{said * 3}"
        " \\x1b]0;pwned\\x07 \\x1b]52;c;cm0gLXJmIH4K\\x07 \\x1b[2J \\x9b2J\n"
    )
