"""Plain text for a terminal: ``qa ask`` and ``qa recommendations`` without ``--json``.

Every place is cited from :func:`qa.citation.cite`, with the file and its character
offsets, so a line on screen can be found in the file it quotes. Every line is written
through :func:`terminal_line`: documents and file names are text to show, never commands
for the terminal, and a citation stays on one line.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

from qa.citation import Citation, cite
from qa.features.judgements.timeline import Row, direction
from qa.features.recommendations import TrackedRecommendation
from qa.pipeline.answer import LOW_CONFIDENCE_MESSAGE, answer_text
from qa.types import Answer, Hit, display_date

# C0 controls, DEL and C1 controls: ESC starts the sequences that set a window's title
# (ESC ] 0), write the clipboard (ESC ] 52) or clear the screen (ESC [ 2 J); CSI (0x9b) is
# ESC [ in one byte; a line feed or carriage return would break or overwrite a line.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_SHOWN = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def terminal_line(text: str) -> str:
    """``text`` for one line of a terminal, each control character written as its escape
    (``\\x1b``, ``\\n``), so that it shows what the document or the file name holds."""
    return _CONTROL.sub(lambda match: _SHOWN.get(match[0], f"\\x{ord(match[0]):02x}"), text)


def terminal_text(text: str) -> str:
    """``text`` of several lines for a terminal: its line breaks kept, every other control
    character escaped as by :func:`terminal_line`. For messages whose own lines are meant
    (a question file's problems, one a line); a name in them that should stay on one line
    goes through :func:`terminal_line` first."""
    return "\n".join(terminal_line(line) for line in text.split("\n"))


def _lines(lines: Sequence[str]) -> str:
    """The lines as one text, each made safe by :func:`terminal_line`. Passage and answer
    text reach here already split at their line breaks and escaped, so that they are wrapped
    at the width they are shown in."""
    return "\n".join(terminal_line(line) for line in lines)


def format_answer(answer: Answer, width: int = 100) -> str:
    """The answer (the statement of grades and their change, then the quoted sentences), then
    each passage with its citation and scores; a comparison per document."""
    if not answer.hits:
        return f"No passages found for: {answer.question}"
    lines = [f"Question: {answer.question}", ""]
    if answer.low_confidence:
        lines += [LOW_CONFIDENCE_MESSAGE, "", "Closest passages:", ""]
    elif answer.statement or answer.sentences:
        lines += ["Answer:"]
        for paragraph in (answer.statement, answer_text(answer.sentences)):
            # a quoted list's line breaks read as spaces; other controls escaped, then wrapped
            shown = terminal_line(" ".join(paragraph.split()))
            lines += ["    " + line for line in textwrap.wrap(shown, width - 4)]
        lines += [""]
    lines += [f"Note: {note}" for note in answer.missing]
    if answer.missing:
        lines.append("")
    if answer.comparison:
        for group, hits in answer.hits_by_document():
            lines += [f"== {group.title} ({display_date(group.date)}) ==", ""]
            for hit in hits:
                lines += _hit_lines(hit, width)
    else:
        for hit in answer.hits:
            lines += _hit_lines(hit, width)
    return _lines(lines).rstrip() + "\n"


def _located(citation: Citation) -> str:
    """The place in the document and in the file: "2. DETAIL · para 2.1 · a.txt chars 10-90"."""
    where = " · ".join(citation.where) or "no section heading"
    return f"{where} · {citation.source} chars {citation.start}-{citation.end}"


def _hit_lines(hit: Hit, width: int) -> list[str]:
    citation = cite(hit)
    lines = [f"[{hit.rank}] {citation.title} ({citation.when})", f"    {_located(citation)}"]
    for paragraph in hit.chunk.text.split("\n"):  # escaped first: wrapped as it is shown
        wrapped = textwrap.wrap(terminal_line(paragraph), width - 4) or [""]
        lines.extend("    " + line for line in wrapped if line.strip())
    for duplicate in hit.duplicates:
        lines.append(f"    also at: {_located(cite(duplicate))}")
    ranks = ", ".join(
        f"{name} #{rank}" if rank else f"{name} —"
        for name, rank in (("lexical", hit.lexical_rank), ("dense", hit.dense_rank))
    )
    return [*lines, f"    score {hit.score:.4f} ({ranks})", ""]


def format_recommendations(tracked: Sequence[TrackedRecommendation]) -> str:
    """Per report (by date), each item's status and text, then its citation, the same item in
    earlier or later reports, and the progress sentence quoted."""
    if not tracked:
        return "No recommendations found in the corpus."
    width = max(len(entry.status) for entry in tracked)
    lines: list[str] = []
    current: str | None = None
    for entry in tracked:
        record = entry.recommendation
        citation = cite(record)
        if record.source != current:
            current = record.source
            lines += ["", f"{citation.title} ({citation.when})"]
            lines.append("-" * min(100, len(lines[-1])))
        lines.append(f"{entry.status:<{width}}  {record.text}")
        lines.append(f"    cited: {citation.line()}")
        for label, links in (("earlier", entry.earlier), ("later", entry.later)):
            for link in links:
                other = link.recommendation
                part = f" (in part: {link.part})" if link.part else ""
                lines.append(
                    f"    {label}{part}: {other.text} ({cite(other).line()};"
                    f" similarity {link.similarity:.2f})"
                )
        if entry.evidence is not None:
            lines.append(f'    progress: "{entry.evidence.text}" ({cite(entry.evidence).line()})')
    return _lines(lines).strip("\n")


def format_judgements(rows: Sequence[Row]) -> str:
    """Per organisation, each aspect's grades oldest first and their change, then where each
    grade is stated (the most structured statement of each inspection)."""
    if not rows:
        return "No judgements found in the corpus."
    lines: list[str] = []
    current: str | None = None
    for row in rows:
        if row.organisation != current or not lines:
            current = row.organisation
            lines += ["", current or "(organisation not stated)"]
            lines.append("-" * min(100, len(lines[-1])))
        grades = " → ".join(f"{e.grade.label} ({display_date(e.inspection)})" for e in row.entries)
        change = direction(row.entries)
        lines.append(f"{row.aspect}: {grades}{f': {change}' if change else ''}")
        for entry in row.entries:
            judgement, _ = entry.best
            lines.append(f"    {entry.grade.label}: {cite(judgement).line()}")
    return _lines(lines).strip("\n")
