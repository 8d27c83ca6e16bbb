"""Stage 1, understand the question: its search terms, its vector and the time it names.

Everything later stages need to know about a question is read once here, so that no
stage re-reads the wording: retrieval takes the terms and the vector, selection and the
answer take the periods.

Example::

    query = understand("How did the judgement change between 2020 and 2024?",
                       Mode.HYBRID, embedder, corpus_years={2017, 2020, 2024})
    query.sides        # (Side("2020", ...), Side("2024", ...))
    query.comparison   # True
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from qa.corpus.organisations import organisations_in, others_in
from qa.index.embedders import Embedder
from qa.index.lexical import tokenize
from qa.pipeline.timeframe import Side, Timeframe, read_timeframe
from qa.types import Mode

# Undecodable bytes in a command line arrive as lone surrogates, which the model's
# tokenizer (TypeError) and UTF-8 output refuse: each becomes U+FFFD.
_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, eq=False)
class Query:
    """One question as the stages see it.

    ``vector`` is None in lexical mode and for a blank question. ``sides`` are the
    periods the question names, resolved against the years the corpus has documents
    of (oldest first), or those of the organisations it names ("Sutton's current grade" is
    from Sutton's latest document); ``comparison`` is set when it compares two or more of them.
    ``organisations`` are the corpus's organisations the question names ("in Bradford",
    "Sutton's care leavers"), in the order named; ``others`` the places it names that are
    spelled like one of them without being one ("North Northamptonshire").
    """

    text: str
    mode: Mode
    terms: tuple[str, ...]
    vector: np.ndarray | None
    timeframe: Timeframe
    sides: tuple[Side, ...]
    comparison: bool
    organisations: tuple[str, ...] = ()
    others: tuple[str, ...] = ()

    @property
    def by_period(self) -> bool:
        """Whether the passages are chosen period by period: a comparison takes evidence from
        each side, and "the most recent inspection of Bradford" from that council's newest
        documents (a quota of them), not only from whichever of its reports ranks first."""
        return self.comparison or (self.timeframe.latest and bool(self.organisations))

    @property
    def blank(self) -> bool:
        return not self.text.strip()


def understand(
    question: str,
    mode: Mode,
    embedder: Embedder,
    corpus_years: Iterable[int],
    organisation_years: Mapping[str, Iterable[int]] | None = None,
) -> Query:
    """Read ``question`` once: terms for BM25, a vector for dense search, its periods and
    the organisations it names."""
    text = _SURROGATES.sub("\ufffd", question)
    vector = None
    if mode != Mode.LEXICAL and text.strip():
        vector = embedder.encode_queries([text])[0]
    timeframe = read_timeframe(text)
    by_organisation = organisation_years or {}
    others = others_in(text, by_organisation)
    unnamed = text  # "North Northmoor" names no Northmoor
    for other in others:
        unnamed = unnamed.replace(other, " ")
    organisations = organisations_in(unnamed, by_organisation)
    named_years = {year for name in organisations for year in by_organisation[name]}
    sides = timeframe.sides(named_years or corpus_years)
    return Query(
        text=text,
        mode=mode,
        terms=tuple(tokenize(text)),
        vector=vector,
        timeframe=timeframe,
        sides=sides,
        comparison=timeframe.comparison and len(sides) >= 2,
        organisations=organisations,
        others=others,
    )
