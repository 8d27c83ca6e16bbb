"""Faster ways to run the MiniLM ONNX export, for the benchmark's throughput comparison.

Each variant is written once beside the export and run through
:class:`qa.index.onnx.OnnxEmbedder` (OpenVINO through a small adapter), so the
benchmark compares only how the same network is executed:

- ``optimized``: onnxruntime's transformer optimizer (attention, layer norm and GELU fused).
- ``dynamic``: weights INT8 per tensor, activations quantized at run time
  (``quantize_dynamic`` with its defaults).
- ``dynamic per channel``: onnxruntime's recipe for transformers: pre-processing (shape
  inference and graph optimisation), then INT8 weights with one scale per output channel.
- ``static``: QDQ INT8 of the matrix products with activation ranges calibrated on corpus
  passages (S8S8, per channel, the format onnxruntime recommends first for static
  quantization on CPU).
- OpenVINO's CPU runtime reading the fp32 export as it is.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.index.export import quantize_per_channel
from qa.index.onnx import OnnxEmbedder, OnnxEncoder, load_tokenizer, token_feed

CALIBRATION_PASSAGES = 64  # passages whose activations set the static ranges


def _written(target: Path, write: Callable[[Path], None]) -> Path:
    """``target``, written by ``write`` through a temporary file the first time."""
    if not target.is_file():
        temporary = target.with_name(f"tmp-{os.getpid()}-{target.name}")
        try:
            write(temporary)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
    return target


def optimized(onnx_file: Path) -> Path:
    def write(target: Path) -> None:
        from onnxruntime.transformers.optimizer import optimize_model

        # 0 heads and 0 hidden size: the optimizer reads both from the graph.
        optimize_model(
            str(onnx_file), model_type="bert", num_heads=0, hidden_size=0
        ).save_model_to_file(str(target))

    return _written(onnx_file.with_suffix(".optimized.onnx"), write)


def dynamic(onnx_file: Path, per_channel: bool) -> Path:
    """Per channel: the recipe builds use (:func:`qa.index.export.quantize_per_channel`)."""

    def write(target: Path) -> None:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        if per_channel:
            quantize_per_channel(onnx_file, target)
        else:
            quantize_dynamic(onnx_file, target, weight_type=QuantType.QInt8)

    suffix = ".int8-channel.onnx" if per_channel else ".int8-tensor.onnx"
    return _written(onnx_file.with_suffix(suffix), write)


def static(onnx_file: Path, tokenizer_file: Path, passages: Sequence[str]) -> Path:
    def write(target: Path) -> None:
        import onnxruntime
        from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static
        from onnxruntime.quantization.shape_inference import quant_pre_process

        tokenizer = load_tokenizer(tokenizer_file, 256)
        inputs = [i.name for i in onnxruntime.InferenceSession(str(onnx_file)).get_inputs()]

        class Passages(CalibrationDataReader):
            def __init__(self) -> None:
                self._feeds: Iterator[dict[str, np.ndarray]] = (
                    token_feed([tokenizer.encode(p)], inputs)
                    for p in passages[:CALIBRATION_PASSAGES]
                )

            def get_next(self) -> dict[str, np.ndarray] | None:
                return next(self._feeds, None)

        source = target.with_suffix(".pre.onnx")
        quant_pre_process(str(onnx_file), str(source), skip_symbolic_shape=True)
        try:
            # Quantizing every op kept a lowest cosine of 0.75 to fp32; the matrix
            # products alone 0.90 (shipped corpus, 64 passages calibrated, 60 compared).
            quantize_static(
                source,
                target,
                Passages(),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
            )
        finally:
            source.unlink(missing_ok=True)

    return _written(onnx_file.with_suffix(".int8-static.onnx"), write)


class _OpenVinoSession:
    """The two methods of an onnxruntime session that OnnxEmbedder uses, run by OpenVINO."""

    def __init__(self, onnx_file: Path) -> None:
        import openvino

        self._model = openvino.Core().compile_model(str(onnx_file), "CPU")

    def get_inputs(self) -> list[Any]:
        return [_Named(port.get_any_name()) for port in self._model.inputs]

    def run(self, _outputs: None, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        return [np.asarray(self._model(feed)[self._model.output(0)])]


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name


def openvino_embedder(name: str, encoder: OnnxEncoder) -> OnnxEmbedder | None:
    """The export run by OpenVINO, or None where the ``openvino`` package is not installed."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return None
    embedder = OnnxEmbedder(name, encoder)
    session = _OpenVinoSession(encoder.onnx_file)
    embedder._session = session
    embedder._inputs = [i.name for i in session.get_inputs()]
    return embedder
