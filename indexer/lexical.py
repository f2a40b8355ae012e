"""BM25 over analyzed terms, with rank-bm25."""

from __future__ import annotations

from typing import Literal

import numpy as np
from rank_bm25 import BM25L, BM25Okapi, BM25Plus

Variant = Literal["okapi", "plus", "l"]


class LexicalIndex:
    """A BM25 index of tokenized passages."""

    def __init__(self, corpus: list[list[str]], variant: Variant = "okapi", k1: float = 1.2, b: float = 0.75):
        # rank-bm25 divides by the average length: an empty corpus cannot be indexed.
        if not corpus:
            raise ValueError("BM25 needs at least one passage")
        self.size = len(corpus)
        docs = [terms or ["\x00"] for terms in corpus]  # an empty passage still counts
        if variant == "plus":
            self.bm25: BM25Okapi | BM25Plus | BM25L = BM25Plus(docs, k1=k1, b=b)
        elif variant == "l":
            self.bm25 = BM25L(docs, k1=k1, b=b)
        else:
            self.bm25 = BM25Okapi(docs, k1=k1, b=b)

    def scores(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every passage for the query terms (0 for no match)."""
        known = [t for t in terms if t in self.bm25.idf]
        if not known:
            return np.zeros(self.size, dtype=np.float64)
        return np.asarray(self.bm25.get_scores(known), dtype=np.float64)
