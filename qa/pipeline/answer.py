"""The extractive answer: the few sentences of the retrieved passages that best answer a question.

Nothing is generated: every sentence is quoted verbatim from a passage and carries
that passage's rank as its citation marker, so a reader can check each one.

Example::

    answer = searcher.search(question)
    sentences = extract_answer(question, answer.hits, searcher.embedder)
    print(LOW_CONFIDENCE_MESSAGE if answer.low_confidence else answer_text(sentences))
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.index.embedders import Embedder
from qa.index.lexical import tokenize
from qa.pipeline.findings import finding_asked, signature_spans, states_finding
from qa.text import list_spans, sentence_spans
from qa.types import AnswerSentence, Hit

LOW_CONFIDENCE_MESSAGE = (
    "The corpus does not seem to answer this question; the closest passages are listed below."
)

# Relevance = cosine + LEXICAL_WEIGHT * idf-weighted share of the question's terms
# + RANK_WEIGHT / rank of the passage. Measured on the 67 answerable questions of
# eval/questions.jsonl (an answer "holds the evidence" when one of its sentences holds a
# gold quote): cosine alone 0.67, these weights 0.73, 0.70-0.76 anywhere with the lexical
# weight in 0.25-1 and the rank weight in 0-0.2, so the choice is not fragile. Adding the
# bundled cross-encoder's min-max-scaled score at weight 0.5 (2026-12-02, 126 home and 106
# ilacs questions): home right 101 -> 103 but a sentence holding a gold quote 92% -> 89% (its
# spread leaves fewer sentences within RELEVANCE_MARGIN), ilacs right 89% -> 88%, for
# 100-250 ms more a question on 2 cores (weight 1: home any quote 88%); so it is not used.
LEXICAL_WEIGHT = 0.5
RANK_WEIGHT = 0.05
# A sentence this far below the best one answers less well and would only lengthen the
# answer: it keeps answers to 2.6 sentences on average for 0.03 less evidence held.
RELEVANCE_MARGIN = 0.25
# Two sentences this similar say the same thing (often the same sentence in two
# near-identical passages); the answer keeps the first.
REDUNDANT_COSINE = 0.9
REDUNDANT_TERMS = 0.8
# A sentence holding every term of a chosen one says what it says and more, if the chosen one
# says something of its own (a few words, "Leaders are aware.", are in many sentences).
FULLER_MIN_TERMS = 5
# A question's words say what kind of finding it asks for ("who" a person, "how many" a
# figure, "when" a date); a sentence holding one of that kind gains this much relevance.
# Measured on both reference sets: 0.6 left "Who led Croydon's 2024 Ofsted inspection?" with
# a sentence about the report ("led" shares no term with "Lead inspector: ..."); 0.8 and 1.0
# answer it (ilacs lead inspector 16 -> 17 of 18) and change nothing else.
FINDING_WEIGHT = 0.8
# A sentence opening with a pronoun ("They visit and work closely with offender managers",
# "This has resulted in ...") says what it is about only in the sentence before ("When care
# leavers are in prison, PAs continue to keep in touch."), so it is quoted from there when
# that one is a whole sentence (a heading is no antecedent). "It" is left alone: as often
# as not it refers to nothing ("It has taken two and a half years ..."), as "This report"
# refers to its own document.
_ANAPHORIC = re.compile(
    r"(?:They|Their|He|She|His|Her)\b"
    r"|(?:This|These|That|Those)\s+(?:is|was|are|were|has|have|had|will|would|can|could|may"
    r"|means?|meant|leads?|led|results?|resulted|include[sd]?|show(?:s|ed)?)\b"
)
_SENTENCE_END = re.compile(r"[.!?:;][\"'”’)]?$")


def answer_spans(text: str) -> tuple[tuple[int, int], ...]:
    """The spans of ``text`` an answer may quote, in order: its sentences, except that a
    sentence introducing a list comes with the list, and a signature block (a name on its
    line, the role on the next) is one span."""
    lists = list_spans(text)
    signatures = signature_spans(text)
    introductions = {start for start, _ in lists}
    sentences = [
        span
        for span in sentence_spans(text)
        if span[0] not in introductions
        and not any(start <= span[0] < end for start, end in signatures)
    ]
    return tuple(sorted((*sentences, *lists, *signatures)))


def _quote(hit: Hit, start: int, end: int) -> AnswerSentence:
    return AnswerSentence(
        text=hit.chunk.text[start:end],
        rank=hit.rank,
        source=hit.chunk.source,
        start=hit.chunk.start + start,
        end=hit.chunk.start + end,
    )


# A sentence saying what its own document does ("This report provides an update on the
# improvement programme", "The report considered by the Committee provided an update on the
# actions taken ...") repeats the question's subject without saying anything of it.
_DESCRIBES_ITS_DOCUMENT = re.compile(
    r"(?:This|The)\s+(?:\w+\s+){0,3}?(?:report|paper|letter|document)\b(?:\s+\w+){0,6}?\s+"
    r"(?:provides?|provided|sets?\s+out|summari[sz]e[sd]?|outlines?|outlined|describes?"
    r"|described|presents?|presented|gives?|gave)\s+(?:an?\s+)?(?:update|overview|summary)\b"
    r"|The\s+purpose\s+of\s+(?:this|the)\s+(?:report|paper|letter|document)\b",
    re.IGNORECASE,
)


def candidate_sentences(hits: Sequence[Hit]) -> list[AnswerSentence]:
    """Every span of every passage that an answer may quote, cited to the passage: not the
    passage's section heading or a line of its document's title, which name a subject
    without saying anything of it (an inspection report's "Inspection of local authority
    children's services" on its first page, a news article's headline), nor a sentence saying
    what its document does (a list it introduces stays: its items say something)."""
    quotable = []
    for hit in hits:
        for start, end in answer_spans(hit.chunk.text):
            text = hit.chunk.text[start:end]
            if _names_the_document(hit, text) or (
                _DESCRIBES_ITS_DOCUMENT.match(text)
                and (start, end) not in list_spans(hit.chunk.text)
            ):
                continue
            quotable.append(_quote(hit, start, end))
    return quotable


def _names_the_document(hit: Hit, text: str) -> bool:
    said = _plain(text)
    return said == _plain(hit.chunk.section or "") or said in _plain(hit.title)


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


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
    finds: np.ndarray  # whether each states the kind of finding the question asks for

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
        :data:`RELEVANCE_MARGIN` of the best relevance in ``order``; a sentence that says all
        a picked one says and more takes its place."""
        picked: list[int] = []
        floor = float(self.relevance[order[0]]) - RELEVANCE_MARGIN if order else 0.0
        for index in order:
            fuller = [other for other in picked if self.says_more(index, other)]
            if fuller:
                picked[picked.index(fuller[0])] = index  # as relevant, whatever its score
            elif (
                len(picked) < limit
                and self.relevance[index] >= floor
                and not any(self.repeats(index, other) for other in (*chosen, *picked))
            ):
                picked.append(index)
        return picked

    def says_more(self, candidate: int, other: int) -> bool:
        """Whether ``candidate`` says all ``other`` says and more: the fuller wording of a
        sentence ("... plans to tackle these, particularly to improve the out-of-hours
        service, ...") is the one worth quoting."""
        return (
            len(self.terms[other]) >= FULLER_MIN_TERMS
            and self.terms[candidate] > self.terms[other]
            and not _overlap(self.sentences[candidate], self.sentences[other])
        )


