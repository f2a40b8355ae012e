"""The search engine over PostgreSQL: the embedded engine's arms as SQL, its ranking.

Candidates come from the same three arms (BM25 in SQL, pgvector HNSW over passages and
over sentences), each arm's scores over their union are read back, and ``indexer.ranking``
fuses and re-ranks them exactly as the embedded engine does, so the two backends differ
only where HNSW is approximate.

A search reads one index version throughout. The engine follows the database's current
version, read again at most every ``reload_interval`` seconds (0: before every search); a
version dropped under a running search (``VersionGone``) makes it read the current version
and search again. A version built with another model, analysis or chunking is refused
(logged once), and the last accepted one is searched while it exists.
"""

from __future__ import annotations

import copy
import functools
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from indexer.analysis import Analyzer
from indexer.build import mismatch
from indexer.chunking import Passage
from indexer.deascii import folded_words
from indexer.dense_query import dense_text
from indexer.embedding import Embedder
from indexer.legal import parse_ref
from indexer.pg.index import PgIndex, VersionInfo
from indexer.pg.pools import Unavailable, VersionGone
from indexer.ranking import Candidates, Clock, Mode, SearchResult, hits, rank
from indexer.rerank import candidate_features, title_text
from indexer.search import query_embedder
from indexer.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
_ATTEMPTS = 3  # searches of one query restarted on a newer version before giving up
_TITLES = 50_000  # title analyses remembered


