"""Query vectors through ONNX Runtime: sentence-transformers' vectors, in a fraction of the time.

A query is ~20 tokens; at that size PyTorch's per-operator overhead, not arithmetic,
dominates a forward pass (about 24 ms on two cores). ONNX Runtime runs the same graph with
fused kernels in about 10 ms, with vectors equal to sentence-transformers' (cosine >
0.99999). It serves models made of a transformer, mean pooling and normalization (like
e5); the graph is exported once from the sentence-transformers model, next to it, and
quantized once to int8 (``quantize``), which halves a query's cost again and moves its
vector by a cosine of 0.003 on average.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

GRAPH = Path("onnx") / "encoder.onnx"
# The query graph with int8 weights (see quantize), derived from GRAPH next to it; the
# name changes whenever quantize changes, so an older derived graph is never served.
INT8_GRAPH = Path("onnx") / "encoder-int8-2.onnx"
# MatMuls left in fp32 by quantize: the feed-forward output projections of layers 0, 4
# and 5, whose inputs (after GELU) have the outliers one activation scale serves worst.
# Measured on e5-small one layer at a time (bench/encoder.py --sensitivity): these three
# halve how far int8 moves a query vector, for 3 % more CPU.
FP32_NODES = re.compile(r"/layer\.(0|4|5)/output/dense/")
_PIPELINE = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]


def supported(folder: Path) -> bool:
    """Whether the model at ``folder`` is a transformer + mean pooling + normalization."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    types = [m.get("type", "").replace(".base.modules.transformer", ".models") for m in modules]
    mean = pooling.get("pooling_mode") == "mean" or pooling.get("pooling_mode_mean_tokens") is True
    return types == _PIPELINE and mean and (folder / "tokenizer.json").exists()


def export(model: SentenceTransformer, folder: Path) -> Path:
    """Write the transformer's graph to ``folder / GRAPH`` (atomically) and return it."""
    import torch

    target = folder / GRAPH
    target.parent.mkdir(parents=True, exist_ok=True)

    class Hidden(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert  # a submodule, so its weights are exported as weights

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            hidden: torch.Tensor = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
            return hidden

    sample = model.tokenizer(["query: örnek"], return_tensors="pt")
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    axes = {"batch": 0, "tokens": 1}
    with warnings.catch_warnings():  # the tracer's notes on shapes it keeps dynamic anyway
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Hidden(model[0].auto_model).eval(),
            (sample["input_ids"], sample["attention_mask"]),
            str(tmp),
            input_names=["input_ids", "attention_mask"],
            output_names=["hidden"],
            dynamic_axes={
                n: {v: k for k, v in axes.items()} for n in ("input_ids", "attention_mask", "hidden")
            },
            opset_version=17,
            dynamo=False,
        )
    tmp.replace(target)
    return target


def weight_matmuls(graph: Path) -> list[str]:
    """The names of the graph's MatMuls by a weight matrix: what ``quantize`` makes int8."""
    import onnx

    model = onnx.load(str(graph), load_external_data=False)
    weights = {w.name for w in model.graph.initializer}
    return [n.name for n in model.graph.node if n.op_type == "MatMul" and set(n.input) & weights]


def quantize(folder: Path, skip: re.Pattern[str] | None = FP32_NODES, target: Path | None = None) -> Path:
    """Write ``target`` (``folder / INT8_GRAPH``), GRAPH with int8 weights (atomically),
    and return it.

    Dynamic quantization of the MatMuls by a weight matrix but ``skip`` (FP32_NODES),
    with a scale per output channel: half the CPU time per query. One scale per matrix
    moves the eval queries' vectors by a cosine of 0.013 on average (and MRR@10 by 0.013
    to 0.019), one per channel by 0.0036, and that with FP32_NODES in fp32 by 0.0017;
    see bench/encoder.py. Weights keep 7 bits (``reduce_range``), as ONNX Runtime
    advises for CPUs without VNNI, whose int8 kernels could saturate with 8; on a VNNI
    CPU this costs nothing measurable. Activations are quantized per call, with one
    scale for the whole input: a query batched with others gets another vector than
    alone, so the encoder runs it alone.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source, target = folder / GRAPH, target or folder / INT8_GRAPH
    nodes = [n for n in weight_matmuls(source) if not (skip and skip.search(n))]
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    quantize_dynamic(
        source,
        tmp,
        nodes_to_quantize=nodes,
        per_channel=True,
        reduce_range=True,
        weight_type=QuantType.QInt8,
    )
    tmp.replace(target)
    return target


class OnnxEncoder:
    """Tokenize, run the graph, mean-pool and normalize, as the sentence-transformers model does.

    ``alone``: run each text by itself, never padded into a batch (the default for a
    quantized graph, whose vectors would depend on the batch); ``threads``: intra-op
    threads of one call. Calls from several threads at once are safe.
    """

    def __init__(
        self, folder: Path, threads: int = 2, graph: Path = GRAPH, alone: bool | None = None
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.tokenizer: Any = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(int(config.get("max_seq_length", 512)))
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id("<pad>") or 0)
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        # Idle workers sleep instead of spinning: a spinning pool steals the cores the
        # vector search needs right after the encoder.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(folder / graph), options, providers=["CPUExecutionProvider"])
        self.alone = graph != GRAPH if alone is None else alone

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalized float32 vectors, one row per text (prompts already prefixed)."""
        if self.alone and len(texts) > 1:
            return np.vstack([self._encode([t]) for t in texts])
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        batch = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in batch], dtype=np.int64)
        mask = np.array([e.attention_mask for e in batch], dtype=np.int64)
        (hidden,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
        summed = (hidden * mask[..., None]).sum(axis=1)
        vectors = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
