"""Retrieval metrics, significance and per-query comparisons, all computed by ranx."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

# "R@k" is ranx's hit_rate@k: the share of queries with a relevant passage in the top k.
# With one relevant passage per query it equals recall@k; with duplicates of an answer
# it does not penalise finding only one copy.
METRICS = {
    "R@1": "hit_rate@1",
    "R@5": "hit_rate@5",
    "R@10": "hit_rate@10",
    "MRR@10": "mrr@10",
    "nDCG@10": "ndcg@10",
}
CURVE_KS = (1, 2, 3, 5, 10, 20)

Judgments = Mapping[str, Mapping[str, int]]
RunScores = Mapping[str, Mapping[str, float]]


def _ranx(qrels: Judgments, run: RunScores, name: str = "run") -> tuple[Any, Any]:
    from ranx import Qrels, Run

    ids = [q for q in qrels if qrels[q]]
    # ranx needs every judged query in the run; an empty result list scores zero.
    full = {q: dict(run.get(q, {})) or {"__none__": 0.0} for q in ids}
    return Qrels({q: dict(qrels[q]) for q in ids}), Run(full, name=name)


def score(qrels: Judgments, run: RunScores, metrics: Mapping[str, str] = METRICS) -> dict[str, float]:
    """Mean metrics over the judged queries in ``qrels``."""
    from ranx import evaluate

    if not any(qrels.values()):
        return dict.fromkeys(metrics, 0.0)
    q, r = _ranx(qrels, run)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's uint64 cast warning inside ranx
        values = evaluate(q, r, list(metrics.values()))
    assert isinstance(values, dict)
    return {name: float(values[m]) for name, m in metrics.items()}


def recall_curve(qrels: Judgments, run: RunScores) -> dict[int, float]:
    """R@k for the plotted cut-offs."""
    values = score(qrels, run, {str(k): f"hit_rate@{k}" for k in CURVE_KS})
    return {int(k): v for k, v in values.items()}


def per_query(qrels: Judgments, run: RunScores, metric: str = "mrr@10") -> dict[str, float]:
    """One metric for every judged query."""
    from ranx import evaluate

    q, r = _ranx(qrels, run)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = evaluate(q, r, metric, return_mean=False)
    return {qid: float(v) for qid, v in zip(q.keys(), values, strict=True)}


def significance(qrels: Judgments, a: RunScores, b: RunScores) -> dict[str, float]:
    """Two-sided paired t-test p-values (ranx "student") of run ``a`` against ``b``."""
    from ranx import compare

    q, ra = _ranx(qrels, a, "a")
    _, rb = _ranx(qrels, b, "b")
    names = {"MRR@10": "mrr@10", "nDCG@10": "ndcg@10"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = compare(q, [ra, rb], list(names.values()), stat_test="student").to_dict()
    return {n: float(report["a"]["comparisons"]["b"][m]) for n, m in names.items()}
