"""An answer as a file to keep: Markdown for notes and briefings, CSV for a spreadsheet.

Both quote each passage under its citation (:func:`qa.citation.cite`). Document text is
neutralised for the format that reads it: Markdown syntax is escaped, and a cell a
spreadsheet would run as a formula is prefixed with a quote.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from qa.citation import cite
from qa.pipeline.answer import answer_text
from qa.render.json import hit_record
from qa.types import Answer

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~!])")
_CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "rank", "citation", "title", "organisation", "kind", "date", "section", "paragraph", "page",
    "page_end", "source", "start", "end", "score", "bm25_rank", "dense_rank", "text",
)  # fmt: skip


def escape_markdown(text: str) -> str:
    """Backslash-escape Markdown syntax so a passage renders as the words it holds."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def answer_markdown(answer: Answer, settings_line: str = "") -> str:
    """The answer as a Markdown file: the statement and quoted answer, then one quoted passage
    per citation, for notes and briefings. (The CSV has one row per passage, so the answer,
    which spans passages, is in this file only.)"""
    lines = [f"# {escape_markdown(answer.question)}", ""]
    if settings_line:
        lines += [f"_{escape_markdown(settings_line)}_", ""]
    if answer.low_confidence:
        lines += ["**The documents don't seem to answer this question: weak matches only.**", ""]
    elif answer.statement or answer.sentences:
        lines += ["**Answer** (quoted from the passages below):", ""]
        if answer.statement:
            lines += [f"**{escape_markdown(answer.statement)}**", ""]
        if answer.sentences:
            lines += [escape_markdown(answer_text(answer.sentences)), ""]
    lines += [f"_{escape_markdown(note)}_" for note in answer.missing]
    if answer.missing:
        lines.append("")
    for hit in answer.hits:
        citation = cite(hit)
        lines += [f"## {hit.rank}. {escape_markdown(citation.line())}", ""]
        quoted = hit.chunk.text.strip().split("\n")
        lines += [f"> {escape_markdown(line)}".rstrip() for line in quoted]
        where = f"characters {citation.start}–{citation.end}"
        lines += ["", f"Source file: `{citation.source}`, {where}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _csv_cell(value: Any) -> Any:
    """Guard text that a spreadsheet would run as a formula (OWASP CSV injection advice)."""
    if isinstance(value, str) and value.startswith(_CSV_FORMULA):
        return "'" + value
    return value


def answer_csv(answer: Answer) -> str:
    """The answer as CSV, one row per passage, with the columns of :data:`CSV_COLUMNS`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for hit in answer.hits:
        record = hit_record(hit) | {"citation": cite(hit).line()}
        writer.writerow([_csv_cell(record[column]) for column in CSV_COLUMNS])
    return buffer.getvalue()
