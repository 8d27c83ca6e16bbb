"""Pure renderings: citations, escaping, highlighting and the Markdown and CSV exports."""

from __future__ import annotations

import csv
import html
import io
import re

from hypothesis import given
from hypothesis import strategies as st

from qa.citation import cite
from qa.render.export import CSV_COLUMNS, answer_csv, answer_markdown, escape_markdown
from qa.render.html import highlight_spans, marked_html
from qa.render.source import source_html
from qa.types import Answer, AnswerSentence, Chunk, Hit, display_date

HOSTILE = "**bold** # heading <script>alert(1)</script> & <b>tag</b> [link](x) $x$"


def make_hit(text: str = HOSTILE, rank: int = 1, **changes: object) -> Hit:
    chunk = Chunk("notes/a.txt", 10, 10 + len(text), text, "2. DETAIL", "2.1–2.3")
    fields: dict[str, object] = {
        "rank": rank, "row": rank - 1, "chunk": chunk, "title": "Cabinet Report",
        "date": "2024-12-04", "score": 0.0321, "lexical_rank": 1, "dense_rank": None,
    }  # fmt: skip
    fields.update(changes)
    return Hit(**fields)  # type: ignore[arg-type]


def strip_tags(markup: str) -> str:
    return html.unescape(re.sub(r"</?(mark|strong)( id=\"[^\"]*\")?>", "", markup))


def test_display_date_is_written_out() -> None:
    assert display_date("2024-12-04") == "4 December 2024"
    assert display_date("2020-03") == "March 2020"
    assert display_date("2017") == "2017"
    assert display_date(None) == "undated"


def test_citation_line_names_title_date_section_paragraph() -> None:
    citation = cite(make_hit()).line()
    assert citation == "Cabinet Report, 4 December 2024, 2. DETAIL, para 2.1–2.3"


def test_highlight_marks_question_words_by_stem_not_function_words() -> None:
    text = "Which inspections remained? The inspection report from 2020 said so."
    marked = [
        text[a:b]
        for a, b in highlight_spans(
            text, "Which recommendations from the 2020 inspection remained?"
        )
    ]
    assert marked == ["inspections", "remained", "inspection", "2020"]


def test_highlight_keeps_numbers_with_units_whole() -> None:
    text = "A budget of £22.2m, then £5m; 16-year-olds, 80% of 1,000 staff in 2024, not 2023."
    question = "£22.2m for 16 year olds, 80% of 1000 staff in 2024"
    marked = [text[a:b] for a, b in highlight_spans(text, question)]
    assert marked == ["22.2m", "16", "year", "olds", "80%", "1,000", "staff", "2024"]


def test_marked_html_escapes_every_piece() -> None:
    text = "<script>alert(1)</script> about adoption **now**"
    markup = marked_html(text, highlight_spans(text, "adoption"))
    assert markup == ("&lt;script&gt;alert(1)&lt;/script&gt; about <mark>adoption</mark> **now**")


@given(st.text(max_size=200), st.text(max_size=40))
def test_marked_html_only_adds_mark_tags(text: str, question: str) -> None:
    markup = marked_html(text, highlight_spans(text, question))
    assert "<" not in re.sub(r"</?mark>", "", markup)
    assert strip_tags(markup) == text


@given(st.text(min_size=1, max_size=300), st.data())
def test_source_html_is_the_escaped_document_with_one_passage_mark(
    text: str, data: st.DataObject
) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    markup = source_html(text, start, end, "report")
    assert markup.count('<mark id="passage">') == 1
    assert "<" not in re.sub(r'</?(mark|strong)( id="passage")?>', "", markup)
    assert strip_tags(markup) == text


def test_source_html_marks_the_passage_without_its_surrounding_blank_lines() -> None:
    text = "Intro.\n\n2.1 The passage about adoption.\n\nAfter."
    start = text.index("\n\n2.1")
    markup = source_html(text, start, text.index("After."), "adoption")
    assert '<mark id="passage">2.1 The passage about <strong>adoption</strong>.</mark>' in markup


def test_escape_markdown_neutralises_syntax() -> None:
    escaped = escape_markdown(HOSTILE)
    assert escaped.startswith(r"\*\*bold\*\* \# heading \<script\>")
    assert "[link]" not in escaped


def test_answer_markdown_quotes_each_passage_under_its_citation() -> None:
    answer = Answer("What about <b>adoption</b>?", (make_hit(), make_hit("Second.", rank=2)))
    markdown = answer_markdown(answer, "Searched by Words and meaning")
    assert markdown.startswith(r"# What about \<b\>adoption\</b\>?")
    assert "## 1. Cabinet Report, 4 December 2024, 2. DETAIL, para 2.1–2.3" in markdown
    assert r"> \*\*bold\*\* \# heading \<script\>" in markdown
    assert "## 2. Cabinet Report" in markdown and "> Second." in markdown
    assert "Source file: `notes/a.txt`, characters 10–" in markdown


def test_answer_markdown_starts_with_the_cited_answer_and_the_gaps() -> None:
    sentence = AnswerSentence("Second.", 2, "notes/a.txt", 10, 17)
    answer = Answer(
        "q", (make_hit(), make_hit("Second.", rank=2)), sentences=(sentence,),
        missing=("No document in the corpus is dated 2015.",),
    )  # fmt: skip
    markdown = answer_markdown(answer)
    assert "**Answer** (quoted from the passages below):\n\nSecond. \\[2\\]" in markdown
    assert "_No document in the corpus is dated 2015._" in markdown
    assert markdown.index("**Answer**") < markdown.index("## 1.")


def test_answer_markdown_says_when_nothing_relevant_was_found() -> None:
    answer = Answer("GCSE results?", (make_hit(),), low_confidence=True)
    assert "don't seem to answer this question" in answer_markdown(answer)


def test_answer_csv_has_one_row_per_passage_and_guards_formulas() -> None:
    answer = Answer("q", (make_hit(), make_hit('=HYPERLINK("http://x")', rank=2)))
    rows = list(csv.reader(io.StringIO(answer_csv(answer))))
    assert tuple(rows[0]) == CSV_COLUMNS
    first = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert first["text"] == HOSTILE
    assert first["citation"] == "Cabinet Report, 4 December 2024, 2. DETAIL, para 2.1–2.3"
    assert first["bm25_rank"] == "1" and first["dense_rank"] == ""
    second = dict(zip(CSV_COLUMNS, rows[2], strict=True))
    assert second["text"] == '\'=HYPERLINK("http://x")'
