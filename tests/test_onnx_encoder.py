"""The ONNX query encoder gives sentence-transformers' vectors, for any query shape."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer import onnx_encoder
from indexer.embedding import Embedder

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


def test_the_bundled_e5_runs_on_onnx(embedder: Embedder) -> None:
    assert embedder.backend == "onnx"
    assert embedder.dim == 384
    embedder.query("kreş")  # the graph is exported on first use
    assert (Path(embedder.model_path) / onnx_encoder.GRAPH).exists()


def test_onnx_vectors_equal_sentence_transformers_vectors(
    embedder: Embedder, torch_embedder: Embedder
) -> None:
    ours = np.stack(embedder._encode_queries(QUERIES))
    theirs = np.stack(torch_embedder._encode_queries(QUERIES))
    assert ours.dtype == np.float32 and ours.shape == (len(QUERIES), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(ours * theirs, axis=1)) > 0.9999


def test_a_padded_batch_gives_each_query_its_own_vector(embedder: Embedder) -> None:
    together = np.stack(embedder._encode_queries(QUERIES))
    alone = np.stack([embedder._encode_queries([q])[0] for q in QUERIES])
    assert np.min(np.sum(together * alone, axis=1)) > 0.9999


def test_other_models_fall_back_to_sentence_transformers(tmp_path: Path) -> None:
    assert not onnx_encoder.supported(tmp_path)
    (tmp_path / "modules.json").write_text('[{"type": "sentence_transformers.models.Transformer"}]')
    assert not onnx_encoder.supported(tmp_path)
