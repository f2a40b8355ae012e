"""Combine the arms' scores over one candidate set into one ranking.

Scores are arrays over the same candidates (one row per arm); ``tie`` gives each
candidate's rank by passage id, so equal scores always come out in id order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def min_max(scores: np.ndarray) -> np.ndarray:
    """Scale scores to [0, 1] over the candidates; all-equal scores become 0.

    >>> min_max(np.array([2.0, 4.0, 3.0])).tolist()
    [0.0, 1.0, 0.5]
    """
    if not len(scores):
        return scores.astype(np.float64)
    lo, span = scores.min(), scores.max() - scores.min()
    return (scores - lo) / span if span > 0 else np.zeros(len(scores))


def z_score(scores: np.ndarray) -> np.ndarray:
    """Standardize scores over the candidates (mean 0, deviation 1).

    >>> z_score(np.array([1.0, 3.0])).tolist()
    [-1.0, 1.0]
    """
    if not len(scores):
        return scores.astype(np.float64)
    dev = scores.std()
    return (scores - scores.mean()) / dev if dev > 0 else np.zeros(len(scores))


NORMALIZERS = {"minmax": min_max, "zscore": z_score}


def convex(arms: np.ndarray, weights: Sequence[float], norm: str = "minmax") -> np.ndarray:
    """Weighted sum of each arm's normalized scores (Bruch et al. 2023).

    >>> convex(np.array([[10.0, 0.0], [0.8, 0.9]]), [0.5, 0.5]).tolist()
    [0.5, 0.5]
    """
    out = np.zeros(arms.shape[1])
    for weight, scores in zip(weights, arms, strict=True):
        out += weight * NORMALIZERS[norm](scores)
    return out


def rrf(arms: np.ndarray, tie: np.ndarray, k: int = 60) -> np.ndarray:
    """Reciprocal rank fusion (Cormack et al. 2009): each arm ranks every candidate,
    from 1, equal scores in ``tie`` order.

    >>> rrf(np.array([[3.0, 2.0], [0.0, 1.0]]), np.array([0, 1]), k=1).tolist()
    [0.8333333333333333, 0.8333333333333333]
    """
    out = np.zeros(arms.shape[1])
    for scores in arms:
        ranks = np.empty(len(scores))
        ranks[top(scores, tie, len(scores))] = np.arange(1, len(scores) + 1)
        out += 1.0 / (k + ranks)
    return out


def top(scores: np.ndarray, tie: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` best scores, ties broken by ``tie`` (smaller first).

    >>> top(np.array([1.0, 2.0, 2.0]), np.array([2, 1, 0]), 2).tolist()
    [2, 1]
    """
    return np.lexsort((tie, -scores))[:k]
