"""The BM25 matrix scores exactly what rank-bm25's own get_scores does, much faster."""

from __future__ import annotations

import random

import numpy as np
import pytest

from indexer.lexical import LexicalIndex

WORDS = [
    "izmir",
    "su",
    "baraj",
    "otobus",
    "metro",
    "park",
    "kres",
    "bina",
    "yol",
    "ihale",
    "kanun",
    "madde",
    "2023",
    "butce",
]


def _corpus(n: int, seed: int = 7) -> list[list[str]]:
    rng = random.Random(seed)
    docs = [[rng.choice(WORDS) for _ in range(rng.randint(0, 40))] for _ in range(n)]
    docs[3] = WORDS * 3  # a term in every passage's worth of repetition
    return docs


@pytest.mark.parametrize("variant", ["lucene", "okapi", "plus", "l"])
def test_scores_equal_rank_bm25(variant: str) -> None:
    index = LexicalIndex(_corpus(300), variant, k1=0.9, b=0.5)  # type: ignore[arg-type]
    rng = random.Random(1)
    for _ in range(50):
        query = [rng.choice([*WORDS, "yok"]) for _ in range(rng.randint(1, 6))]
        known = [t for t in query if t in index.bm25.idf]
        expected = index.bm25.get_scores(known) if known else np.zeros(index.size)
        np.testing.assert_allclose(index.scores(query), expected, rtol=0, atol=1e-9)


def test_unknown_terms_and_empty_passages_score_zero() -> None:
    index = LexicalIndex([[], ["su"], ["su", "su"]])
    assert index.scores(["yok"]).tolist() == [0.0, 0.0, 0.0]
    scores = index.scores(["su"])
    assert scores[0] == 0.0 and scores[2] > scores[1] > 0


@pytest.mark.parametrize("variant", ["lucene", "okapi", "plus", "l"])
def test_frequencies_count_the_passages_holding_each_term(variant: str) -> None:
    # A term in exactly half the passages has Okapi idf 0: its zero weights still count.
    corpus = [*_corpus(60), ["su", "su"], ["nadir"]] + [["yaygin"]] * 62
    index = LexicalIndex(corpus, variant)  # type: ignore[arg-type]
    terms = [*sorted({t for doc in corpus for t in doc}), "yok"]
    expected = {t: sum(t in doc for doc in corpus) for t in terms if t != "yok"}
    assert index.frequencies(terms) == expected
