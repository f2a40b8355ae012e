"""``python -m eval.tune``: choose query-time ranking settings on the dev split.

Index-time settings (chunk size, path levels, stemmer) need a rebuild each; run
``python -m eval --split dev`` with ``RAPOR_*`` variables for those. This script
grids the settings that only change ranking, on loaded indexes, and prints the best by
dev MRR@10 (ties: R@5): the BM25 settings under the current fusion, the fusion (the three
arms' weights on a 0.1 grid, or RRF) under the current BM25 settings, and the second
stage's weights (indexer/rerank.py) under the current fusion (``--stages`` picks some).
``--with thquad`` adds a benchmark as a second dev collection: a point then scores the
mean of the collections' MRR@10, so a choice must hold on Wikipedia-style questions as
well as on ours (XQuAD-tr is kept for testing, like the report's test split). With 127
dev questions one question moves MRR@10 by up to 0.008, so weights are chosen by the mean
over each point and its grid neighbours, not by the single best point. Never tune on
the test split.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from eval.metrics import score
from eval.questions import DEFAULT_QUESTIONS
from eval.runner import in_process, run_queries
from eval.sets import benchmark_set, report_set

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


STAGES = ("bm25", "fusion", "rerank")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.tune", description=__doc__)
    parser.add_argument("--split", choices=("dev",), default="dev")
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help="report question file")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--with", dest="also", nargs="*", default=[], help="benchmarks tuned on too")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    args = parser.parse_args(argv)

    from indexer.search import SearchEngine
    from indexer.settings import Settings, get_settings
    from service.app import load_engine

    def embedded(settings: Settings) -> SearchEngine:
        engine = load_engine(settings)  # builds the index when missing or stale
        if not isinstance(engine, SearchEngine):
            raise SystemExit("eval.tune grids the embedded backend: unset RAPOR_BACKEND")
        return engine

    base = get_settings()
    loaded = embedded(base)
    sets = [(report_set(base, args.questions, args.split), loaded)]
    for name in args.also:
        bench = benchmark_set(base.benchmarks_dir / name, base, base.index_dir.parent / "bench")
        sets.append((bench, embedded(bench.settings)))
    query_time = {*WEIGHTS, *RERANK, "fusion", "rrf_k"}

    def measure(change: dict[str, Any]) -> tuple[float, float]:
        """Mean MRR@10 and R@5 over the dev collections with ``change`` applied."""
        found = []
        for ev, engine in sets:
            settings = engine.settings.model_copy(update=change)
            if change.keys() <= query_time:  # only ranking changes: reuse the loaded index
                variant = engine.with_settings(settings)
            else:
                variant = SearchEngine(settings, loaded.embedder)
            m = score(ev.qrels, run_queries(in_process(variant), ev.queries, "hybrid", progress=False))
            found.append((m["MRR@10"], m["R@5"]))
        mrr, r5 = np.mean(found, axis=0)
        return float(mrr), float(r5)

    def grid(changes: list[dict[str, Any]]) -> list[tuple[float, float, dict[str, Any]]]:
        rows = [(*measure(change), change) for change in tqdm(changes, desc="grid", leave=False)]
        return sorted(rows, key=lambda r: (r[0], r[1]), reverse=True)

    print(f"dev collections: {', '.join(ev.name for ev, _ in sets)} (mean MRR@10, mean R@5)")
    if "bm25" in args.stages:
        lexical = grid([dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())])
        for mrr, r5, change in lexical[:3]:
            print(f"MRR@10 {mrr:.4f}  R@5 {r5:.4f}  {change}")
    if "fusion" in args.stages:
        fused = grid(FUSIONS)
        shown = fused[: args.top]
        shown += [r for r in fused if r[2]["fusion"] == "rrf" and r not in shown][:1]  # the best RRF
        for mrr, r5, change in shown:
            print(f"MRR@10 {mrr:.4f}  R@5 {r5:.4f}  {change}")
        smooth = smoothed({_point(c, WEIGHTS): m for m, _, c in fused if c["fusion"] == "convex"})
        for point, mean in smooth[:5]:
            print(f"neighbourhood MRR@10 {mean:.4f}  bm25/dense/sentence weights {point}")
    if "rerank" in args.stages:
        reranked = grid(RERANKS)
        for point, mean in smoothed({_point(c, RERANK): m for m, _, c in reranked})[:5]:
            print(f"neighbourhood MRR@10 {mean:.4f}  coverage/title/phrase/table weights {point}")
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
