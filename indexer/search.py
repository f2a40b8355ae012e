"""Query the hybrid index: BM25, dense, or both fused."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from indexer import fusion, store
from indexer.analysis import Analyzer
from indexer.chunking import Passage
from indexer.deascii import restore
from indexer.embedding import Embedder
from indexer.legal import parse_ref
from indexer.lexical import LexicalIndex
from indexer.rerank import MatchIndex
from indexer.sentences import best_per_passage
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
    sentence: float | None
    cites: bool | None  # cites the reference the query names; None when it names none


@dataclass(frozen=True)
class SearchResult:
    query: str
    mode: Mode
    k: int
    took_ms: float
    hits: tuple[Hit, ...]
    stages: dict[str, float] = field(default_factory=dict)  # milliseconds per stage


class SearchEngine:
    """Loaded index artifacts plus the query-side analyzer and model."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        folder = settings.index_dir
        manifest = store.read_manifest(folder)
        if manifest is None:
            raise store.IndexMissing(f"index not built at {folder}: run `python -m indexer build`")
        store.verify(folder, manifest)
        self.settings = settings
        self.manifest: dict[str, Any] = manifest
        self.analyzer: Analyzer = settings.analyzer()
        self.passages = store.read_passages(folder)
        self.ids = [p.id for p in self.passages]
        self.tie = np.argsort(np.argsort(np.array(self.ids)))  # each passage's rank by id
        terms: list[list[str]] = store.read_json(folder / store.TERMS)
        self.lexical = LexicalIndex(terms, settings.bm25_variant, settings.bm25_k1, settings.bm25_b)
        tables = [p.kind == "table" for p in self.passages]
        self.matches = MatchIndex.build(terms, _titles(self.passages, self.analyzer), tables)
        self.vocabulary: dict[str, str] = store.read_json(folder / store.VOCABULARY)
        self.citations: dict[str, list[int]] = store.read_json(folder / store.CITATIONS)
        self.dense_index = store.read_dense(folder)
        self.vectors = self.dense_index.reconstruct_n(0, self.dense_index.ntotal)
        self.sentence_vectors, self.sentence_starts = store.read_sentences(folder)
        from indexer.build import resolve_model

        self.embedder = embedder or Embedder(
            resolve_model(settings),
            threads=settings.torch_threads,
            backend=settings.query_backend,
            int8=settings.query_int8,
        )
        if manifest.get("model_id") != self.embedder.model_id:
            raise store.IndexMissing(
                f"index at {folder} was built with {manifest.get('model_id')}, the model is "
                f"{self.embedder.model_id}: rebuild it with `python -m indexer build`"
            )
        if self.embedder.dim != self.dense_index.d:
            raise store.IndexMissing(
                f"index at {folder} has {self.dense_index.d}-dimensional vectors, the model gives "
                f"{self.embedder.dim}: rebuild it with `python -m indexer build`"
            )
        self.embedder.query("")  # loads the query encoder now, not at the first search

    def with_settings(self, settings: Settings) -> SearchEngine:
        """This loaded index under other query-time settings (fusion, weights, depth);
        settings that change the index or BM25 need a new engine."""
        other = copy.copy(self)
        other.settings = settings
        return other

    def __len__(self) -> int:
        return len(self.passages)

    def search(self, query: str, k: int = 10, mode: Mode = "hybrid") -> SearchResult:
        """The ``k`` best passages for ``query``; ties break on passage id."""
        clock = _Clock()
        depth = min(len(self), max(k, self.settings.candidates))
        terms = self.analyzer.terms(query)
        if not terms:  # only stop words or punctuation: nothing to look for, in any arm
            clock.lap("analysis")
            return SearchResult(query, mode, k, round(clock.total(), 3), (), clock.laps)
        ref = parse_ref(query) if mode == "hybrid" else None
        clock.lap("analysis")
        lex_all = self.lexical.scores(terms) if mode != "dense" else None
        clock.lap("bm25")
        qvec = None
        if mode != "bm25":
            # The dense arm reads words, not folded terms: give ASCII-typed words their letters.
            qvec = self.embedder.query(restore(query, self.vocabulary))
        clock.lap("embedding")
        cited = set(self.citations.get(ref.canonical, ())) if ref else set()
        candidates, arms = self._arms(lex_all, qvec, depth, cited)
        clock.lap("vectors")
        tie = self.tie[candidates]
        fused = arms[0] if mode == "bm25" else self._fuse(arms, tie)
        if mode == "hybrid":
            fused = self._rerank(fused, candidates, terms)
        cites = np.isin(candidates, list(cited))
        # A passage citing the very reference the query names outranks any near-miss: the
        # re-ranked score is at most 1, so +1 puts every citing passage first.
        fused = fused + cites
        lex = arms[0] if lex_all is not None else None
        dense = arms[-2:] if qvec is not None else None
        hits = tuple(
            Hit(
                rank=r,
                score=float(fused[at]),
                passage=self.passages[candidates[at]],
                bm25=float(lex[at]) if lex is not None else None,
                dense=float(dense[0][at]) if dense is not None else None,
                sentence=float(dense[1][at]) if dense is not None else None,
                cites=bool(cites[at]) if ref else None,
            )
            for r, at in enumerate(fusion.top(fused, tie, k), start=1)
        )
        clock.lap("fusion")
        return SearchResult(query, mode, k, round(clock.total(), 3), hits, clock.laps)

    def _arms(
        self, lex_all: np.ndarray | None, qvec: np.ndarray | None, depth: int, extra: set[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The union of the arms' top ``depth`` candidates and ``extra`` (sorted passage
        indices), and each arm's scores over them (one row per arm)."""
        full: list[np.ndarray] = []
        found = [np.fromiter(extra, dtype=np.int64, count=len(extra))]
        if lex_all is not None:
            full.append(lex_all)
            best = _top(lex_all, depth)
            found.append(best[lex_all[best] > 0])
        if qvec is not None:
            _, idx = self.dense_index.search(qvec.reshape(1, -1), depth)
            found.append(idx[0][idx[0] >= 0].astype(np.int64))
            # Cosines rounded to 1e-6: a matrix product may round identical rows differently
            # by their position, and equal passages must tie exactly (then break on id).
            sentence = best_per_passage(np.round(self.sentence_vectors @ qvec, 6), self.sentence_starts)
            found.append(_top(sentence, depth))
        candidates = np.unique(np.concatenate(found))
        if qvec is not None:
            passage = np.round(self.vectors[candidates] @ qvec, 6)
            return candidates, np.vstack([*(a[candidates] for a in full), passage, sentence[candidates]])
        return candidates, np.vstack([a[candidates] for a in full]) if full else np.zeros((0, 0))

    def _fuse(self, arms: np.ndarray, tie: np.ndarray) -> np.ndarray:
        s = self.settings
        weights = [s.bm25_weight, s.dense_weight, s.sentence_weight][-len(arms) :]
        total = sum(weights)
        # Only the ratios are settings; scaled to sum 1, a fused score stays in [0, 1].
        weights = [w / total for w in weights] if total > 0 else [1 / len(arms)] * len(arms)
        if s.fusion == "rrf":
            return fusion.rrf(arms[[w > 0 for w in weights]], tie, s.rrf_k)
        return fusion.convex(arms, weights, s.normalization)

    def _rerank(self, fused: np.ndarray, candidates: np.ndarray, terms: list[str]) -> np.ndarray:
        """Fused scores plus the weighted match features, scaled back into [0, 1]."""
        s = self.settings
        weights = np.array([s.coverage_weight, s.title_weight, s.phrase_weight, s.table_weight])
        if not len(fused) or not weights.any():
            return fused
        base = fused if s.fusion == "convex" else fusion.min_max(fused)
        bonus = weights @ self.matches.features(terms, candidates)
        return np.asarray((base + bonus) / (1.0 + float(weights.sum())))


class _Clock:
    """Milliseconds spent in each named stage, in order."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = (now - self.last) * 1000
        self.last = now

    def total(self) -> float:
        return (self.last - self.started) * 1000


def _titles(passages: list[Passage], analyzer: Analyzer) -> list[list[str]]:
    """Each passage's title terms: its last two section-path levels (the subsection and the
    department or heading that frames it); paths repeat, so each is analyzed once."""
    seen: dict[tuple[str, ...], list[str]] = {}
    for p in passages:
        if p.path[-2:] not in seen:
            seen[p.path[-2:]] = analyzer.terms(" ".join(p.path[-2:]))
    return [seen[p.path[-2:]] for p in passages]


def _top(scores: np.ndarray, depth: int) -> np.ndarray:
    """Indices of the ``depth`` best scores, in no particular order."""
    if depth >= len(scores):
        return np.arange(len(scores), dtype=np.int64)
    return np.argpartition(-scores, depth - 1)[:depth].astype(np.int64)
