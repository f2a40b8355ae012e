"""Query the hybrid index: BM25, dense, or both fused."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from indexer import fusion, store
from indexer.analysis import Analyzer
from indexer.chunking import Passage
from indexer.deascii import restore
from indexer.embedding import Embedder
from indexer.lexical import LexicalIndex
from indexer.settings import Settings

Mode = Literal["bm25", "dense", "hybrid"]
MODES: tuple[Mode, ...] = ("bm25", "dense", "hybrid")


@dataclass(frozen=True)
class Hit:
    """One ranked passage and the scores that placed it."""

    rank: int
    score: float
    passage: Passage
    bm25: float | None
    dense: float | None


@dataclass(frozen=True)
class SearchResult:
    query: str
    mode: Mode
    k: int
    took_ms: float
    hits: tuple[Hit, ...]


class SearchEngine:
    """Loaded index artifacts plus the query-side analyzer and model."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        folder = settings.index_dir
        manifest = store.read_manifest(folder)
        if manifest is None:
            raise store.IndexMissing(f"index not built at {folder}: run `python -m indexer build`")
        self.settings = settings
        self.manifest: dict[str, Any] = manifest
        self.analyzer: Analyzer = settings.analyzer()
        self.passages = store.read_passages(folder)
        self.ids = [p.id for p in self.passages]
        self.lexical = LexicalIndex(
            store.read_json(folder / store.TERMS), settings.bm25_variant, settings.bm25_k1, settings.bm25_b
        )
        self.vocabulary: dict[str, str] = store.read_json(folder / store.VOCABULARY)
        self.dense_index = store.read_dense(folder)
        self.vectors = self.dense_index.reconstruct_n(0, self.dense_index.ntotal)
        from indexer.build import resolve_model

        self.embedder = embedder or Embedder(resolve_model(settings), threads=settings.torch_threads)

    def __len__(self) -> int:
        return len(self.passages)

    def search(self, query: str, k: int = 10, mode: Mode = "hybrid") -> SearchResult:
        """The ``k`` best passages for ``query``; ties break on passage id."""
        started = time.perf_counter()
        depth = min(len(self), max(k, self.settings.candidates))
        lex_all = self.lexical.scores(self.analyzer.terms(query)) if mode != "dense" else None
        # The dense arm reads words, not folded terms: give ASCII-typed words their letters.
        qvec = self.embedder.query(restore(query, self.vocabulary)) if mode != "bm25" else None
        lex = _top(lex_all, depth) if lex_all is not None else {}
        den = self._dense(qvec, depth) if qvec is not None else {}
        if lex_all is not None and qvec is not None:
            # Score every candidate on both arms, so fusion and the breakdown are complete.
            den |= {i: float(self.vectors[i] @ qvec) for i in lex if i not in den}
            lex |= {i: float(lex_all[i]) for i in den if i not in lex}
            fused = self._fuse(lex, den)
        else:
            fused = lex or den
        order = fusion.top(fused, self.ids, k)
        hits = tuple(
            Hit(
                rank=r,
                score=float(fused[i]),
                passage=self.passages[i],
                bm25=lex.get(i, 0.0) if lex_all is not None else None,
                dense=den.get(i) if qvec is not None else None,
            )
            for r, i in enumerate(order, start=1)
        )
        took = (time.perf_counter() - started) * 1000
        return SearchResult(query, mode, k, round(took, 3), hits)

    def _dense(self, qvec: np.ndarray, depth: int) -> dict[int, float]:
        scores, idx = self.dense_index.search(qvec.reshape(1, -1), depth)
        return {int(i): float(s) for s, i in zip(scores[0], idx[0], strict=True) if i >= 0}

    def _fuse(self, lex: dict[int, float], den: dict[int, float]) -> dict[int, float]:
        if self.settings.fusion == "rrf":
            rank_lex = fusion.top({i: s for i, s in lex.items() if s > 0}, self.ids, len(lex))
            rank_den = fusion.top(den, self.ids, len(den))
            return fusion.rrf([rank_lex, rank_den], self.settings.rrf_k)
        return fusion.convex(lex, den, self.settings.dense_weight, self.settings.normalization)


def _top(scores: np.ndarray, depth: int) -> dict[int, float]:
    """The ``depth`` best positive scores, by index."""
    idx = np.arange(len(scores)) if depth >= len(scores) else np.argpartition(-scores, depth - 1)[:depth]
    return {int(i): float(scores[i]) for i in idx if scores[i] > 0}
