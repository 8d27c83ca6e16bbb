"""BM25 over chunk rows, scored exactly as ``rank_bm25.BM25Okapi`` defines it.

The index is one sparse matrix of precomputed per-(term, row) BM25 weights, so a
query costs one gather of the query terms' posting lists instead of a Python
loop over every passage. Row *i* is chunk *i* of the index.

Example::

    index = BM25Index.build([tokenize(c.text) for c in chunks])
    scores = index.scores(tokenize("homeless 16 and 17 year olds"))
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from qa.index.problems import IndexCorrupt

TOKENIZER_VERSION = 1

# Lucene's English stop words (the list bm25s and Elasticsearch use): words so common
# that they only add noise to BM25 scores. Question words ("which", "how") are kept.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)

# BM25Okapi's defaults in rank_bm25.
K1 = 1.5
B = 0.75
EPSILON = 0.25

BUILD_BLOCK = 4096
"""Rows whose postings a build gathers in Python lists before packing them into numpy."""

_UNITS = {
    "m": "million",
    "mn": "million",
    "million": "million",
    "bn": "billion",
    "billion": "billion",
    "k": "thousand",
    "%": "percent",
}
_TOKEN = re.compile(
    r"""
    (?P<number>\d[\d,]*(?:\.\d+)?)(?P<unit>%|(?:mn|m|bn|k|million|billion)\b)?
    | (?P<word>[^\W\d_]+(?:['’][^\W\d_]+)*)
    """,
    re.VERBOSE,
)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed terms; numbers and money keep their value and unit.

    ``£22.2m`` → ``22.2 million``; ``1,000`` → ``1000``; ``80%`` → ``80 percent``;
    ``16-and 17-year-olds`` → ``16 17 year old``; ``children's`` → ``children``.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    words: list[str] = []
    for match in _TOKEN.finditer(text):
        word = match.group("word")
        if word is not None:
            word = re.sub(r"['’]s$", "", word).replace("’", "'")
            if word not in STOPWORDS:
                words.append(word)
            continue
        number = match.group("number").replace(",", "").rstrip(".")
        words.append(number)
        unit = match.group("unit")
        if unit:
            words.append(_UNITS[unit])
    return [term for term in _stemmer().stemWords(words) if term]


class _RowPostings:
    """Each row's distinct term ids and counts, appended row by row into numpy blocks.

    A Python int in a list costs about 36 bytes and a numpy int32 4, so rows are gathered
    in lists of ``block`` rows and then packed.
    """

    def __init__(self, block: int) -> None:
        self.block = block
        self.packed: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.terms: list[int] = []
        self.counts: list[int] = []
        self.widths: list[int] = []
        self.lengths: list[int] = []

    def add(self, terms: list[int], counts: list[int], length: int) -> None:
        self.terms += terms
        self.counts += counts
        self.widths.append(len(terms))
        self.lengths.append(length)
        if len(self.widths) == self.block:
            self._pack()

    def _pack(self) -> None:
        self.packed.append(
            (
                np.asarray(self.terms, dtype=np.int32),
                np.asarray(self.counts, dtype=np.int32),
                np.asarray(self.widths, dtype=np.int64),
                np.asarray(self.lengths, dtype=np.float64),
            )
        )
        self.terms, self.counts, self.widths, self.lengths = [], [], [], []

    def weights(self, vocabulary_size: int) -> sp.csr_matrix:
        """The BM25 weight of every (term, row) posting, as ``BM25Okapi`` computes it (in
        float64, then stored as float32), in a term-by-row matrix."""
        self._pack()
        terms, counts, widths, lengths = (
            np.concatenate([block[i] for block in self.packed]) for i in range(4)
        )
        self.packed = []
        n_rows = len(lengths)
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(widths, out=indptr[1:])
        document_frequency = np.bincount(terms, minlength=vocabulary_size).astype(np.float64)
        idf = np.log(n_rows - document_frequency + 0.5) - np.log(document_frequency + 0.5)
        if len(idf):
            floor = EPSILON * float(idf.mean())
            idf = np.where(idf < 0, floor, idf)
        average_length = float(lengths.sum() / n_rows) if n_rows else 0.0
        values = np.empty(len(terms), dtype=np.float32)
        for first in range(0, n_rows, self.block):  # bounded float64 temporaries
            last = min(first + self.block, n_rows)
            span = slice(indptr[first], indptr[last])
            tf = counts[span].astype(np.float64)
            row_lengths = np.repeat(lengths[first:last], widths[first:last])
            denominator = tf + K1 * (1 - B + B * row_lengths / max(average_length, 1e-12))
            values[span] = idf[terms[span]] * tf * (K1 + 1) / denominator
        del counts  # before the transposition, which holds the matrix twice
        by_row = sp.csr_matrix((values, terms, indptr), shape=(n_rows, vocabulary_size))
        weights = by_row.T.tocsr()  # one transposition: each term's rows stay in order
        weights.sort_indices()
        return weights


@dataclass(frozen=True)
class BM25Index:
    """Per-term BM25 weights for every row: ``weights[term, row]``."""

    vocabulary: dict[str, int]
    weights: sp.csr_matrix

    @property
    def size(self) -> int:
        return int(self.weights.shape[1])

    @classmethod
    def build(cls, rows: Iterable[Sequence[str]], block: int = BUILD_BLOCK) -> BM25Index:
        """Weights equal to ``BM25Okapi(rows).get_scores([term])`` for every term.

        ``rows`` is read once, one row at a time (a generator does), and only each row's
        distinct term ids and counts are kept, in numpy blocks of ``block`` rows: a million
        passages' token lists held at once took most of a 11.5 GB build. The weights need
        the corpus-wide document frequencies and average length, so they are computed
        after the last row.
        """
        vocabulary: dict[str, int] = {}
        postings = _RowPostings(block)
        for tokens in rows:
            distinct = Counter(tokens)
            postings.add(
                [vocabulary.setdefault(t, len(vocabulary)) for t in distinct],
                list(distinct.values()),
                len(tokens),
            )
        return cls(vocabulary, postings.weights(len(vocabulary)))

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every row; a repeated query term counts each time, as in BM25Okapi."""
        counts = Counter(t for t in query_tokens if t in self.vocabulary)
        if not counts:
            return np.zeros(self.size, dtype=np.float32)
        ids = np.fromiter((self.vocabulary[t] for t in counts), dtype=np.int64)
        multiplicity = np.fromiter(counts.values(), dtype=np.float32)
        postings = self.weights[ids]
        # A load checks large arrays by samples only; a damaged row number would make the
        # product below write outside its array, so the rows read are checked first.
        if postings.nnz and not 0 <= postings.indices.min() <= postings.indices.max() < self.size:
            raise IndexCorrupt(
                "the BM25 index is damaged (a posting names a passage that does not exist)"
            )
        result: np.ndarray = np.asarray(multiplicity @ postings).ravel()
        return result

    def top(
        self, query_tokens: Sequence[str], k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the ``k`` best rows with a positive score, best first."""
        scores = self.scores(query_tokens)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        return top_k(scores, k)


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest positive scores, best first, ties by row."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) > k:
        part = np.argpartition(-scores[positive], k - 1)[:k]
        positive = positive[part]
    order = np.lexsort((positive, -scores[positive]))
    chosen = positive[order]
    return chosen, scores[chosen]
