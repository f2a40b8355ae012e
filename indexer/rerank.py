"""Second stage: re-rank fused candidates by how fully and how closely they match the query.

BM25 rewards a passage that repeats one rare query word as much as one that has all of
them, and it ignores word order. Three classic signals correct that on the candidates
only: the idf-weighted share of the query's terms a passage contains (Lucene's old
coordination factor), the share found in its section title, and the share of the query's
adjacent term pairs found adjacent in it (a phrase match). A small prior lifts tables,
where numeric answers sit.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

FEATURES = ("coverage", "title", "phrase", "table")


@dataclass(frozen=True)
class MatchIndex:
    """Which passages hold each term, each title term and each adjacent term pair."""

    vocabulary: dict[str, int]
    idf: np.ndarray  # per term, Lucene's idf (always positive)
    terms: sparse.csr_matrix  # term × passage, 1 where present
    titles: sparse.csr_matrix  # term × passage, 1 where in the section title
    pair_codes: np.ndarray  # sorted distinct codes of adjacent pairs (first * V + second)
    pairs: sparse.csr_matrix  # pair × passage, 1 where the pair occurs
    tables: np.ndarray  # 1.0 for table passages

    @classmethod
    def build(
        cls, terms: Sequence[Sequence[str]], titles: Sequence[Sequence[str]], tables: Sequence[bool]
    ) -> MatchIndex:
        """Index passages' analyzed terms (in order) and their titles' terms.

        >>> m = MatchIndex.build([["su", "kesin"], ["yol"]], [["su"], []], [False, True])
        >>> m.features(["su", "kesin"], np.array([0, 1])).round(2).tolist()
        [[1.0, 0.0], [0.5, 0.0], [1.0, 0.0], [0.0, 1.0]]
        """
        vocabulary = {t: i for i, t in enumerate(sorted({t for ts in terms for t in ts}))}
        size, n = len(vocabulary), len(terms)
        rows, cols, codes = [], [], []
        for d, ts in enumerate(terms):
            ids = [vocabulary[t] for t in ts]
            for i in set(ids):
                rows.append(i)
                cols.append(d)
            for code in {a * size + b for a, b in itertools.pairwise(ids)}:
                codes.append((code, d))
        present = _binary(rows, cols, (size, n))
        df = np.asarray(present.sum(axis=1)).ravel()
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        trows, tcols = [], []
        for d, ts in enumerate(titles):
            for i in {vocabulary[t] for t in ts if t in vocabulary}:
                trows.append(i)
                tcols.append(d)
        pair_codes = np.unique(np.array([c for c, _ in codes], dtype=np.int64))
        prow = np.searchsorted(pair_codes, np.array([c for c, _ in codes], dtype=np.int64))
        pairs = _binary(prow.tolist(), [d for _, d in codes], (len(pair_codes), n))
        return cls(
            vocabulary,
            idf,
            present,
            _binary(trows, tcols, (size, n)),
            pair_codes,
            pairs,
            np.asarray(tables, dtype=np.float64),
        )

    def features(self, query: Sequence[str], candidates: np.ndarray) -> np.ndarray:
        """A ``len(FEATURES)`` × candidates matrix, each row in [0, 1]."""
        out = np.zeros((len(FEATURES), len(candidates)))
        out[3] = self.tables[candidates]
        ids = [self.vocabulary.get(t, -1) for t in query]
        known = sorted({i for i in ids if i >= 0})
        weight = self.idf[known]
        total = float(weight.sum())
        if total > 0:
            out[0] = weight @ self.terms[known][:, candidates].toarray() / total
            out[1] = weight @ self.titles[known][:, candidates].toarray() / total
        size = len(self.vocabulary)
        wanted = np.array([a * size + b for a, b in itertools.pairwise(ids) if a >= 0 and b >= 0])
        if len(ids) > 1 and len(wanted):
            at = np.searchsorted(self.pair_codes, wanted).clip(max=len(self.pair_codes) - 1)
            found = at[self.pair_codes[at] == wanted]
            if len(found):
                hits = np.asarray(self.pairs[found][:, candidates].sum(axis=0)).ravel()
                out[2] = hits / (len(ids) - 1)
        return out


def title_text(path: Sequence[str]) -> str:
    """What a passage's title feature matches: its last two section-path levels (the
    subsection and the department or heading that frames it).

    >>> title_text(("3. Faaliyetler", "3.2. Çevre", "Plajlar"))
    '3.2. Çevre Plajlar'
    """
    return " ".join(path[-2:])


def _binary(rows: list[int], cols: list[int], shape: tuple[int, int]) -> sparse.csr_matrix:
    data = np.ones(len(rows), dtype=np.float64)
    return sparse.csr_matrix((data, (rows, cols)), shape=shape)


def candidate_features(
    query: Sequence[str],
    texts: Sequence[str],
    titles: Sequence[Sequence[str]],
    idf: Mapping[str, float],
    tables: Sequence[bool],
) -> np.ndarray:
    """``MatchIndex.features`` for an index that is not held in memory: from each
    candidate's terms joined by spaces (terms never hold one), its title terms, and the
    idf of the query's terms that occur in the corpus.

    >>> idf = {"su": 1.0, "kesin": 1.0}
    >>> candidate_features(["su", "kesin"], ["su kesin", "yol"], [["su"], []], idf,
    ...                    [False, True]).round(2).tolist()
    [[1.0, 0.0], [0.5, 0.0], [1.0, 0.0], [0.0, 1.0]]
    """
    out = np.zeros((len(FEATURES), len(texts)))
    out[3] = np.asarray(tables, dtype=np.float64)
    known = {t for t in query if t in idf}
    total = sum(idf[t] for t in sorted(known))
    if total > 0:
        for row, found in (
            (0, (known.intersection(t.split()) for t in texts)),
            (1, map(known.intersection, titles)),
        ):
            out[row] = [sum(idf[t] for t in sorted(present)) / total for present in found]
    # Substring search finds a pair at C speed: " a b " inside " text ".
    wanted = [f" {a} {b} " for a, b in itertools.pairwise(query) if a in idf and b in idf]
    if len(query) > 1 and wanted:
        padded = [f" {t} " for t in texts]
        out[2] = [sum(pair in text for pair in wanted) / (len(query) - 1) for text in padded]
    return out
