"""The ONNX export of a sentence-transformers model: made once per model beside the index,
verified against the model, quantized to INT8 per channel and kept with its SHA-256.

Builds export (:func:`export_query_encoder`); questions load the export through
:func:`qa.index.embedders.load_query_embedder`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from qa.filesystem import open_regular, read_bounded, sha256_of
from qa.index.embedders import SentenceTransformerEmbedder, mean_pooled_shape, resolve_model
from qa.index.onnx import OnnxEmbedder, OnnxEncoder

log = logging.getLogger(__name__)


# The export embeds through INT8 weights, one scale per output channel (onnxruntime's recipe
# for transformers): 2.6x the passages per second of the fp32 export on 2 cores, lowest
# cosine 0.986 to the fp32 vectors over the shipped corpus' passages, and the same qa eval
# figures at home (every question type) and on Medline (nDCG@10 0.7825 against 0.7833);
# quantized per tensor it lost a home question and 0.012 on Medline (README, "Speed and scale").
QUANTIZED_AGREEMENT = 0.97
"""Lowest cosine between the INT8 and fp32 export's vectors of the probe texts that is
accepted; below it the model is run by sentence-transformers."""


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
    if not mean_pooled_shape(model_dir):
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
