"""Query the hybrid index: BM25, dense, or both fused."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from indexer import store
from indexer.analysis import Analyzer
from indexer.build import mismatch
from indexer.chunking import Passage
from indexer.dense_query import dense_text
from indexer.embedding import Embedder
from indexer.legal import parse_ref, same_clause
from indexer.lexical import LexicalIndex
from indexer.ranking import MODES, Candidates, Clock, Hit, Mode, SearchResult, hits, rank
from indexer.rerank import MatchIndex, title_text
from indexer.sentences import best_per_passage
from indexer.settings import Settings

__all__ = ["MODES", "Hit", "Mode", "SearchEngine", "SearchResult"]


class SearchEngine:
    """Loaded index artifacts plus the query-side analyzer and model."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        folder = settings.index_dir
        manifest = store.read_manifest(folder)
        if manifest is None:
            raise store.IndexMissing(f"index not built at {folder}: run `python -m indexer build`")
        store.verify(folder, manifest)
        # Terms analyzed one way and queries another would match silently wrong (the model
        # is checked against the query encoder below).
        problem = mismatch(settings, manifest, str(manifest.get("model_id")))
        if problem is not None:
            raise store.IndexMissing(
                f"index at {folder} was {problem} than these settings ask for: rebuild it with "
                "`python -m indexer build`"
            )
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
        self.embedder = embedder or query_embedder(settings)
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
        """This loaded index under other query-time settings (fusion, weights, depth, the
        common share); settings that change the index or BM25 need a new engine."""
        other = copy.copy(self)
        other.settings = settings
        return other

    def __len__(self) -> int:
        return len(self.passages)

    def search(self, query: str, k: int = 10, mode: Mode = "hybrid") -> SearchResult:
        """The ``k`` best passages for ``query``; ties break on passage id."""
        clock = Clock()
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
            frequencies = self.lexical.frequencies(terms)
            share = self.settings.common_share
            text = dense_text(query, self.analyzer, self.vocabulary, frequencies, len(self), share)
            qvec = self.embedder.query(text)
        clock.lap("embedding")
        cited = set(self._cited(ref.canonical)) if ref else set()
        candidates, arms = self._arms(lex_all, qvec, depth, cited)
        clock.lap("vectors")
        found = Candidates(
            candidates, arms, lex_all is not None, qvec is not None, self.tie[candidates],
            np.isin(candidates, list(cited)),
        )  # fmt: skip
        ranked = rank(self.settings, mode, found, lambda: self.matches.features(terms, candidates), k)
        best = [self.passages[i] for i in candidates[ranked.at]]
        result = hits(found, ranked, best, ref is not None, terms, self.analyzer)
        clock.lap("fusion")
        return SearchResult(query, mode, k, round(clock.total(), 3), result, clock.laps)

    def cited(self, key: str) -> list[Passage]:
        """The passages citing a canonical legal key (``5216/7/a``, or ``5216/7/1-a``), in
        report order."""
        return [self.passages[i] for i in self._cited(key)]

    def _cited(self, key: str) -> list[int]:
        return sorted({i for k in same_clause(key) for i in self.citations.get(k, ())})

    def citation_counts(self) -> dict[str, int]:
        """Passages citing each canonical legal key."""
        return {key: len(found) for key, found in self.citations.items()}

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


def query_embedder(settings: Settings) -> Embedder:
    """The query encoder the settings ask for."""
    from indexer.build import resolve_model

    return Embedder(
        resolve_model(settings),
        threads=settings.torch_threads,
        backend=settings.query_backend,
        int8=settings.query_int8,
    )


def _titles(passages: list[Passage], analyzer: Analyzer) -> list[list[str]]:
    """Each passage's title terms; paths repeat, so each title is analyzed once."""
    seen: dict[str, list[str]] = {}
    for p in passages:
        title = title_text(p.path)
        if title not in seen:
            seen[title] = analyzer.terms(title)
    return [seen[title_text(p.path)] for p in passages]


def _top(scores: np.ndarray, depth: int) -> np.ndarray:
    """Indices of the ``depth`` best scores, in no particular order."""
    if depth >= len(scores):
        return np.arange(len(scores), dtype=np.int64)
    return np.argpartition(-scores, depth - 1)[:depth].astype(np.int64)
