"""Combine the lexical and dense rankings into one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def min_max(scores: Mapping[int, float]) -> dict[int, float]:
    """Scale scores to [0, 1] over the candidates; all-equal scores become 0.

    >>> min_max({1: 2.0, 2: 4.0, 3: 3.0})
    {1: 0.0, 2: 1.0, 3: 0.5}
    """
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    span = hi - lo
    return {k: (v - lo) / span if span > 0 else 0.0 for k, v in scores.items()}


def z_score(scores: Mapping[int, float]) -> dict[int, float]:
    """Standardize scores over the candidates (mean 0, deviation 1).

    >>> z_score({1: 1.0, 2: 3.0})
    {1: -1.0, 2: 1.0}
    """
    if not scores:
        return {}
    mean = sum(scores.values()) / len(scores)
    dev = (sum((v - mean) ** 2 for v in scores.values()) / len(scores)) ** 0.5
    return {k: (v - mean) / dev if dev > 0 else 0.0 for k, v in scores.items()}


NORMALIZERS = {"minmax": min_max, "zscore": z_score}


def convex(
    arms: Sequence[Mapping[int, float]], weights: Sequence[float], norm: str = "minmax"
) -> dict[int, float]:
    """Weighted sum of each arm's normalized scores (Bruch et al. 2023); a candidate an
    arm did not score gets 0 from it.

    >>> convex([{1: 10.0, 2: 0.0}, {1: 0.8, 2: 0.9}], [0.5, 0.5])
    {1: 0.5, 2: 0.5}
    """
    scaled = [NORMALIZERS[norm](arm) for arm in arms]
    keys = sorted(set().union(*scaled))
    return {k: sum(w * s.get(k, 0.0) for w, s in zip(weights, scaled, strict=True)) for k in keys}


def rrf(rankings: Sequence[Sequence[int]], k: int = 60) -> dict[int, float]:
    """Reciprocal rank fusion (Cormack et al. 2009); ranks start at 1.

    >>> rrf([[7, 8], [8]], k=1)
    {7: 0.5, 8: 0.8333333333333333}
    """
    out: dict[int, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking, start=1):
            out[doc] = out.get(doc, 0.0) + 1.0 / (k + rank)
    return out


def top(scores: Mapping[int, float], ids: Sequence[str], k: int) -> list[int]:
    """The ``k`` best candidates, ties broken on passage id.

    >>> top({0: 1.0, 1: 2.0, 2: 2.0}, ["c", "b", "a"], 2)
    [2, 1]
    """
    return sorted(scores, key=lambda i: (-scores[i], ids[i]))[:k]
