"""The ONNX encoders: the exported graph gives sentence-transformers' vectors, for any
query shape (what queries go through by default); its int8 version (RAPOR_QUERY_INT8)
vectors close to them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from indexer import onnx_encoder
from indexer.embedding import Embedder
from indexer.settings import Settings

QUERIES = [
    "kreşler nerede?",
    "kac tane mavi bayrakli plaj var",
    "5216 s.K.m.7/a",
    "İZMİR'İN ÇÖP TOPLAMA GÜNLERİ",
    "",
    "su " * 600,  # past 512 tokens: truncated like sentence-transformers does
]


@pytest.fixture(scope="module")
def torch_embedder(model_path: str) -> Embedder:
    return Embedder(model_path, backend="torch")


@pytest.fixture(scope="module")
def fp32_embedder(model_path: str) -> Embedder:
    """Queries through the exported graph, concurrent ones batched."""
    return Embedder(model_path, int8=False)


@pytest.fixture(scope="module")
def int8_embedder(model_path: str) -> Embedder:
    """Queries through the int8 graph, each alone on two workers."""
    return Embedder(model_path, int8=True)


def cosines(a: list[np.ndarray], b: list[np.ndarray]) -> np.ndarray:
    ours, theirs = np.stack(a), np.stack(b)
    assert ours.dtype == np.float32 and ours.shape == (len(QUERIES), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    found: np.ndarray = np.sum(ours * theirs, axis=1)
    return found


def test_the_bundled_e5_runs_on_onnx(fp32_embedder: Embedder, int8_embedder: Embedder) -> None:
    assert fp32_embedder.backend == "onnx"
    assert fp32_embedder.dim == 384
    fp32_embedder.query("kreş")  # the graph is exported on first use
    assert fp32_embedder.graph == onnx_encoder.GRAPH
    assert (Path(fp32_embedder.model_path) / onnx_encoder.GRAPH).exists()
    int8_embedder.query("kreş")  # and quantized on first use of int8
    assert int8_embedder.graph == onnx_encoder.INT8_GRAPH
    assert (Path(int8_embedder.model_path) / onnx_encoder.INT8_GRAPH).exists()


def test_the_service_queries_through_int8_by_default(embedder: Embedder) -> None:
    assert Settings().query_int8 and embedder.graph == onnx_encoder.INT8_GRAPH
    graph = onnx.load(str(Path(embedder.model_path) / onnx_encoder.INT8_GRAPH), load_external_data=False)
    fp32 = {n.name for n in graph.graph.node if n.op_type == "MatMul"}
    # The three feed-forward outputs that int8 moves most stay fp32; every other
    # MatMul by a weight matrix is an integer one.
    kept = {n.split("/")[3] for n in fp32 if onnx_encoder.FP32_NODES.search(n)}
    assert kept == {"layer.0", "layer.4", "layer.5"}
    weighted = onnx_encoder.weight_matmuls(Path(embedder.model_path) / onnx_encoder.GRAPH)
    assert len(weighted) == 72  # six per layer
    assert sum(n.op_type == "MatMulInteger" for n in graph.graph.node) == len(weighted) - 3


def test_onnx_vectors_equal_sentence_transformers_vectors(
    fp32_embedder: Embedder, torch_embedder: Embedder
) -> None:
    theirs = torch_embedder._encode_queries(QUERIES)
    assert np.min(cosines(fp32_embedder._encode_queries(QUERIES), theirs)) > 0.9999


def test_int8_query_vectors_stay_close_to_sentence_transformers_vectors(
    int8_embedder: Embedder, torch_embedder: Embedder
) -> None:
    # int8 weights move a vector: over the 945 eval query texts of bench.encoder by a
    # cosine of 0.0017 on average, 0.003 at most (0.0036 and 0.008 with every MatMul
    # integer), which leaves eval MRR@10 within 0.002. Here 0.001 to 0.003, and 0.007 for
    # the empty query (nothing but the prompt).
    found = cosines(int8_embedder._encode_queries(QUERIES), torch_embedder._encode_queries(QUERIES))
    assert np.min(found) > 0.99
    assert np.median(found) > 0.997


@pytest.mark.parametrize("name", ["int8", "fp32"])
def test_a_batch_gives_each_query_its_own_vector(
    name: str, fp32_embedder: Embedder, int8_embedder: Embedder
) -> None:
    # fp32: a padded batch; int8 runs each query alone (a batch would change its
    # activations' quantization scale), so they are equal exactly.
    chosen = int8_embedder if name == "int8" else fp32_embedder
    together = np.stack(chosen._encode_queries(QUERIES))
    alone = np.stack([chosen._encode_queries([q])[0] for q in QUERIES])
    assert np.min(np.sum(together * alone, axis=1)) > (1 - 1e-6 if name == "int8" else 0.9999)


def test_small_passage_jobs_go_through_the_exported_graph_not_int8(
    int8_embedder: Embedder, torch_embedder: Embedder
) -> None:
    texts = ["Mavi Bayraklı Halk Plajı sayısı 40'a ulaşmıştır.", "Kreşlerde 1200 çocuk eğitim aldı."]
    ours = int8_embedder.passages(texts)  # a small job: through ONNX
    assert int8_embedder.passage_onnx.alone is False
    assert np.min(np.sum(ours * torch_embedder.passages(texts), axis=1)) > 0.9999


def test_other_models_fall_back_to_sentence_transformers(tmp_path: Path) -> None:
    assert not onnx_encoder.supported(tmp_path)
    (tmp_path / "modules.json").write_text('[{"type": "sentence_transformers.models.Transformer"}]')
    assert not onnx_encoder.supported(tmp_path)
