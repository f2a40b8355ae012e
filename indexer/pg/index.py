"""Query-side data access on PostgreSQL: what the search engine's arms need, as SQL.

Passages are named by their ordinal (their position in the build, the embedded engine's
passage index). Every call names an index version (see ``indexer.pg.reads``).

BM25 is computed in SQL from the stored term frequencies, document frequencies, passage
lengths, N and the average length, exactly as ``indexer.lexical.LexicalIndex`` does
(Okapi with Lucene's idf); a repeated query term counts again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from indexer.chunking import Passage
from indexer.legal import same_clause
from indexer.pg.pools import Servers
from indexer.pg.reads import MAX_EF_SEARCH, Scan, VersionedReads, all_of
from indexer.settings import Settings

# Sentences fetched for the best-sentence arm: SENTENCE_FANOUT per passage wanted, at least
# SENTENCE_MIN_FETCH (on the eval set, recall@10 0.995 and @100 0.997 against the exact best
# sentence per passage; with 4 per passage and no minimum, 0.91 and 0.99).
SENTENCE_FANOUT = 8
SENTENCE_MIN_FETCH = 400
# HNSW explores at least twice the passages wanted: on the eval set, recall@100 0.998 with
# ef_search 200 (0.987 with 100); recall@10 0.999 with ef_search 100.
_EF_PER_HIT = 2

# The idf once per query term (float8 throughout: an integer plus 0.5 would be NUMERIC,
# many times slower per row), then one term per posting, summed per passage.
_BM25 = """
WITH iv AS (SELECT passages::float8 AS n, avgdl FROM index_versions WHERE version = %(v)s),
w AS (
    SELECT s.term, q.qtf * ln(1 + (iv.n - s.df + 0.5::float8) / (s.df + 0.5::float8)) AS idf
    FROM unnest(%(terms)s::text[], %(counts)s::float8[]) AS q (term, qtf)
    JOIN term_stats s ON s.version = %(v)s AND s.term = q.term
    CROSS JOIN iv
)
SELECT t.ordinal,
       sum(w.idf * t.tf * (%(k1)s + 1) / (t.tf + %(k1)s * (1 - %(b)s + %(b)s * t.length / iv.avgdl))) AS score
FROM w
JOIN postings t ON t.version = %(v)s AND t.term = w.term
CROSS JOIN iv {join}
WHERE {where}
GROUP BY t.ordinal
"""
_PASSAGE_FIELDS = ("id", "doc_id", "text", "path", "page_start", "page_end", "page_estimate", "line_start",
                   "line_end", "kind", "line_pages")  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    """A passage as the ranking sees it before its text is needed."""

    id: str
    terms: str  # analyzed terms joined by spaces (a term never holds one)
    path: tuple[str, ...]
    kind: str


@dataclass(frozen=True)
class VersionInfo:
    """One index version's record: N, average length, state and build manifest."""

    version: int
    passages: int
    avgdl: float
    state: str
    manifest: dict[str, Any]


