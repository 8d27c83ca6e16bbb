"""Check a reference file against its documents: every quote found, every document present.

Walks every JSON object of each line that has "document" and "quote" (question evidence,
its "alternatives", judgement and recommendation records) and checks that the quote, with
whitespace runs collapsed, lies in the document's text (case-sensitive, as qa.evaluation
``covers`` does). A PDF is read with both pypdf and pypdfium2, and its quote must lie inside
one printed line of each (not across a line or page break, and not in a running header), so
the gold survives any way of joining lines or removing headers. Question lines are also
checked for form: unique ids, "answer"/"answer_excludes"/"periods"/"missing"/"tags" types,
and that every period in "periods" is tagged on some evidence item.

    /work/main/.venv/bin/python eval/check_refs.py eval/questions.jsonl --corpus corpus
    /work/main/.venv/bin/python eval/check_refs.py eval/ilacs/*.jsonl \
        --corpus corpus --corpus /work/shared/ilacs/reports
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

_SPACE = re.compile(r"\s+")


def norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@cache
def pdf_pages(path: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Each page's text as pypdf and as pypdfium2 extract it."""
    import pypdf
    import pypdfium2

    first = tuple(page.extract_text() or "" for page in pypdf.PdfReader(path).pages)
    document = pypdfium2.PdfDocument(path)
    second = tuple(document[i].get_textpage().get_text_range() for i in range(len(document)))
    return first, second


def _unnumbered(line: str) -> str:
    return re.sub(r"\s*\d+$", "", line)


@cache
def pdf_lines(path: Path) -> tuple[tuple[str, ...], ...]:
    """Per extractor, the normalised printed lines that are not running headers or footers
    (a line repeated, but for a trailing page number, on at least half of the pages)."""
    result = []
    for pages in pdf_pages(path):
        per_page = [[norm(line) for line in page.splitlines() if norm(line)] for page in pages]
        repeats = Counter(key for lines in per_page for key in {_unnumbered(x) for x in lines})
        limit = max(2, len(pages) // 2)
        kept = (x for lines in per_page for x in lines if repeats[_unnumbered(x)] < limit)
        result.append(tuple(kept))
    return tuple(result)


def find(document: str, corpora: list[Path]) -> Path | None:
    return next((root / document for root in corpora if (root / document).is_file()), None)


def check_quote(document: str, quote: str, corpora: list[Path]) -> str | None:
    """Why the quote fails, or None."""
    path = find(document, corpora)
    if path is None:
        return f"document {document!r} not found"
    wanted = norm(quote)
    if not wanted:
        return "empty quote"
    if path.suffix.lower() != ".pdf":
        text = norm(path.read_text(encoding="utf-8"))
        count = text.count(wanted)
        return None if count else f"quote not in {document}: {quote[:70]!r}"
    for name, lines, pages in zip(
        ("pypdf", "pypdfium2"), pdf_lines(path), pdf_pages(path), strict=True
    ):
        if wanted not in norm("\n".join(pages)):
            return f"quote not in {name} text of {document}: {quote[:70]!r}"
        if not any(wanted in line for line in lines):
            return (
                f"quote not inside one line (or in a header) of {name} {document}: {quote[:70]!r}"
            )
    return None


def quotes_in(value: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(value, dict):
        if isinstance(value.get("document"), str) and isinstance(value.get("quote"), str):
            found.append(value)
        for item in value.values():
            found += quotes_in(item)
    elif isinstance(value, list):
        for item in value:
            found += quotes_in(item)
    return found


def is_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def context(document: str, quote: str, corpora: list[Path]) -> str:
    """The quote and the words after it in the document (a grade split over two printed lines)."""
    path = find(document, corpora)
    if path is None:
        return ""
    if path.suffix.lower() == ".pdf":
        text = norm("\n".join(pdf_pages(path)[1]))
    else:
        text = norm(path.read_text(encoding="utf-8"))
    start = text.find(norm(quote))
    return text[start : start + len(norm(quote)) + 40] if start >= 0 else ""


def check_question(record: dict[str, Any], corpora: list[Path]) -> list[str]:
    problems = []
    evidence = record.get("evidence")
    if not isinstance(evidence, list):
        return ["'evidence' must be a list"]
    if (record.get("type") == "unanswerable") != (not evidence):
        problems.append("unanswerable questions, and only they, have no evidence")
    for key in ("answer", "answer_excludes", "periods", "missing", "tags"):
        if key in record and not is_strings(record[key]):
            problems.append(f"{key!r} must be a list of non-empty strings")
    tagged = {item.get("period") for item in evidence if isinstance(item, dict)}
    for period in record.get("periods", []):
        if period not in tagged:
            problems.append(f"period {period!r} has no evidence item tagged with it")
    quotes = " ".join(context(q["document"], q["quote"], corpora) for q in quotes_in(evidence))
    quotes = quotes.lower().replace("\ufffe", "")
    for answer in record.get("answer", []):
        if norm(answer).lower() in quotes:
            break
    else:
        if record.get("answer"):
            problems.append(
                f"no 'answer' string is in or just after a gold quote: {record['answer']}"
            )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--corpus", action="append", type=Path, required=True)
    args = parser.parse_args()
    problems: list[str] = []
    for file in args.files:
        ids: set[str] = set()
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{file}:{number}"
            record = json.loads(line)
            if "question" in record:
                where += f": {record.get('id')}"
                if record.get("id") in ids:
                    problems.append(f"{where}: duplicate id")
                ids.add(record.get("id"))
                problems += [f"{where}: {p}" for p in check_question(record, args.corpus)]
            for item in quotes_in(record):
                reason = check_quote(item["document"], item["quote"], args.corpus)
                if reason:
                    problems.append(f"{where}: {reason}")
    print("\n".join(problems) or f"OK: every quote of {len(args.files)} file(s) found")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
