"""Cross-validated fusion weights: a fold is never tuned on its own queries."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest

from eval import crossval, metrics
from eval.sets import EvalSet, Query
from indexer.settings import Settings

QUERIES = ("q1", "q2", "q3", "q4")
GROUPS = {"q1": "Ankara", "q2": "Ankara", "q3": "Bursa", "q4": "Bursa"}  # folds 0, 0, 1, 1


@dataclass(frozen=True)
class Weighted:
    """Stands for an engine: only its settings matter to the stubs below."""

    settings: Settings

    def with_settings(self, settings: Settings) -> Weighted:
        return replace(self, settings=settings)


def _run(engine: Weighted, queries: Any, mode: str, progress: bool = False) -> dict[str, dict[str, float]]:
    # Each query's run names the BM25 weight it was ranked with.
    return {q.id: {f"bm25={engine.settings.bm25_weight}": 1.0} for q in queries}


def _per_query(judged: Any, run: dict[str, dict[str, float]]) -> dict[str, float]:
    """Ankara's questions are answered with little BM25 weight, Bursa's with much."""
    bm25 = {q: float(next(iter(ranked)).split("=")[1]) for q, ranked in run.items()}
    return {q: float(bm25[q] <= 0.2 if GROUPS[q] == "Ankara" else bm25[q] >= 0.6) for q in judged}


@pytest.fixture()
def stubbed(monkeypatch: pytest.MonkeyPatch) -> EvalSet:
    monkeypatch.setattr(crossval, "in_process", lambda engine: engine)
    monkeypatch.setattr(crossval, "run_queries", _run)
    monkeypatch.setattr(metrics, "per_query", _per_query)
    queries = tuple(Query(q, q, "all") for q in QUERIES)
    return EvalSet("stub", queries, {q: {f"p-{q}": 1} for q in QUERIES}, Settings())


def test_each_fold_gets_the_weights_its_other_folds_prefer(stubbed: EvalSet) -> None:
    engine = Weighted(Settings(fusion="rrf"))  # cross-validation tunes convex weights regardless
    cv = crossval.cross_validate(stubbed, engine, GROUPS, 2, progress=False)
    ankara, bursa = cv.folds
    # Tuned on itself, Ankara's fold would pick little BM25 and score 1.
    assert ankara.size == 2 and ankara.weights[0] >= 0.6
    assert bursa.size == 2 and bursa.weights[0] <= 0.2
    assert cv.run["q1"] == {f"bm25={ankara.weights[0]}": 1.0}
    assert cv.run["q3"] == {f"bm25={bursa.weights[0]}": 1.0}
    assert cv.describe()["chosen"][0]["queries"] == 2


def test_more_folds_than_groups_is_refused(stubbed: EvalSet) -> None:
    with pytest.raises(ValueError, match="3 folds need at least 3 groups"):
        crossval.cross_validate(stubbed, Weighted(Settings()), GROUPS, 3, progress=False)
