"""Cross-validated fusion weights: every query ranked by weights tuned without it.

A collection unlike the report (Wikipedia-style benchmarks) may want other fusion
weights than the ones chosen on the report's dev split. Tuning them on the collection's
own questions and scoring those same questions would overstate; k-fold cross-validation
does not. Queries are dealt into folds by the title of their answering passage, so one
article's questions (which share its words) never sit on both sides. Each fold is ranked
with the convex weights that score best on the other folds (the neighbourhood mean of
MRR@10 over ``eval.tune``'s grid), and the folds' rankings together make one run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from eval import metrics
from eval.runner import Run, in_process, run_queries
from eval.sets import EvalSet
from eval.tune import FUSIONS, WEIGHTS, Point, smoothed

POINTS: list[Point] = [tuple(f[w] for w in WEIGHTS) for f in FUSIONS if f["fusion"] == "convex"]


@dataclass(frozen=True)
class Fold:
    """One fold: its queries, and the weights chosen on the others."""

    size: int  # queries in the fold
    weights: Point
    train_mrr: float  # neighbourhood mean MRR@10 of ``weights`` on the other folds


@dataclass(frozen=True)
class CrossValidated:
    run: Run
    folds: tuple[Fold, ...]

    def describe(self) -> dict[str, Any]:
        """The folds as JSON for a result file."""
        return {
            "folds": len(self.folds),
            "grouped_by": "title of the relevant passage",
            "chosen": [
                {"fold": i, "queries": f.size, **dict(zip(WEIGHTS, f.weights, strict=True)),
                 "train_MRR@10": round(f.train_mrr, 4)}
                for i, f in enumerate(self.folds)
            ],
        }  # fmt: skip


def assign_folds(groups: Mapping[str, str], k: int) -> dict[str, int]:
    """Each query's fold: its group's place among the sorted groups, modulo ``k``.

    >>> assign_folds({"q1": "b", "q2": "a", "q3": "b", "q4": "c"}, 2)
    {'q1': 1, 'q2': 0, 'q3': 1, 'q4': 0}
    """
    order = {g: i % k for i, g in enumerate(sorted(set(groups.values())))}
    return {q: order[g] for q, g in groups.items()}


def choose(scores: Mapping[Point, Mapping[str, float]], train: Sequence[str]) -> tuple[Point, float]:
    """The point with the best neighbourhood mean of its mean score over ``train`` (ties:
    the better own mean, then grid order); the other queries' scores are not read.

    >>> scores = {(0.5, 0.5, 0.0): {"a": 1.0, "b": 0.0}, (1.0, 0.0, 0.0): {"a": 0.5, "b": 1.0}}
    >>> choose(scores, ["a"])
    ((0.5, 0.5, 0.0), 1.0)
    >>> choose(scores, ["b"])
    ((1.0, 0.0, 0.0), 1.0)
    """
    means = {p: float(np.mean([per_query[q] for q in train])) for p, per_query in scores.items()}
    smooth = dict(smoothed(means))
    best = max(means, key=lambda p: (smooth[p], means[p]))
    return best, smooth[best]


def cross_validate(
    ev: EvalSet, engine: Any, groups: Mapping[str, str], k: int, progress: bool = True
) -> CrossValidated:
    """Hybrid runs of ``engine`` (one with ``with_settings``) over the weight grid, then
    each of ``k`` folds taken from the point chosen on the others. Unjudged queries are
    not scored, so they are neither run nor in the run."""
    if k < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    judged = {q.id: ev.qrels[q.id] for q in ev.queries if ev.qrels.get(q.id)}
    found = len({groups[q] for q in judged})
    if found < k:
        raise ValueError(f"{k} folds need at least {k} groups of queries; {ev.name} has {found}")
    asked = [q for q in ev.queries if q.id in judged]  # an unjudged query scores nothing
    runs: dict[Point, Run] = {}
    scores: dict[Point, dict[str, float]] = {}
    for point in tqdm(POINTS, desc="cv grid", disable=not progress, leave=False):
        weights = {"fusion": "convex", **dict(zip(WEIGHTS, point, strict=True))}
        variant = engine.with_settings(engine.settings.model_copy(update=weights))
        runs[point] = run_queries(in_process(variant), asked, "hybrid", progress=False)
        scores[point] = metrics.per_query(judged, runs[point])
    fold_of = assign_folds({q: groups[q] for q in judged}, k)
    run: Run = {}
    folds = []
    for fold in range(k):
        held = [q for q in judged if fold_of[q] == fold]
        point, train_mrr = choose(scores, [q for q in judged if fold_of[q] != fold])
        run.update({q: runs[point][q] for q in held})
        folds.append(Fold(len(held), point, train_mrr))
    return CrossValidated(run, tuple(folds))


def title_groups(ev: EvalSet, titles: Mapping[str, str]) -> dict[str, str]:
    """Each judged query's group: the title of its relevant passage (the first by id;
    "" for one not indexed).

    >>> from eval.sets import Query
    >>> from indexer.settings import Settings
    >>> ev = EvalSet("x", (Query("q1", "?", "all"),), {"q1": {"p2": 1, "p1": 1}}, Settings())
    >>> title_groups(ev, {"p1": "Warsaw", "p2": "Tesla"})
    {'q1': 'Warsaw'}
    """
    return {q: titles.get(min(rel), "") for q, rel in ev.qrels.items() if rel}