def _contains(outer: AnswerSentence, inner: AnswerSentence) -> bool:
    return outer.rank == inner.rank and outer.start <= inner.start and inner.end <= outer.end


def _scored(
    question: str, hits: Sequence[Hit], candidates: Sequence[AnswerSentence], embedder: Embedder
) -> _Scored:
    """``candidates`` with their relevance to ``question``.

    Only the question and the single sentences (and signature blocks) are encoded (the
    question as a query, the sentences as passages); a list's vector is the mean of its
    sentences' vectors, since encoding it whole would pad every sentence of the batch to the
    list's length.
    """
    sentences = [
        _quote(hit, *span)
        for hit in hits
        for span in (*sentence_spans(hit.chunk.text), *signature_spans(hit.chunk.text))
    ]
    query = embedder.encode_queries([question])[0]
    membership = np.array([[_contains(c, s) for s in sentences] for c in candidates], np.float32)
    vectors = membership @ embedder.encode([s.text for s in sentences])
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    terms = [frozenset(tokenize(c.text)) for c in candidates]
    finding = finding_asked(question)
    states = np.array(
        [states_finding(finding, c.text, question) for c in candidates], dtype=np.float32
    )
    relevance = (
        vectors @ query
        + LEXICAL_WEIGHT * term_coverage(tokenize(question), terms)
        + RANK_WEIGHT / np.array([c.rank for c in candidates], dtype=np.float32)
        + FINDING_WEIGHT * states
    )
    return _Scored(candidates, relevance, vectors, terms, states.astype(bool))


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
        picked = scored.best_first(order, max_sentences)
    else:
        picked = []
        for ranks in map(set, sides[:max_sentences]):
            side = [i for i in order if sentences[i].rank in ranks]
            picked += scored.best_first(side, 1, picked)
        picked = _with_best_between(scored, order, picked, hits)
    return _with_antecedents([sentences[i] for i in picked], hits)