class PgSearchEngine:
    """Search the current index version in PostgreSQL (``settings.pg_dsn`` and replicas)."""

    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, index: PgIndex | None = None
    ) -> None:
        self.settings = settings
        self.analyzer: Analyzer = settings.analyzer()
        self.index = index or PgIndex(settings)
        self.embedder = embedder or query_embedder(settings)
        self._infos: dict[int, VersionInfo] = {}  # accepted versions
        self._refused: set[int] = set()
        self._current: tuple[float, int] | None = None  # (monotonic time read, version)
        self._lock = threading.Lock()
        # Title terms by title text: paths repeat across passages and searches.
        self._title_terms = functools.lru_cache(maxsize=_TITLES)(self.analyzer.terms)
        self.version()  # no version, or none this service can search: say so now
        self.embedder.query("")  # loads the query encoder now, not at the first search

    def with_settings(self, settings: Settings) -> PgSearchEngine:
        """This engine under other query-time settings (fusion, weights, depth)."""
        other = copy.copy(self)
        other.settings = settings
        return other

    def close(self) -> None:
        self.index.close()

    # -- versions ----------------------------------------------------------------------------

    def version(self, fresh: bool = False) -> int:
        """The version to search: the current one, read again when older than the reload
        interval (or ``fresh``); if that one is refused, the last accepted one."""
        now = time.monotonic()
        seen = self._current
        if fresh or seen is None or now - seen[0] >= self.settings.reload_interval:
            seen = self._current = (now, self.index.current())
        version = seen[1]
        if version in self._infos:
            return version
        if version not in self._refused and self._accept(version):
            return version
        if not self._infos:
            raise Unavailable(
                f"index version {version} in PostgreSQL was built with other settings (see the log): "
                "load it with this service's settings, `python -m indexer build --backend postgres`"
            )
        return max(self._infos)

    def _accept(self, version: int) -> bool:
        info = self.index.version_info(version)
        problem = mismatch(self.settings, info.manifest, self.embedder.model_id)
        with self._lock:
            if problem is not None:
                self._refused.add(version)
                log.error("not searching index version %d (%s); rebuild it with this service's settings",
                          version, problem)  # fmt: skip
                return False
            if self._infos:
                log.info("searching index version %d (%d passages)", version, info.passages)
            self._infos = {version: info} | {v: i for v, i in self._infos.items() if v > version - 2}
        return True

    @property
    def manifest(self) -> dict[str, Any]:
        return self._infos[self.version()].manifest

    def __len__(self) -> int:
        return self._infos[self.version()].passages

    # -- search --------------------------------------------------------------------------------

    def search(self, query: str, k: int = 10, mode: Mode = "hybrid") -> SearchResult:
        """The ``k`` best passages for ``query``; ties break on passage id."""
        return self._on_current(lambda v: self._search(v, query, k, mode))

    def _on_current(self, work: Callable[[int], T]) -> T:
        """``work(version)`` on the version to search, again on the current one when that
        version is dropped meanwhile."""
        for attempt in range(_ATTEMPTS):
            version = self.version(fresh=attempt > 0)
            try:
                return work(version)
            except VersionGone:
                if attempt == _ATTEMPTS - 1:
                    raise
                log.info("index version %d was dropped during a read; reading the current one", version)
        raise AssertionError("unreachable")

    def _search(self, v: int, query: str, k: int, mode: Mode) -> SearchResult:
        clock = Clock()
        info = self._infos[v]
        depth = min(info.passages, max(k, self.settings.candidates))
        terms = self.analyzer.terms(query)
        if not terms:  # only stop words or punctuation: nothing to look for, in any arm
            clock.lap("analysis")
            return SearchResult(query, mode, k, round(clock.total(), 3), (), clock.laps)
        ref = parse_ref(query) if mode == "hybrid" else None
        cited = np.array(self.index.cited(ref.canonical, version=v) if ref else [], dtype=np.int64)
        clock.lap("analysis")
        qvec = None
        df: dict[str, int] = {}  # fetched once, for the dense text and the second stage
        if mode != "bm25":
            words = folded_words(query)
            spellings = self.index.spellings(words, version=v) if words else {}
            share = self.settings.common_share
            df = self.index.document_frequencies(terms, version=v) if share < 1 else {}
            qvec = self.embedder.query(dense_text(query, self.analyzer, spellings, df, info.passages, share))
        clock.lap("embedding")
        ids, rows = self._arms(v, terms if mode != "dense" else [], qvec, cited, depth, clock)
        meta = self.index.candidates(ids.tolist(), version=v) if len(ids) else []
        names = np.array([m.id for m in meta])
        candidates = Candidates(
            ids, np.vstack(rows) if len(ids) else np.zeros((len(rows), 0)), mode != "dense",
            qvec is not None, np.argsort(np.argsort(names)), np.isin(ids, cited),
        )  # fmt: skip

        def features() -> np.ndarray:
            found = df or self.index.document_frequencies(terms, version=v)
            n = info.passages
            idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in found.items()}
            titles = [self._title_terms(title_text(m.path)) for m in meta]
            tables = [m.kind == "table" for m in meta]
            return candidate_features(terms, [m.terms for m in meta], titles, idf, tables)

        ranked = rank(self.settings, mode, candidates, features, k)
        best = self.index.passages(ids[ranked.at].tolist(), version=v) if len(ranked.at) else []
        result = hits(candidates, ranked, best, ref is not None, terms, self.analyzer)
        clock.lap("fusion")
        return SearchResult(query, mode, k, round(clock.total(), 3), result, clock.laps)

    def _arms(
        self, v: int, terms: list[str], qvec: np.ndarray | None, cited: np.ndarray, depth: int, clock: Clock
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """The union of the arms' top ``depth`` and ``cited`` (sorted ordinals), and each
        arm's scores over it (BM25 unless ``terms`` is empty, then the two cosines unless
        ``qvec`` is None), each arm scored in one pass where it can."""
        arms: list[dict[int, float]] = []  # each arm's scores by ordinal, as read so far
        if qvec is not None:  # cosines rounded as the embedded engine's: equal passages tie
            arms = [_scores(*self.index.dense_top(qvec, depth, version=v)),
                    _scores(*self.index.sentence_top(qvec, depth, version=v))]  # fmt: skip
        clock.lap("vectors")
        if terms:
            others = sorted(set(cited.tolist()).union(*arms))
            top, scores, also = self.index.bm25(terms, depth, also=others, version=v)
            arms.insert(0, _scores(top, scores, None) | dict(zip(others, also.tolist(), strict=True)))
        clock.lap("bm25")
        ordinals = sorted(set(cited.tolist()).union(*arms))
        if qvec is not None:  # the vector arms' scores of the other arms' candidates
            for arm, read in zip(arms[-2:], (self.index.dense_for, self.index.sentence_for), strict=True):
                missing = [o for o in ordinals if o not in arm]
                if missing:
                    arm.update(_scores(np.array(missing, dtype=np.int64), read(qvec, missing, version=v)))
        clock.lap("vectors")
        return np.array(ordinals, dtype=np.int64), [np.array([a.get(o, 0.0) for o in ordinals]) for a in arms]

    # -- legal references ----------------------------------------------------------------------

    def cited(self, key: str) -> list[Passage]:
        """The passages citing a canonical legal key (``5216/7/a``, or ``5216/7/1-a``), in
        report order."""
        return self._on_current(lambda v: self.index.passages(self.index.cited(key, version=v), version=v))

    def citation_counts(self) -> dict[str, int]:
        """Passages citing each canonical legal key."""
        return self._on_current(lambda v: self.index.citation_counts(version=v))


def _scores(ordinals: np.ndarray, scores: np.ndarray, decimals: int | None = 6) -> dict[int, float]:
    rounded = scores if decimals is None else np.round(scores, decimals)
    return dict(zip(ordinals.tolist(), rounded.tolist(), strict=True))
