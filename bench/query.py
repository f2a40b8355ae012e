"""``python -m bench.query``: where a query's time goes, per stage and mode, in process.

Asks every eval question, as typed and without Turkish letters, in each mode with the
query-embedding cache cleared first, and prints the median and p99 of each stage and of
the whole search (plus building the API response), on the backend the settings name
(``RAPOR_BACKEND``). The same work through naive
references in the same run: rank-bm25's ``get_scores`` for the BM25 stage, a plain
sentence-transformers ``encode`` for the embedding. Last, the hybrid run again with the
cache warm: what a repeated query costs.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

STAGES = ("analysis", "bm25", "embedding", "vectors", "fusion", "response", "total")


def percentiles(values: list[float]) -> str:
    """Median and p99, in milliseconds.

    >>> percentiles([1.0, 2.0, 3.0])
    '2.00 / 2.98'
    """
    return f"{np.percentile(values, 50):.2f} / {np.percentile(values, 99):.2f}"


def timed(fn: Callable[..., object], *args: object) -> float:
    """Milliseconds one call takes."""
    started = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - started) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.query", description=__doc__)
    parser.add_argument("--limit", type=int, default=0, help="ask only this many questions")
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits

    from eval.questions import DEFAULT_QUESTIONS, load_questions
    from indexer.analysis import fold
    from indexer.search import MODES, SearchEngine
    from indexer.settings import get_settings
    from service.app import load_engine, to_response

    # As the service does: one BLAS thread (a two-thread matrix-vector product of the
    # sentence vectors takes 8 ms instead of 1, waking the pool's sleeping thread).
    threadpool_limits(1)
    settings = get_settings()
    engine = load_engine(settings)
    typed = [q.question for q in load_questions(DEFAULT_QUESTIONS)]
    queries = [*typed, *(fold(q) for q in typed)][: args.limit or None]
    print(f"{len(queries)} queries over {len(engine)} passages ({settings.backend}); ms, median / p99")
    print(f"{'mode':<14}" + "".join(f"{s:>16}" for s in STAGES))
    for mode in (*MODES, "hybrid (cached)"):
        if mode != "hybrid (cached)":
            engine.embedder._query.cache_clear()
        times: dict[str, list[float]] = {s: [] for s in STAGES}
        for q in queries:
            result = engine.search(q, 10, mode.split()[0])  # type: ignore[arg-type]
            for stage, ms in result.stages.items():
                times[stage].append(ms)
            times["response"].append(timed(to_response, result))
            times["total"].append(result.took_ms + times["response"][-1])
        print(f"{mode:<14}" + "".join(f"{percentiles(times[s]) if times[s] else '-':>16}" for s in STAGES))

    if not isinstance(engine, SearchEngine):
        return 0  # the naive references below read the embedded index
    terms = [t for t in (engine.analyzer.terms(q) for q in queries) if t]
    known = [[x for x in t if x in engine.lexical.bm25.idf] or ["\x00"] for t in terms]
    naive_bm25 = [timed(engine.lexical.bm25.get_scores, k) for k in known]
    ours_bm25 = [timed(engine.lexical.scores, t) for t in terms]
    model = engine.embedder.model
    naive_embed = [timed(model.encode, [f"query: {q}"]) for q in queries[:100]]
    engine.embedder._query.cache_clear()
    ours_embed = [timed(engine.embedder.query, q) for q in queries[:100]]
    for name, naive, ours in (("bm25", naive_bm25, ours_bm25), ("embedding", naive_embed, ours_embed)):
        ratio = np.median(ours) / np.median(naive)
        print(f"{name}: ours {percentiles(ours)} vs naive {percentiles(naive)}; median ratio {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