class PgIndex(VersionedReads):
    """The index in PostgreSQL, read from the replicas (``settings.pg_replicas``, else the
    primary ``settings.pg_dsn``) through ``Servers``."""

    def __init__(
        self, settings: Settings, servers: Servers | None = None, ef_search: int | None = None
    ) -> None:
        if settings.bm25_variant != "lucene":
            raise ValueError(f"the PostgreSQL backend computes BM25 'lucene', not {settings.bm25_variant!r}")
        super().__init__(servers or Servers(settings.pg_dsn, settings.pg_replicas))
        self.k1, self.b = float(settings.bm25_k1), float(settings.bm25_b)
        self.ef_search = ef_search or settings.pg_ef_search

    # -- versions and documents ------------------------------------------------------------

    def version_info(self, version: int) -> VersionInfo:
        """The version's N, average length, state and build manifest."""
        rows = self._read(
            version,
            "SELECT passages, avgdl, state, manifest FROM index_versions WHERE version = %(v)s",
            {},
        )
        n, avgdl, state, manifest = rows[0]
        return VersionInfo(version, int(n), float(avgdl), str(state), dict(manifest))

    def documents(self, version: int) -> dict[str, int]:
        """The version's documents and their passage counts."""
        rows = self._read(version, "SELECT doc_id, passages FROM version_documents WHERE version = %(v)s", {})
        return {str(doc): int(n) for doc, n in rows}

    def count(self, version: int) -> int:
        """Passages stored for the version (equals its N once it is ready)."""
        rows = self._read(
            version, "SELECT count(*) FROM passages WHERE version = %(v)s", {}, complete=lambda r: r[0][0] > 0
        )
        return int(rows[0][0])

    # -- BM25 --------------------------------------------------------------------------------

    def bm25_top(
        self, terms: Sequence[str], k: int, *, version: int, doc_id: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best passages by BM25 (only those sharing a term), best first."""
        top, scores, _ = self.bm25(terms, k, version=version, doc_id=doc_id)
        return top, scores

    def bm25(
        self,
        terms: Sequence[str],
        k: int,
        *,
        also: Sequence[int] = (),
        version: int,
        doc_id: str | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``bm25_top`` and the BM25 of the passages ``also`` (0 without a query term),
        from one scoring pass."""
        # Postings carry the passage length: only a document filter needs the passages.
        join, where = ("JOIN passages p ON p.version = %(v)s AND p.ordinal = t.ordinal", "p.doc_id = %(doc)s")
        if doc_id is None:
            join, where = "", "true"
        query = (
            f"WITH scored AS MATERIALIZED ({_BM25.format(join=join, where=where)})"
            " (SELECT ordinal, score, true FROM scored ORDER BY score DESC, ordinal LIMIT %(k)s)"
            # A hash join: "ordinal = ANY(ids)" would compare every scored row with every id.
            " UNION ALL (SELECT ordinal, score, false FROM scored"
            " JOIN unnest(%(ids)s::integer[]) AS i (ordinal) USING (ordinal))"
        )
        ids = list(map(int, also))
        rows = self._read(version, query, self._bm25_params(terms) | {"doc": doc_id, "k": k, "ids": ids})
        top, scores = _columns([r for r in rows if r[2]])
        return top, scores, _align([r for r in rows if not r[2]], ids)

    def bm25_for(self, terms: Sequence[str], ordinals: Sequence[int], *, version: int) -> np.ndarray:
        """BM25 of the given passages (0 for a passage without a query term)."""
        return self.bm25(terms, 0, also=ordinals, version=version)[2]

    def _bm25_params(self, terms: Sequence[str]) -> dict[str, Any]:
        counts = Counter(terms)
        return {
            "terms": list(counts),
            "counts": [float(c) for c in counts.values()],
            "k1": self.k1,
            "b": self.b,
        }

    # -- vectors -------------------------------------------------------------------------------

    def dense_top(
        self, qvec: np.ndarray, k: int, *, version: int, doc_id: str | None = None, scan: Scan = "auto"
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest passages by cosine: by the HNSW graph, or, when the planner finds
        it cheaper (few vectors, a selective filter) or ``scan="exact"``, all of them."""
        where = " AND doc_id = %(doc)s" if doc_id is not None else ""
        query = (
            "SELECT ordinal, 1 - (embedding <=> %(q)s::vector) FROM passage_vectors WHERE version = %(v)s"
            + where
            + " ORDER BY embedding <=> %(q)s::vector LIMIT %(k)s"
        )
        params = {"q": _vector(qvec), "doc": doc_id, "k": k}
        rows = self._read(
            version,
            query,
            params,
            ef=max(self.ef_search, _EF_PER_HIT * k),
            scan=scan,
            filtered=doc_id is not None,
        )
        return _columns(rows)

    def dense_for(self, qvec: np.ndarray, ordinals: Sequence[int], *, version: int) -> np.ndarray:
        """Cosine of the query with the given passages' vectors."""
        query = (
            "SELECT ordinal, 1 - (embedding <=> %(q)s::vector) FROM passage_vectors"
            " WHERE version = %(v)s AND ordinal = ANY(%(ids)s)"
        )
        return _align(
            self._read(version, query, {"q": _vector(qvec), "ids": list(map(int, ordinals))}), ordinals
        )

    def sentence_top(
        self, qvec: np.ndarray, k: int, *, version: int, doc_id: str | None = None, scan: Scan = "auto"
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` passages whose best sentence is nearest, with that sentence's cosine:
        the nearest ``SENTENCE_FANOUT * k`` (at least ``SENTENCE_MIN_FETCH``) sentences by
        HNSW, best per passage."""
        fetch = min(max(SENTENCE_FANOUT * k, SENTENCE_MIN_FETCH), MAX_EF_SEARCH)
        where = " AND doc_id = %(doc)s" if doc_id is not None else ""
        query = (
            "SELECT ordinal, max(cos) AS best FROM ("
            " SELECT ordinal, 1 - (embedding <=> %(q)s::vector) AS cos FROM sentence_vectors"
            " WHERE version = %(v)s" + where + " ORDER BY embedding <=> %(q)s::vector LIMIT %(fetch)s) s"
            " GROUP BY ordinal ORDER BY best DESC, ordinal LIMIT %(k)s"
        )
        params = {"q": _vector(qvec), "doc": doc_id, "k": k, "fetch": fetch}
        rows = self._read(
            version, query, params, ef=max(self.ef_search, fetch), scan=scan, filtered=doc_id is not None
        )
        return _columns(rows)

    def sentence_for(self, qvec: np.ndarray, ordinals: Sequence[int], *, version: int) -> np.ndarray:
        """Each given passage's best sentence cosine."""
        query = (
            "SELECT ordinal, max(1 - (embedding <=> %(q)s::vector)) FROM sentence_vectors"
            " WHERE version = %(v)s AND ordinal = ANY(%(ids)s) GROUP BY ordinal"
        )
        return _align(
            self._read(version, query, {"q": _vector(qvec), "ids": list(map(int, ordinals))}), ordinals
        )

    # -- passages and citations ---------------------------------------------------------------

    def passages(self, ordinals: Sequence[int], *, version: int) -> list[Passage]:
        """The given passages, in the order asked (KeyError for an unknown ordinal)."""
        columns = ", ".join(_PASSAGE_FIELDS)
        query = f"SELECT ordinal, {columns} FROM passages WHERE version = %(v)s AND ordinal = ANY(%(ids)s)"
        rows = self._read(version, query, {"ids": list(map(int, ordinals))}, complete=all_of(ordinals))
        found = {}
        for ordinal, *values in rows:
            fields = dict(zip(_PASSAGE_FIELDS, values, strict=True))
            lists = {"path": tuple(fields["path"]), "line_pages": tuple(fields["line_pages"] or ())}
            found[int(ordinal)] = Passage(**fields | lists)
        return [found[int(o)] for o in ordinals]

    def candidates(self, ordinals: Sequence[int], *, version: int) -> list[Candidate]:
        """What the ranking needs of each given passage, in order: id, terms, path, kind."""
        query = (  # terms as one string: far faster to read than a text[] of hundreds
            "SELECT ordinal, id, array_to_string(terms, ' '), path, kind FROM passages"
            " WHERE version = %(v)s AND ordinal = ANY(%(ids)s)"
        )
        rows = self._read(version, query, {"ids": list(map(int, ordinals))}, complete=all_of(ordinals))
        found = {int(o): Candidate(str(i), str(t), tuple(p), str(k)) for o, i, t, p, k in rows}
        return [found[int(o)] for o in ordinals]

    def document_frequencies(self, terms: Sequence[str], *, version: int) -> dict[str, int]:
        """Passages holding each of the terms (terms in none are left out)."""
        query = "SELECT term, df FROM term_stats WHERE version = %(v)s AND term = ANY(%(terms)s)"
        return {str(t): int(df) for t, df in self._read(version, query, {"terms": sorted(set(terms))})}

    def spellings(self, folded: Sequence[str], *, version: int) -> dict[str, str]:
        """The corpus's Turkish spelling of each ASCII-folded word that has one."""
        query = "SELECT folded, word FROM vocabulary WHERE version = %(v)s AND folded = ANY(%(words)s)"
        return {str(f): str(w) for f, w in self._read(version, query, {"words": sorted(set(folded))})}

    def citation_counts(self, *, version: int) -> dict[str, int]:
        """Passages citing each canonical legal key."""
        query = "SELECT key, count(*) FROM citations WHERE version = %(v)s GROUP BY key ORDER BY key"
        return {str(k): int(n) for k, n in self._read(version, query, {})}

    def cited(self, key: str, *, version: int) -> list[int]:
        """Ordinals of the passages citing a canonical legal key (``5216/7/a``, or
        ``5216/7/1-a``)."""
        query = (
            "SELECT DISTINCT ordinal FROM citations WHERE version = %(v)s AND key = ANY(%(keys)s) "
            "ORDER BY ordinal"
        )
        rows = self._read(version, query, {"keys": list(same_clause(key))})
        return [int(r[0]) for r in rows]

    # -- plumbing ----------------------------------------------------------------------------


def _vector(qvec: np.ndarray) -> str:
    return "[" + ",".join(map(repr, np.asarray(qvec, dtype=np.float32).ravel().tolist())) + "]"


def _columns(rows: list[tuple[Any, ...]]) -> tuple[np.ndarray, np.ndarray]:
    ordinals = np.array([r[0] for r in rows], dtype=np.int64)
    return ordinals, np.array([r[1] for r in rows], dtype=np.float64)


def _align(rows: list[tuple[Any, ...]], ordinals: Sequence[int]) -> np.ndarray:
    found: dict[int, float] = {int(r[0]): float(r[1]) for r in rows}
    return np.array([found.get(int(o), 0.0) for o in ordinals], dtype=np.float64)
