"""What a question says about time, and which documents' dates that points at (pure).

A question names years ("in 2020", "the 2019/20 plan", "autumn 2024"), ranges ("between
2019 and 2024", "since 2020", "before 2018") or relative times ("latest", "since the last
inspection"), and may ask for a comparison ("changed", "remained", "still", "compared
with"). :func:`read_timeframe` turns the wording into a :class:`Timeframe`;
:meth:`Timeframe.sides` resolves it against the years the corpus's documents are dated,
so a search can boost those documents and, for a comparison, take evidence from each side.
Dates always come from the documents' text (``Document.date``), never from file times.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_YEAR = r"(?:19[5-9]\d|20\d\d)"
_YEARS = re.compile(rf"(?<![\d£$€.,])({_YEAR})(?:\s*[/–-]\s*(\d{{2}}|{_YEAR}))?(?![\d%]|\.\d)")
_BETWEEN = re.compile(
    rf"\b(?:between|from)\s+(?:the\s+)?({_YEAR})\b.{{0,40}}?\b(?:and|to|until|till)\s+(?:the\s+)?({_YEAR})\b",
    re.IGNORECASE,
)
_SINCE = re.compile(rf"\b(?:since|after|from)\s+(?:the\s+)?(?:\w+\s+)?({_YEAR})\b", re.IGNORECASE)
_BEFORE = re.compile(
    rf"\b(?:before|until|till|prior\s+to|up\s+to)\s+(?:the\s+)?(?:\w+\s+)?({_YEAR})\b",
    re.IGNORECASE,
)
# Words meaning the latest documents ("now", "these days", "the last inspection").
LATEST = re.compile(
    r"\b(?:latest|most\s+recent(?:ly)?|current(?:ly)?|now|today|nowadays|at\s+present|"
    r"presently|these\s+days|at\s+the\s+moment|"
    r"(?:the\s+)?last\s+(?:inspection|report|visit|judgement|judgment))\b",
    re.IGNORECASE,
)
_SINCE_PREVIOUS = re.compile(
    r"\bsince\s+the\s+(?:last|previous|prior|earlier)\s+(?:inspection|report|visit|judgement|judgment)\b",
    re.IGNORECASE,
)
_COMPARISON = re.compile(
    r"\b(?:chang\w*|remain\w*|still|since|compar\w*|versus|vs\.?|differ\w*|"
    r"(?:improv|deteriorat|worsen|progress)\w*\s+(?:since|between|from)|"
    r"over\s+time|across|then\s+and\s+now|both|trend\w*|any\s+longer|no\s+longer|"
    r"repeated|again|resolved|addressed|persist\w*|c[oa]me\s+of)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Side:
    """One side of a comparison: the documents dated ``first``–``last`` (inclusive years)."""

    label: str
    first: int
    last: int

    def holds(self, year: int | None) -> bool:
        return year is not None and self.first <= year <= self.last


@dataclass(frozen=True)
class Timeframe:
    """The time a question refers to; empty when it names none.

    ``years`` are the years named, in order; ``year_from``/``year_to`` bound a range;
    ``latest`` asks for the most recent documents; ``since_previous`` means "since the last
    inspection" (the most recent documents against the ones before them); ``spans`` are the
    pairs of years named as one period ("2018/19", a financial or academic year), which a
    document from either year covers.
    """

    years: tuple[int, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    latest: bool = False
    since_previous: bool = False
    comparison: bool = False
    spans: tuple[tuple[int, int], ...] = ()

    @property
    def any(self) -> bool:
        return bool(
            self.years or self.year_from or self.year_to or self.latest or self.since_previous
        )

    def sides(self, corpus_years: Iterable[int]) -> tuple[Side, ...]:
        """The periods whose documents a search should favour, oldest first.

        For a comparison each side is one period to take evidence from; otherwise the
        sides are the periods to boost. Years are resolved against ``corpus_years`` so
        that "latest" and "since the last inspection" mean this corpus's newest dates.
        """
        known = sorted(set(corpus_years))
        if not known:
            return ()
        oldest, newest = known[0], known[-1]
        periods: list[tuple[int, int]] = []
        if self.since_previous and len(known) >= 2:
            periods += [(known[-2], known[-2]), (newest, newest)]
        if self.year_from is not None or self.year_to is not None:
            first = oldest if self.year_from is None else self.year_from
            last = max(newest, first) if self.year_to is None else self.year_to
            if self.comparison:
                periods += [(first, first), (last, last)]
            else:
                periods.append((first, last))
        periods += [(year, year) for year in self.years]
        if self.latest:
            periods.append((newest, newest))
        if self.comparison and len(set(periods)) == 1 and periods[0][1] < newest:
            periods.append((newest, newest))  # "still", "remained": that year against now
        return tuple(Side(_label(a, b), a, b) for a, b in sorted(set(periods)))


def _label(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}–{last}"


def _expand(year: str, second: str | None) -> list[int]:
    """``2019/20`` and ``2019-2020`` name both years; ``2021/22`` is a financial year."""
    start = int(year)
    if second is None:
        return [start]
    end = int(second) if len(second) == 4 else (start // 100) * 100 + int(second)
    return [start, end] if start < end <= start + 10 else [start]


def read_timeframe(question: str) -> Timeframe:
    """Read the years, ranges, relative times and comparison cues in ``question``."""
    years: list[int] = []
    spans: list[tuple[int, int]] = []
    mentions = list(_YEARS.finditer(question))
    for match in mentions:
        expanded = _expand(match.group(1), match.group(2))
        years += [y for y in expanded if y not in years]
        if len(expanded) == 2 and expanded[1] == expanded[0] + 1:
            spans.append((expanded[0], expanded[1]))
    year_from = year_to = None
    between = _BETWEEN.search(question)
    if between:
        year_from, year_to = sorted((int(between.group(1)), int(between.group(2))))
    else:
        since = _SINCE.search(question)
        before = _BEFORE.search(question)
        if since:
            year_from = int(since.group(1))
        if before:
            year_to = int(before.group(1))
    ranged = {year_from, year_to}
    named = tuple(y for y in years if y not in ranged)
    since_previous = bool(_SINCE_PREVIOUS.search(question))
    latest = bool(LATEST.search(question)) and not since_previous
    dated = bool(years) or since_previous or latest
    comparison = dated and (
        len(mentions) >= 2 or since_previous or bool(_COMPARISON.search(question))
    )
    return Timeframe(
        years=named,
        year_from=year_from,
        year_to=year_to,
        latest=latest,
        since_previous=since_previous,
        comparison=comparison,
        spans=tuple(spans),
    )
