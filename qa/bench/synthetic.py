"""Large realistic corpora for the benchmark, resampled from the shipped documents.

A generated passage is a numbered paragraph of sentences drawn from the corpus, with
some words varied: numbers become other numbers, and "swappable" words become other
swappable words or invented proper names (drawn from a Zipf law, so the vocabulary keeps
growing with the corpus as real vocabularies do). BM25 posting lists therefore look like
those of a real collection rather than of five documents copied many times.

Embedding a million passages with the real model takes hours on two cores, so the
benchmark indexes them with :class:`SyntheticEmbedder`: each corpus sentence is embedded
once with the real model, and a passage's vector is the normalised mean of its sentences'
vectors plus a little seeded noise. The vectors thus live in the real model's space and
real questions embedded by the real model search them as they would search real ones.

Example::

    vocabulary = corpus_vocabulary(load_corpus(Path("corpus")).documents)
    write_corpus(vocabulary, 10_000, Path("/tmp/corpus-10k"))
    embedder = SyntheticEmbedder(vocabulary, real_model.encode(list(vocabulary.sentences)))
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.text import SENTENCE_BREAK, normalise_space
from qa.types import Document

_DIGITS = re.compile(r"\d+")
_SYLLABLES = ("bren", "ford", "ham", "ley", "mar", "ton", "wick", "ash", "el", "dal", "ro", "sby")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` with whitespace collapsed; a generated passage splits the same way."""
    return [s for s in SENTENCE_BREAK.split(normalise_space(text)) if s]


def invented_name(number: int) -> str:
    """A pronounceable proper name, distinct for every ``number``."""
    parts = []
    while True:
        number, digit = divmod(number, len(_SYLLABLES))
        parts.append(_SYLLABLES[digit])
        if number == 0:
            return "".join(parts).capitalize()
        number -= 1


@dataclass(frozen=True)
class Vocabulary:
    """The sentences a generated corpus resamples, and the words it may vary.

    ``anchors`` are the words variation never touches: a sentence's anchors in their
    places (its :meth:`key`) name the corpus sentence it came from.
    """

    sentences: tuple[str, ...]
    swappable: tuple[str, ...]
    anchors: frozenset[str]

    def key(self, sentence: str) -> str:
        return " ".join(word if word in self.anchors else "_" for word in sentence.split())


def corpus_vocabulary(documents: Iterable[Document], seed: int = 0) -> Vocabulary:
    """Distinct sentences of ``documents``; about half of their longer words are swappable."""
    sentences = sorted({s for d in documents for s in split_sentences(d.text) if len(s) > 20})
    words = sorted({w for s in sentences for w in s.split()})
    rng = np.random.default_rng(seed)
    swap = rng.random(len(words)) < 0.5
    swappable = tuple(
        w for w, s in zip(words, swap, strict=True) if s and w.isalpha() and len(w) > 3
    )
    chosen = set(swappable)
    anchors = frozenset(w for w in words if w not in chosen and not any(c.isdigit() for c in w))
    return Vocabulary(tuple(sentences), swappable, anchors)


def _varied(vocabulary: Vocabulary, sentence: str, rng: np.random.Generator) -> str:
    words = sentence.split()
    draws = rng.random(len(words))
    for i, word in enumerate(words):
        if any(c.isdigit() for c in word):
            words[i] = _DIGITS.sub(lambda _: str(int(rng.integers(1, 3000))), word)
        elif word not in vocabulary.anchors and draws[i] < 0.3:
            if draws[i] < 0.1:
                words[i] = invented_name(int(rng.zipf(1.3)) % 1_000_000)
            else:
                words[i] = vocabulary.swappable[int(rng.integers(len(vocabulary.swappable)))]
    return " ".join(words)


def generate_document(vocabulary: Vocabulary, number: int, paragraphs: int, seed: int) -> str:
    """Text of generated document ``number``: a title and numbered paragraphs of 3–5 sentences."""
    rng = np.random.default_rng([seed, number])
    lines = [f"Report {number} of {invented_name(number)} Council", ""]
    for paragraph in range(1, paragraphs + 1):
        picks = rng.integers(len(vocabulary.sentences), size=int(rng.integers(3, 6)))
        body = " ".join(_varied(vocabulary, vocabulary.sentences[i], rng) for i in picks)
        lines += [f"{paragraph}. {body}", ""]
    return "\n".join(lines)


def sample_passages(vocabulary: Vocabulary, seed: int) -> list[str]:
    """The 256 passages of one generated document (its title left out): what the real model
    is timed on, so its throughput is measured on passages like those it would index."""
    text = generate_document(vocabulary, 0, 256, seed)
    return [p for p in text.split("\n\n")[1:] if p.strip()]


def write_corpus(
    vocabulary: Vocabulary, passages: int, folder: Path, seed: int = 0, per_document: int = 100
) -> int:
    """Write about ``passages`` paragraphs as text files under ``folder``; return the file count."""
    folder.mkdir(parents=True, exist_ok=True)
    files = -(-passages // per_document)
    for number in range(files):
        size = min(per_document, passages - number * per_document)
        path = folder / f"{number // 1000:04d}" / f"report-{number:07d}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(generate_document(vocabulary, number, size, seed), encoding="utf-8")
    return files


def generate_queries(
    vocabulary: Vocabulary, questions: Sequence[str], count: int, seed: int = 0
) -> list[str]:
    """``questions`` first, then phrases of 4–9 words cut from varied corpus sentences."""
    rng = np.random.default_rng(seed)
    queries = list(questions[:count])
    while len(queries) < count:
        words = _varied(
            vocabulary, vocabulary.sentences[rng.integers(len(vocabulary.sentences))], rng
        )
        split = words.split()
        start = int(rng.integers(max(1, len(split) - 4)))
        queries.append(" ".join(split[start : start + int(rng.integers(4, 10))]))
    return queries


class SyntheticEmbedder:
    """Passage vectors composed from real-model sentence vectors; see the module docstring.

    ``sentence_vectors[i]`` is the real model's vector of ``vocabulary.sentences[i]``.
    Sentences it does not recognise (cut by the chunker) add nothing but noise.
    """

    def __init__(
        self,
        vocabulary: Vocabulary,
        sentence_vectors: np.ndarray,
        name: str = "synthetic",
        max_tokens: int = 256,
        noise: float = 0.01,
    ) -> None:
        self._rows = {vocabulary.key(s): i for i, s in enumerate(vocabulary.sentences)}
        self._vectors = np.asarray(sentence_vectors, dtype=np.float32)
        self._key = vocabulary.key
        self.name = name
        self.dimension = int(self._vectors.shape[1])
        self.max_tokens = max_tokens
        self.noise = noise
        # It stands in for the INT8 export, which embeds the benchmark's questions: the
        # index it builds must be one the question encoder may search.
        self.quantized = True

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            rows = [self._rows.get(self._key(s), -1) for s in split_sentences(text)]
            known = [r for r in rows if r >= 0]
            if known:
                vectors[i] = self._vectors[known].mean(axis=0)
            rng = np.random.default_rng(zlib.crc32(text.encode("utf-8", "replace")))
            vectors[i] += rng.normal(0.0, self.noise, self.dimension).astype(np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2
