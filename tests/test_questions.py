"""The one reader of question files: plain lines, JSONL, and errors that name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.questions import QuestionFileError, load_questions, read_question_file

from .conftest import REPO


def test_plain_lines_and_json_lines_mix_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "questions.txt"
    path.write_text(
        "  How many carers were recruited?  \n\n"
        '{"id": "q2", "question": "What did inspectors find?", "type": "fact"}\n'
        "\t\n"
        "Which year was the service judged good?\n",
        encoding="utf-8",
    )
    read = read_question_file(path)
    assert read.problems == ()
    assert [(q.number, q.question) for q in read.questions] == [
        (1, "How many carers were recruited?"),
        (3, "What did inspectors find?"),
        (5, "Which year was the service judged good?"),
    ]
    assert read.questions[1].fields["type"] == "fact"
    assert read.questions[1].place == f"{path}:3"
    assert load_questions(path)[0] == "How many carers were recruited?"


def test_every_bad_line_is_named_with_its_file_and_number(tmp_path: Path) -> None:
    path = tmp_path / "questions.jsonl"
    path.write_text(
        '{"question": "fine"}\n{"question": 3}\n{"question": "   "}\n{broken\n',
        encoding="utf-8",
    )
    read = read_question_file(path)
    assert [q.question for q in read.questions] == ["fine"]
    assert read.problems == (
        f"{path}:2: a JSON line needs a non-empty 'question' string",
        f"{path}:3: a JSON line needs a non-empty 'question' string",
        f"{path}:4: invalid JSON (Expecting property name enclosed in double quotes)",
    )
    with pytest.raises(QuestionFileError) as raised:
        load_questions(path)
    assert str(raised.value).splitlines() == list(read.problems)


def test_a_jsonl_only_file_rejects_plain_text_and_lines_that_are_not_objects(
    tmp_path: Path,
) -> None:
    path = tmp_path / "reference.jsonl"
    path.write_text('just words\n["a list"]\n{"question": "kept"}\n', encoding="utf-8")
    read = read_question_file(path, plain_text=False)
    assert [q.question for q in read.questions] == ["kept"]
    assert read.problems[0].startswith(f"{path}:1: invalid JSON")
    assert read.problems[1] == f"{path}:2: a line must hold a JSON object"


def test_a_missing_or_binary_file_is_a_problem_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.txt"
    assert read_question_file(missing).problems == (
        f"{missing}: cannot read (No such file or directory)",
    )
    binary = tmp_path / "questions.bin"
    binary.write_bytes(b"\xff\xfe\x00question")
    with pytest.raises(QuestionFileError, match=r"questions.bin: cannot read \(not UTF-8 text\)"):
        load_questions(binary)


def test_the_shipped_reference_set_reads_as_126_questions_with_their_fields() -> None:
    read = read_question_file(REPO / "eval" / "questions.jsonl", plain_text=False)
    assert read.problems == ()
    assert len(read.questions) == 126
    assert all({"id", "type", "evidence"} <= set(q.fields) for q in read.questions)
