"""BM25 over analyzed terms: rank-bm25's statistics, scored from a precomputed matrix.

rank-bm25's ``get_scores`` walks every passage in Python for every query term. The score
of a passage is a sum over query terms of a weight that depends only on the term and the
passage, so the weights are computed once into a sparse term × passage matrix and a query
is one sparse row sum: the same scores (to float rounding), far faster.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from rank_bm25 import BM25L, BM25Okapi, BM25Plus
from scipy import sparse

Variant = Literal["lucene", "okapi", "plus", "l"]


class BM25Lucene(BM25Okapi):  # type: ignore[misc]
    """Okapi BM25 with Lucene's idf, log(1 + (N - n + 0.5) / (n + 0.5)).

    rank-bm25's Okapi idf goes negative for a term in more than half the passages and
    is then floored to a fraction of the mean idf: a common term can outscore a rarer
    one, and a term in every passage scores below zero. Lucene's idf is always positive.
    """

    def _calc_idf(self, nd: dict[str, int]) -> None:
        self.idf = {t: math.log(1 + (self.corpus_size - n + 0.5) / (n + 0.5)) for t, n in nd.items()}


class LexicalIndex:
    """A BM25 index of tokenized passages."""

    def __init__(
        self, corpus: list[list[str]], variant: Variant = "lucene", k1: float = 1.2, b: float = 0.75
    ):
        # rank-bm25 divides by the average length: an empty corpus cannot be indexed.
        if not corpus:
            raise ValueError("BM25 needs at least one passage")
        self.size = len(corpus)
        docs = [terms or ["\x00"] for terms in corpus]  # an empty passage still counts
        kinds = {"lucene": BM25Lucene, "okapi": BM25Okapi, "plus": BM25Plus, "l": BM25L}
        self.bm25: BM25Okapi | BM25Plus | BM25L = kinds[variant](docs, k1=k1, b=b)
        self.vocabulary = {t: i for i, t in enumerate(sorted(self.bm25.idf))}
        self.matrix, self.floor = _weights(self.bm25, self.vocabulary)
        # A term's row stores one weight per passage holding it (zeros included).
        self.held = np.diff(self.matrix.indptr)

    def frequencies(self, terms: list[str]) -> dict[str, int]:
        """Passages holding each of the terms (terms in none are left out)."""
        return {t: int(self.held[self.vocabulary[t]]) for t in terms if t in self.vocabulary}

    def scores(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every passage for the query terms (0 for no match); a repeated
        query term counts again, as in rank-bm25."""
        rows = [self.vocabulary[t] for t in terms if t in self.vocabulary]
        if not rows:
            return np.zeros(self.size, dtype=np.float64)
        unique, counts = np.unique(rows, return_counts=True)
        summed = sparse.csr_matrix(counts.astype(np.float64)) @ self.matrix[unique]
        return np.asarray(summed.toarray()[0] + counts @ self.floor[unique], dtype=np.float64)


def _weights(
    bm25: BM25Okapi | BM25Plus | BM25L, vocabulary: dict[str, int]
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Each (term, passage) weight over a term's floor, and the floor: what the term adds
    to a passage without it (BM25+'s delta; 0 for the others)."""
    k1, b, avgdl = bm25.k1, bm25.b, bm25.avgdl
    idf = np.array([bm25.idf[t] for t in vocabulary], dtype=np.float64)
    rows, cols, tfs, lens = [], [], [], []
    for d, (freqs, length) in enumerate(zip(bm25.doc_freqs, bm25.doc_len, strict=True)):
        for term, tf in freqs.items():
            rows.append(vocabulary[term])
            cols.append(d)
            tfs.append(tf)
            lens.append(length)
    tf, norm = np.array(tfs, dtype=np.float64), 1 - b + b * np.array(lens, dtype=np.float64) / avgdl
    term_idf = idf[np.array(rows, dtype=np.int64)]
    if isinstance(bm25, BM25Plus):
        weight = term_idf * tf * (k1 + 1) / (k1 * norm + tf)  # the delta part is the floor
        floor = idf * bm25.delta
    elif isinstance(bm25, BM25L):
        ctd = tf / norm
        weight = term_idf * tf * (k1 + 1) * (ctd + bm25.delta) / (k1 + ctd + bm25.delta)
        floor = np.zeros_like(idf)
    else:
        weight = term_idf * tf * (k1 + 1) / (tf + k1 * norm)
        floor = np.zeros_like(idf)
    shape = (len(vocabulary), len(bm25.doc_len))
    return sparse.csr_matrix((weight, (rows, cols)), shape=shape), floor
