"""The backend-independent half of a search: fuse the arms' scores over the candidates,
re-rank, put citing passages first, cut the top ``k``, and cite each hit's page.

Both engines (in process, ``indexer.search``; PostgreSQL, ``indexer.pg.engine``) gather
the same candidates and arm scores their own way and rank them here, so the two rank
alike by construction.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from indexer import fusion
from indexer.analysis import Analyzer
from indexer.chunking import Passage
from indexer.embedding import Embedder
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
    page: str | None  # the estimated page it is cited at (``cited_page``)


@dataclass(frozen=True)
class SearchResult:
    query: str
    mode: Mode
    k: int
    took_ms: float
    hits: tuple[Hit, ...]
    stages: dict[str, float] = field(default_factory=dict)  # milliseconds per stage


class Engine(Protocol):
    """What the service and the evaluation ask of a search engine, whatever its backend."""

    settings: Settings
    analyzer: Analyzer
    embedder: Embedder

    @property
    def manifest(self) -> dict[str, Any]:
        """The build manifest of the index searched."""
        ...

    def __len__(self) -> int: ...

    def search(self, query: str, k: int = 10, mode: Mode = "hybrid") -> SearchResult:
        """The ``k`` best passages for ``query``; ties break on passage id."""
        ...

    def cited(self, key: str) -> list[Passage]:
        """The passages citing a canonical legal key (``5216/7/a``, or ``5216/7/1-a``), in
        report order."""
        ...

    def citation_counts(self) -> dict[str, int]:
        """Passages citing each canonical legal key."""
        ...


@dataclass(frozen=True)
class Candidates:
    """The arms' candidates (passage indices) and each arm's scores over them: one row
    per arm present, BM25 first, then the passage and best-sentence cosines."""

    ids: np.ndarray
    arms: np.ndarray
    lexical: bool  # the BM25 row is there
    dense: bool  # the two vector rows are there
    tie: np.ndarray  # each candidate's rank by passage id: equal scores come out in id order
    cites: np.ndarray  # bool: cites the legal reference the query names


@dataclass(frozen=True)
class Ranked:
    """Positions into ``Candidates.ids`` of the ``k`` best, best first, and their scores."""

    at: np.ndarray
    scores: np.ndarray


Features = Callable[[], np.ndarray]  # the re-ranker's features over the candidates (rerank.FEATURES)


def rank(settings: Settings, mode: Mode, found: Candidates, features: Features, k: int) -> Ranked:
    """Fuse (all but bm25 mode), re-rank (hybrid), lift citing passages, cut ``k``."""
    fused = found.arms[0] if mode == "bm25" else fuse(settings, found.arms, found.tie)
    if mode == "hybrid":
        fused = rerank(settings, fused, features)
    # A passage citing the very reference the query names outranks any near-miss: the
    # re-ranked score is at most 1, so +1 puts every citing passage first.
    fused = fused + found.cites
    at = fusion.top(fused, found.tie, k)
    return Ranked(at, fused[at])


def fuse(settings: Settings, arms: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """The arms' scores combined by the configured fusion and weights."""
    s = settings
    weights = [s.bm25_weight, s.dense_weight, s.sentence_weight][-len(arms) :]
    total = sum(weights)
    # Only the ratios are settings; scaled to sum 1, a fused score stays in [0, 1].
    weights = [w / total for w in weights] if total > 0 else [1 / len(arms)] * len(arms)
    if s.fusion == "rrf":
        return fusion.rrf(arms[[w > 0 for w in weights]], tie, s.rrf_k)
    return fusion.convex(arms, weights, s.normalization)


def rerank(settings: Settings, fused: np.ndarray, features: Features) -> np.ndarray:
    """Fused scores plus the weighted match features, scaled back into [0, 1]."""
    s = settings
    weights = np.array([s.coverage_weight, s.title_weight, s.phrase_weight, s.table_weight])
    if not len(fused) or not weights.any():
        return fused
    base = fused if s.fusion == "convex" else fusion.min_max(fused)
    bonus = weights @ features()
    return np.asarray((base + bonus) / (1.0 + float(weights.sum())))


def hits(
    found: Candidates,
    ranked: Ranked,
    passages: Sequence[Passage],
    named: bool,
    terms: Collection[str],
    analyzer: Analyzer,
) -> tuple[Hit, ...]:
    """The ranked candidates as hits; ``passages`` are theirs, in ranked order, ``named``
    says whether the query named a legal reference, and ``terms`` (by ``analyzer``) are
    the query's, which choose the page each hit is cited at."""
    lex = found.arms[0] if found.lexical else None
    dense = found.arms[-2:] if found.dense else None
    return tuple(
        Hit(
            rank=r,
            score=float(score),
            passage=passage,
            bm25=float(lex[at]) if lex is not None else None,
            dense=float(dense[0][at]) if dense is not None else None,
            sentence=float(dense[1][at]) if dense is not None else None,
            cites=bool(found.cites[at]) if named else None,
            page=cited_page(passage, terms, analyzer),
        )
        for r, (at, score, passage) in enumerate(zip(ranked.at, ranked.scores, passages, strict=True), 1)
    )


def cited_page(passage: Passage, terms: Collection[str], analyzer: Analyzer) -> str | None:
    """The estimated page of the passage's line holding the most query terms (the first
    such line); the passage's own estimate when no line holds one.

    >>> p = Passage("r:1:0", "r", "Barınak planı.\\nKöpek barınağı açıldı.", ("Çevre",), "9", "12",
    ...             "10", 1, 3, "text", ("10", "11"))
    >>> cited_page(p, Analyzer().terms("kopek barinagi"), Analyzer()), cited_page(p, ["su"], Analyzer())
    ('11', '10')
    """
    if not passage.spans_pages:
        return passage.page_estimate
    wanted, best, page = set(terms), 0, passage.page_estimate
    for held, at in zip(_line_terms(analyzer, passage.text), passage.line_pages, strict=True):
        found = len(wanted.intersection(held))
        if found > best and at:
            best, page = found, at
    return page


@functools.lru_cache(maxsize=1024)
def _line_terms(analyzer: Analyzer, text: str) -> tuple[frozenset[str], ...]:
    # Analyzing a long passage line by line costs milliseconds; hits recur across queries.
    return tuple(frozenset(analyzer.terms(line)) for line in text.split("\n"))


class Clock:
    """Milliseconds spent in each named stage, in order."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = self.laps.get(stage, 0.0) + (now - self.last) * 1000
        self.last = now

    def total(self) -> float:
        return (self.last - self.started) * 1000
