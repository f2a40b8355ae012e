"""``python -m eval.tune``: choose query-time ranking settings on the dev split.

Index-time settings (chunk size, path levels, stemmer) need a rebuild each; run
``python -m eval --split dev`` with ``RAPOR_*`` variables for those. This script
grids the settings that only change ranking, on one loaded index, and prints the
best by dev MRR@10 (ties: R@5). Never tune on the test split.
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
    "bm25_variant": ["okapi", "plus", "l"],
    "bm25_k1": [0.9, 1.2, 1.6],
    "bm25_b": [0.5, 0.75, 0.9],
}
FUSIONS: list[dict[str, Any]] = [
    *({"fusion": "convex", "dense_weight": w / 10} for w in range(0, 11)),
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
    rows: list[tuple[float, float, dict[str, Any]]] = []
    for values in itertools.product(*GRID.values()):
        lexical = dict(zip(GRID, values, strict=True))
        for fusion in FUSIONS:
            change = lexical | fusion
            engine = SearchEngine(base.model_copy(update=change), embedder)
            run = run_queries(in_process(engine), ev.queries, "hybrid", progress=False)
            m = score(ev.qrels, run)
            rows.append((m["MRR@10"], m["R@5"], change))
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    best_rrf = next(r for r in rows if r[2]["fusion"] == "rrf")
    for mrr, r5, change in [*rows[: args.top], best_rrf]:
        print(f"MRR@10 {mrr:.3f}  R@5 {r5:.3f}  {change}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
