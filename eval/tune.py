"""``python -m eval.tune``: choose query-time ranking settings on the dev split.

Index-time settings (chunk size, path levels, stemmer) need a rebuild each; run
``python -m eval --split dev`` with ``RAPOR_*`` variables for those. This script
grids the settings that only change ranking, on one loaded index, and prints the
best by dev MRR@10 (ties: R@5): the BM25 settings under the current fusion, the fusion
(the three arms' weights on a 0.1 grid, or RRF) under the current BM25 settings, and the
second stage's weights (indexer/rerank.py) under the current fusion. With 97 dev
questions one question moves MRR@10 by up to 0.01, so weights are chosen by the mean over
each point and its grid neighbours, not by the single best point. Never tune on the test
split.
"""

from __future__ import annotations

import argparse
import itertools
from typing import Any

from eval.metrics import score
from eval.questions import DEFAULT_QUESTIONS
from eval.runner import in_process, run_queries
from eval.sets import report_set

GRID: dict[str, list[Any]] = {
    "bm25_variant": ["lucene", "okapi", "plus", "l"],
    "bm25_k1": [0.9, 1.2, 1.6],
    "bm25_b": [0.5, 0.75, 0.9],
}
WEIGHTS = ("bm25_weight", "dense_weight", "sentence_weight")
RERANK = ("coverage_weight", "title_weight", "phrase_weight", "table_weight")
RERANKS: list[dict[str, Any]] = [
    dict(zip(RERANK, values, strict=True))
    for values in itertools.product(
        [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0, 0.1, 0.2, 0.3], [0, 0.1, 0.2, 0.3], [0, 0.05]
    )
]
Point = tuple[float, ...]
FUSIONS: list[dict[str, Any]] = [
    *(
        {"fusion": "convex"} | dict(zip(WEIGHTS, (b / 10, d / 10, (10 - b - d) / 10), strict=True))
        for b in range(1, 11)
        for d in range(0, 11 - b)
    ),
    *({"fusion": "rrf", "rrf_k": k} for k in (10, 30, 60)),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.tune", description=__doc__)
    parser.add_argument("--split", choices=("dev",), default="dev")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)

    from indexer.search import SearchEngine
    from indexer.settings import get_settings

    base = get_settings()
    ev = report_set(base, DEFAULT_QUESTIONS, args.split)
    embedder = SearchEngine(base).embedder

    loaded = SearchEngine(base, embedder)
    query_time = {*WEIGHTS, *RERANK, "fusion", "rrf_k"}

    def grid(changes: list[dict[str, Any]]) -> list[tuple[float, float, dict[str, Any]]]:
        rows = []
        for change in changes:
            settings = base.model_copy(update=change)
            if change.keys() <= query_time:  # only ranking changes: reuse the loaded index
                engine = loaded.with_settings(settings)
            else:
                engine = SearchEngine(settings, embedder)
            m = score(ev.qrels, run_queries(in_process(engine), ev.queries, "hybrid", progress=False))
            rows.append((m["MRR@10"], m["R@5"], change))
        return sorted(rows, key=lambda r: (r[0], r[1]), reverse=True)

    lexical = grid([dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())])
    fused = grid(FUSIONS)
    best_rrf = next(r for r in fused if r[2]["fusion"] == "rrf")
    for mrr, r5, change in [*lexical[:3], *fused[: args.top], best_rrf]:
        print(f"MRR@10 {mrr:.3f}  R@5 {r5:.3f}  {change}")
    smooth = smoothed({_point(c, WEIGHTS): m for m, _, c in fused if c["fusion"] == "convex"})
    for point, mean in smooth[:5]:
        print(f"neighbourhood MRR@10 {mean:.3f}  bm25/dense/sentence weights {point}")
    reranked = grid(RERANKS)
    for point, mean in smoothed({_point(c, RERANK): m for m, _, c in reranked})[:5]:
        print(f"neighbourhood MRR@10 {mean:.3f}  coverage/title/phrase/table weights {point}")
    return 0


def _point(change: dict[str, Any], names: tuple[str, ...]) -> Point:
    return tuple(change[n] for n in names)


def smoothed(scores: dict[Point, float]) -> list[tuple[Point, float]]:
    """Each weight point's mean score over itself and the points within 0.1 on every arm.

    >>> smoothed({(1.0, 0.0, 0.0): 0.8, (0.9, 0.1, 0.0): 0.6, (0.5, 0.5, 0.0): 0.9})
    [((0.5, 0.5, 0.0), 0.9), ((1.0, 0.0, 0.0), 0.7), ((0.9, 0.1, 0.0), 0.7)]
    """
    out = []
    for point in scores:
        near = [m for q, m in scores.items() if max(abs(a - b) for a, b in zip(point, q, strict=True)) < 0.11]
        out.append((point, sum(near) / len(near)))
    return sorted(out, key=lambda r: -r[1])


if __name__ == "__main__":
    raise SystemExit(main())
