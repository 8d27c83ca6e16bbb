"""The naive anchor: what a plain BM25 + MiniLM fusion finds among the same units.

A figure of ``qa eval`` means little alone: 0.78 nDCG@10 is good on one collection and
poor on another. So every run also ranks the same units (our chunks for a reference set,
whole documents for BEIR) with the simplest hybrid anyone would build, and reports each
figure beside it and as a ratio to it. A retrieval choice earns its place only if it beats
this anchor outside our own corpus (issue 15).

The anchor is fixed, whatever the product's defaults become: ``rank_bm25.BM25Okapi`` on
the Snowball-stemmed tokens of :func:`qa.index.lexical.tokenize`, all-MiniLM-L6-v2 cosine
(no prefix, the model's own 256-token truncation) and reciprocal rank fusion (k = 60) of
the two full rankings. On Medline (``../shared/beir/med``, whole documents) it gives
nDCG@10 0.694 (BM25) and 0.788 (MiniLM) as ``shared/beir/README.md`` lists, and 0.791 for
the fusion, where that README gives 0.795 without saying how the rankings were cut or ties
broken (fusing only the top 20 of each gives 0.794; we keep the full rankings).

Embedding every unit is the slow part (minutes for Medline on two loaded cores), so the
vectors are kept in a cache folder under a key of the model and the unit texts.

Example::

    anchor = Anchor.build(texts, anchor_embedder(), cache=Path("reports/work"), name="med")
    rows = anchor.rankings("lens of the eye", depth=10)[AnchorMethod.RRF]
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.index.embedders import Embedder
from qa.index.lexical import TOKENIZER_VERSION, tokenize
from qa.pipeline.fusion import reciprocal_rank_fusion
from qa.types import Choice

ANCHOR_RRF_K = 60
ANCHOR_DESCRIPTION = (
    f"rank-bm25 BM25Okapi on Snowball-stemmed tokens (qa tokenizer v{TOKENIZER_VERSION}),"
    f" all-MiniLM-L6-v2 cosine, RRF k={ANCHOR_RRF_K} of the full rankings"
)
_BATCH = 64  # units embedded between two progress updates


class AnchorMethod(Choice):
    """The anchor's two rankers and their fusion; ratios are taken to the fusion."""

    BM25 = "bm25"
    MINILM = "minilm"
    RRF = "rrf"


def anchor_embedder() -> Embedder:
    """The anchor's embedding model: the bundled all-MiniLM-L6-v2, whatever the default."""
    from qa.index.embedders import load_embedder
    from qa.settings import BUNDLED_MODEL

    return load_embedder(BUNDLED_MODEL)


def _cache_key(texts: Sequence[str], embedder: Embedder) -> str:
    digest = hashlib.sha256(f"{embedder.name}\0{TOKENIZER_VERSION}".encode())
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()[:16]


def unit_vectors(
    texts: Sequence[str],
    embedder: Embedder,
    cache: Path | None,
    name: str,
    progress: Callable[[int, str], Any] | None = None,
) -> np.ndarray:
    """The embeddings of ``texts``, read from ``cache/anchor-<name>-<key>.npy`` when the same
    model embedded the same texts before; a new file replaces the older ones of ``name``."""
    path = cache / f"anchor-{name}-{_cache_key(texts, embedder)}.npy" if cache else None
    if path is not None and path.is_file():
        return np.load(path)
    bar = progress(len(texts), f"Anchor {name}") if progress and texts else None
    parts = []
    for start in range(0, len(texts), _BATCH):
        parts.append(embedder.encode(texts[start : start + _BATCH]))
        if bar is not None:
            bar.update(len(parts[-1]))
    if bar is not None:
        bar.close()
    vectors = np.concatenate(parts) if parts else np.zeros((0, embedder.dimension), np.float32)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        for older in path.parent.glob(f"anchor-{name}-*.npy"):
            older.unlink()
        np.save(path, vectors)
    return vectors


@dataclass(frozen=True)
class Anchor:
    """The anchor's rankers over a fixed list of units; a ranking is a list of unit numbers."""

    bm25: Any  # rank_bm25.BM25Okapi (untyped)
    vectors: np.ndarray
    embedder: Embedder

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        embedder: Embedder,
        cache: Path | None = None,
        name: str = "units",
        progress: Callable[[int, str], Any] | None = None,
    ) -> Anchor:
        from rank_bm25 import BM25Okapi

        if not texts:
            raise ValueError("the anchor needs at least one unit to rank")
        bm25 = BM25Okapi([tokenize(text) for text in texts])
        return cls(bm25, unit_vectors(texts, embedder, cache, name, progress), embedder)

    def rankings(self, query: str, depth: int) -> dict[AnchorMethod, list[int]]:
        """The top ``depth`` units of each method for ``query``, best first.

        Ties keep unit order (a stable sort), so the anchor is deterministic.
        """
        lexical = np.asarray(self.bm25.get_scores(tokenize(query)), dtype=np.float64)
        dense = self.vectors @ self.embedder.encode([query])[0]
        orders = {
            AnchorMethod.BM25: np.argsort(-lexical, kind="stable"),
            AnchorMethod.MINILM: np.argsort(-dense, kind="stable"),
        }
        fused, _ = reciprocal_rank_fusion(
            [(order, np.zeros(len(order))) for order in orders.values()], k=ANCHOR_RRF_K
        )
        orders[AnchorMethod.RRF] = fused
        return {method: order[:depth].tolist() for method, order in orders.items()}