def _with_antecedents(
    sentences: Sequence[AnswerSentence], hits: Sequence[Hit]
) -> tuple[AnswerSentence, ...]:
    """``sentences``, each opening with a pronoun quoted from the sentence before it in its
    passage (when that one is not quoted already)."""
    by_rank = {hit.rank: hit for hit in hits}
    quoted: list[AnswerSentence] = []
    for sentence in sentences:
        hit = by_rank[sentence.rank]
        offset = sentence.start - hit.chunk.start
        before = [s for s in sentence_spans(hit.chunk.text) if s[1] <= offset]
        if (
            _ANAPHORIC.match(sentence.text)
            and before
            and _SENTENCE_END.search(hit.chunk.text[before[-1][0] : before[-1][1]])
        ):
            start = before[-1][0]
            antecedent = _quote(hit, start, before[-1][1])
            if not any(_overlap(antecedent, other) for other in sentences):
                sentence = _quote(hit, start, sentence.end - hit.chunk.start)
        quoted.append(sentence)
    return tuple(quoted)


def _with_best_between(
    scored: _Scored, order: Sequence[int], picked: list[int], hits: Sequence[Hit]
) -> list[int]:
    """``picked`` (a sentence per compared period, oldest first) with the best sentence of
    all added in date order when it is on no side and clearly better than each side's, or
    when it is the best one stating the finding asked for and no side's does: a 2020
    article saying staff "increased by around 40 per cent" since 2017 answers "How has it
    grown since 2017?" better than anything dated 2017 or 2024."""
    if not order or not picked:
        return picked
    best = order[0]
    if scored.relevance[best] < max(scored.relevance[i] for i in picked) + RELEVANCE_MARGIN:
        stating = [i for i in order if scored.finds[i]]
        if not stating or any(scored.finds[i] for i in picked):
            return picked
        best = stating[0]
    if best in picked or any(scored.repeats(best, other) for other in picked):
        return picked
    date_of = {hit.rank: hit.date or "" for hit in hits}
    when = date_of[scored.sentences[best].rank]
    position = sum(date_of[scored.sentences[i].rank] <= when for i in picked)
    return [*picked[:position], best, *picked[position:]]


def answer_text(sentences: Sequence[AnswerSentence]) -> str:
    """The answer as one paragraph, each sentence followed by its citation marker."""
    return " ".join(f"{sentence.text} [{sentence.rank}]" for sentence in sentences)
