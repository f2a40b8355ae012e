"""Retrieval metrics computed by ranx (no hand-written metric code)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

# "R@k" here is ranx's hit_rate@k: the share of questions with an answering passage
# in the top k. With one relevant passage per question it equals recall@k; with
# duplicates of the answer it does not penalise finding only one copy.
METRICS = {"R@1": "hit_rate@1", "R@5": "hit_rate@5", "R@10": "hit_rate@10", "MRR@10": "mrr@10"}


def score(qrels: Mapping[str, Mapping[str, int]], run: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Mean metrics over the questions in ``qrels``."""
    from ranx import Qrels, Run, evaluate

    ids = [q for q in qrels if qrels[q]]
    if not ids:
        return dict.fromkeys(METRICS, 0.0)
    # ranx needs every query in the run; an empty result list scores zero.
    full_run = {q: dict(run.get(q, {})) or {"__none__": 0.0} for q in ids}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's uint64 cast warning inside ranx
        values = evaluate(Qrels({q: dict(qrels[q]) for q in ids}), Run(full_run), list(METRICS.values()))
    assert isinstance(values, dict)
    return {name: float(values[m]) for name, m in METRICS.items()}
