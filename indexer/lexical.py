"""BM25 over analyzed terms, with rank-bm25."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from rank_bm25 import BM25L, BM25Okapi, BM25Plus

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

    def scores(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every passage for the query terms (0 for no match)."""
        known = [t for t in terms if t in self.bm25.idf]
        if not known:
            return np.zeros(self.size, dtype=np.float64)
        return np.asarray(self.bm25.get_scores(known), dtype=np.float64)
