"""The extractive answer: the few sentences of the retrieved passages that best answer a question.

Nothing is generated: every sentence is quoted verbatim from a passage and carries
that passage's rank as its citation marker, so a reader can check each one.

Example::

    answer = searcher.search(question)
    sentences = extract_answer(question, answer.hits, searcher.embedder)
    print(LOW_CONFIDENCE_MESSAGE if answer.low_confidence else answer_text(sentences))
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from qa.index.embedders import Embedder
from qa.index.lexical import tokenize
from qa.types import AnswerSentence, Hit

LOW_CONFIDENCE_MESSAGE = (
    "The corpus does not seem to answer this question; the closest passages are listed below."
)

# Relevance = cosine + LEXICAL_WEIGHT * idf-weighted share of the question's terms
# + RANK_WEIGHT / rank of the passage. Measured on the 67 answerable questions of
# eval/questions.jsonl (an answer "holds the evidence" when one of its sentences holds a
# gold quote): cosine alone 0.67, these weights 0.73, 0.70-0.76 anywhere with the lexical
# weight in 0.25-1 and the rank weight in 0-0.2, so the choice is not fragile.
LEXICAL_WEIGHT = 0.5
RANK_WEIGHT = 0.05
# A sentence this far below the best one answers less well and would only lengthen the
# answer: it keeps answers to 2.6 sentences on average for 0.03 less evidence held.
RELEVANCE_MARGIN = 0.25
# Two sentences this similar say the same thing (often the same sentence in two
# near-identical passages); the answer keeps the first.
REDUNDANT_COSINE = 0.9
REDUNDANT_TERMS = 0.8

_MIN_WORDS = 3
_WRAPPED_LINE_LENGTH = 60
_BULLETS = "–—•▪◼●■◦·>§\uf0b7-"  # "-" last: not a range
# Bullets, list and paragraph numbers ("4.12", "1.", "(a)") and markup tags around a sentence
# are not part of it. A dotted number counts only before a capital, so "22.2 million" stays.
_MARKER = re.compile(
    rf"""[\s{_BULLETS}]+ | \*(?=[ \t]) | </?[a-z][a-z0-9]*>
    | (?:\d{{1,2}}(?:\.\d{{1,2}})+\.?|\d{{1,2}}\.)(?=[ \t]+[A-Z"'“‘(*])
    | \(?(?:\d{{1,2}}|[a-z]|[ivx]{{1,4}})\)(?=[ \t])
    """,
    re.VERBOSE,
)
_TRAILING_TAG = re.compile(r"\s*</?[a-z][a-z0-9]*>$")
_LIST_ITEM = re.compile(
    rf"[ \t]*(?:[*{_BULLETS}]|\d{{1,2}}(?:\.\d{{1,2}})*\.?[ \t]|\(?(?:[a-z]|[ivx]{{1,4}})\)[ \t])"
)
_WORD = re.compile(r"[^\W\d_]+")
# What may stand before a list item on its line: a bullet or a one-level number ("2.", "b)").
_ITEM_PREFIX = re.compile(
    rf"[ \t]*(?:[*{_BULLETS}][ \t]*|\(?(?:\d{{1,2}}|[a-z]|[ivx]{{1,4}})[.)][ \t]*)?"
)
_MAX_ITEM_LENGTH = 300
_MAX_ITEMS = 12


@lru_cache(maxsize=1)
def _british_english() -> Any:
    """pysbd's English rules plus abbreviations common in UK public documents ("Cllr.", "para.")."""
    from pysbd.lang.english import English

    class BritishEnglish(English):
        class Abbreviation(English.Abbreviation):
            ABBREVIATIONS = (*English.Abbreviation.ABBREVIATIONS, "cllr", "cllrs", "para", "paras")
            PREPOSITIVE_ABBREVIATIONS = (
                *English.Abbreviation.PREPOSITIVE_ABBREVIATIONS,
                "cllr",
                "cllrs",
            )
            NUMBER_ABBREVIATIONS = (*English.Abbreviation.NUMBER_ABBREVIATIONS, "para", "paras")

    return BritishEnglish


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without surrounding whitespace, bullets, paragraph numbers and markup tags."""
    while start < end and (marker := _MARKER.match(text, start, end)) and marker.end() > start:
        start = marker.end()
    while end > start and (tag := _TRAILING_TAG.search(text, start, end)):
        end = tag.start()
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_heading(text: str) -> bool:
    """Mostly capitals: a heading or a banner, which names a topic but answers nothing."""
    letters = [ch for ch in text if ch.isalpha()]
    return sum(ch.isupper() for ch in letters) >= 0.8 * len(letters)


def _is_useful(text: str) -> bool:
    """A sentence that can answer something: not a heading, not a one- or two-word table cell."""
    return len(_WORD.findall(text)) >= _MIN_WORDS and not _is_heading(text)


def _continues(line: str, following: str) -> bool:
    """Whether the line break between ``line`` and ``following`` falls inside a sentence:
    the line stops without punctuation and the next one is no list item or table row, but
    carries on in lower case or follows a line long enough to have been wrapped."""
    stripped = line.rstrip()
    return (
        bool(stripped)
        and bool(following.strip())
        and not stripped.endswith((".", "!", "?", ":", ";"))
        and "\t" not in line + following
        and not _LIST_ITEM.match(following)
        and (following.lstrip()[:1].islower() or len(stripped) >= _WRAPPED_LINE_LENGTH)
    )


def _unwrapped(text: str) -> str:
    """``text`` with the line breaks inside sentences turned into spaces (same length)."""
    lines = text.split("\n")
    pieces = [lines[0]]
    for line, following in itertools.pairwise(lines):
        pieces.append((" " if _continues(line, following) else "\n") + following)
    return "".join(pieces)


@lru_cache(maxsize=512)
def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) offsets in ``text`` of its useful sentences, in order.

    pysbd finds sentence ends; a line break ends a unit too unless the sentence
    wraps onto the next line, so a list item or table row without punctuation is
    one unit. Spans exclude bullets and paragraph numbers, so ``text[start:end]``
    is the sentence exactly as printed. A passage that begins in lower case begins
    mid-sentence: that fragment is left out.
    """
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    segmenter.language_module = _british_english()
    unwrapped = _unwrapped(text)  # same length, so pysbd's offsets are offsets in ``text``
    spans: list[tuple[int, int]] = []
    position = 0
    for piece in segmenter.segment(unwrapped):
        if piece.start < position:  # pysbd lost its place; never cite an overlapping span
            continue
        position = piece.end
        for line in re.finditer(r"[^\n]+", unwrapped[piece.start : piece.end]):
            start, end = _trimmed(text, piece.start + line.start(), piece.start + line.end())
            opening = not text[:start].strip() and text[start : start + 1].islower()
            if _is_useful(text[start:end]) and not opening:
                spans.append((start, end))
    return tuple(spans)


def _is_list_item(text: str, start: int, end: int) -> bool:
    """A short unit alone on its line(s), after at most a bullet or a one-level list number."""
    line_start = text.rfind("\n", 0, start) + 1
    return end - start <= _MAX_ITEM_LENGTH and bool(_ITEM_PREFIX.fullmatch(text, line_start, start))


def list_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of a sentence ending in a colon together with the list items after it.

    A question such as "what were the four recommendations?" is answered by the list
    rather than by the sentence introducing it, which alone says nothing.
    """
    spans = sentence_spans(text)
    lists = []
    for i, (start, end) in enumerate(spans):
        if not text[start:end].endswith(":"):
            continue
        items = list(itertools.takewhile(lambda s: _is_list_item(text, *s), spans[i + 1 :]))
        if items:
            lists.append((start, items[:_MAX_ITEMS][-1][1]))
    return tuple(lists)


def answer_spans(text: str) -> tuple[tuple[int, int], ...]:
    """The spans of ``text`` an answer may quote, in order: its sentences, except that a
    sentence introducing a list comes with the list."""
    lists = list_spans(text)
    introductions = {start for start, _ in lists}
    sentences = [span for span in sentence_spans(text) if span[0] not in introductions]
    return tuple(sorted((*sentences, *lists)))


def _quote(hit: Hit, start: int, end: int) -> AnswerSentence:
    return AnswerSentence(
        text=hit.chunk.text[start:end],
        rank=hit.rank,
        source=hit.chunk.source,
        start=hit.chunk.start + start,
        end=hit.chunk.start + end,
    )


def candidate_sentences(hits: Sequence[Hit]) -> list[AnswerSentence]:
    """Every span of every passage that an answer may quote, cited to the passage."""
    return [_quote(hit, *span) for hit in hits for span in answer_spans(hit.chunk.text)]


def term_coverage(
    question_terms: Sequence[str], sentence_terms: Sequence[frozenset[str]]
) -> np.ndarray:
    """Share of the question's terms each sentence contains, weighted by idf among the sentences,
    so a rare term of the question (a name, a year) counts more than a common one."""
    if not question_terms or not sentence_terms:
        return np.zeros(len(sentence_terms), dtype=np.float32)
    frequency = Counter(term for terms in sentence_terms for term in terms)
    count = len(sentence_terms)
    weights = {term: math.log(1 + count / (1 + frequency[term])) for term in set(question_terms)}
    total = sum(weights.values())
    return np.array(
        [
            sum(w for term, w in weights.items() if term in terms) / total
            for terms in sentence_terms
        ],
        dtype=np.float32,
    )


def _overlap(first: AnswerSentence, second: AnswerSentence) -> bool:
    return first.source == second.source and first.start < second.end and second.start < first.end


@dataclass(frozen=True)
class _Scored:
    """The candidate sentences with what choosing among them needs, row for row."""

    sentences: Sequence[AnswerSentence]
    relevance: np.ndarray
    vectors: np.ndarray
    terms: Sequence[frozenset[str]]

    def repeats(self, candidate: int, other: int) -> bool:
        """Whether ``candidate`` says what ``other`` says: the same text or nearly."""
        if _overlap(self.sentences[candidate], self.sentences[other]):
            return True
        if float(self.vectors[candidate] @ self.vectors[other]) > REDUNDANT_COSINE:
            return True
        union = self.terms[candidate] | self.terms[other]
        shared = self.terms[candidate] & self.terms[other]
        return bool(union) and len(shared) / len(union) > REDUNDANT_TERMS

    def best_first(self, order: Sequence[int], limit: int, chosen: Sequence[int] = ()) -> list[int]:
        """Up to ``limit`` of ``order`` (best first) that repeat nothing chosen, within
        :data:`RELEVANCE_MARGIN` of the best relevance in ``order``."""
        picked: list[int] = []
        floor = float(self.relevance[order[0]]) - RELEVANCE_MARGIN if order else 0.0
        for index in order:
            if len(picked) == limit or self.relevance[index] < floor:
                break
            if not any(self.repeats(index, other) for other in (*chosen, *picked)):
                picked.append(index)
        return picked


def _contains(outer: AnswerSentence, inner: AnswerSentence) -> bool:
    return outer.rank == inner.rank and outer.start <= inner.start and inner.end <= outer.end


def _scored(
    question: str, hits: Sequence[Hit], candidates: Sequence[AnswerSentence], embedder: Embedder
) -> _Scored:
    """``candidates`` with their relevance to ``question``.

    Only the question and the single sentences are encoded (the question as a query, the
    sentences as passages); a list's vector is the mean of its sentences' vectors, since
    encoding it whole would pad every sentence of the batch to the list's length.
    """
    sentences = [_quote(hit, *span) for hit in hits for span in sentence_spans(hit.chunk.text)]
    query = embedder.encode_queries([question])[0]
    membership = np.array([[_contains(c, s) for s in sentences] for c in candidates], np.float32)
    vectors = membership @ embedder.encode([s.text for s in sentences])
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    terms = [frozenset(tokenize(c.text)) for c in candidates]
    relevance = (
        vectors @ query
        + LEXICAL_WEIGHT * term_coverage(tokenize(question), terms)
        + RANK_WEIGHT / np.array([c.rank for c in candidates], dtype=np.float32)
    )
    return _Scored(candidates, relevance, vectors, terms)


def extract_answer(
    question: str,
    hits: Sequence[Hit],
    embedder: Embedder,
    *,
    max_sentences: int = 3,
    sides: Sequence[Sequence[int]] = (),
) -> tuple[AnswerSentence, ...]:
    """The sentences of ``hits`` that best answer ``question``, each cited by its passage's rank.

    Relevance combines the sentence's cosine similarity to the question (one batched
    encode call), its coverage of the question's terms, and a small prior for the
    passage's rank. A sentence that repeats one already chosen is skipped.

    ``sides``: when the question compares, the hit ranks of each side (e.g. the 2020
    documents' hits and the 2024 ones); the answer then takes the best sentence from
    each side that has one, ordered by side. Otherwise sentences are ordered by relevance.
    """
    sentences = candidate_sentences(hits)
    if not sentences or max_sentences < 1:
        return ()
    scored = _scored(question, hits, sentences, embedder)
    order = sorted(range(len(sentences)), key=lambda i: (-scored.relevance[i], i))
    if not sides:
        return tuple(sentences[i] for i in scored.best_first(order, max_sentences))
    picked: list[int] = []
    for ranks in map(set, sides[:max_sentences]):
        side = [i for i in order if sentences[i].rank in ranks]
        picked += scored.best_first(side, 1, picked)
    return tuple(sentences[i] for i in picked)


def answer_text(sentences: Sequence[AnswerSentence]) -> str:
    """The answer as one paragraph, each sentence followed by its citation marker."""
    return " ".join(f"{sentence.text} [{sentence.rank}]" for sentence in sentences)
