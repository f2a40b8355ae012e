"""``python -m bench.bm25``: the BM25 stage against rank-bm25's own ``get_scores``.

Indexes the report's passages (as analyzed terms) at 1x, 30x and 100x their number, the
copies perturbed (a tenth of the terms swapped, numbers changed) so they are not
identical, then scores the eval questions with both and prints the time per query, the
ratio, and the largest score difference. Times are medians; the machine may be noisy, so
compare the ratio measured in one run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import numpy as np

from indexer.lexical import LexicalIndex


def perturbed(corpus: list[list[str]], copies: int, seed: int = 0) -> list[list[str]]:
    """``copies`` versions of the corpus; all but the first with a tenth of terms changed."""
    rng = random.Random(seed)
    vocab = sorted({t for doc in corpus for t in doc})
    out = [list(doc) for doc in corpus]
    for _ in range(copies - 1):
        for doc in corpus:
            new = [
                str(rng.randint(1, 99999)) if t.isdigit() else rng.choice(vocab) if rng.random() < 0.1 else t
                for t in doc
            ]
            out.append(new)
    return out


def time_queries(score: object, queries: list[list[str]], repeat: int) -> float:
    """Median milliseconds per query."""
    assert callable(score)
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        for q in queries:
            score(q)
        runs.append((time.perf_counter() - started) * 1000 / len(queries))
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bm25", description=__doc__)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 30, 100])
    parser.add_argument("--queries", type=int, default=100, help="eval questions used per scale")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from eval.questions import DEFAULT_QUESTIONS, load_questions
    from indexer.corpus import document_passages, load_corpus
    from indexer.settings import get_settings

    settings = get_settings()
    analyzer = settings.analyzer()
    base = [
        analyzer.terms(p.text)
        for d in load_corpus(settings.corpus_dir)
        for p in document_passages(d, settings.chunking())
    ]
    questions = [analyzer.terms(q.question) for q in load_questions(DEFAULT_QUESTIONS)][: args.queries]
    header = ("scale", "passages", "build s", "rank-bm25 ms/q", "ours ms/q", "speed-up", "max |diff|")
    print(" ".join(f"{h:>14}" for h in header))
    for scale in args.scales:
        corpus = perturbed(base, scale)
        started = time.perf_counter()
        index = LexicalIndex(corpus, settings.bm25_variant, settings.bm25_k1, settings.bm25_b)
        build = time.perf_counter() - started
        known = [k for k in ([t for t in q if t in index.bm25.idf] for q in questions) if k]
        naive = time_queries(index.bm25.get_scores, known, 1 if scale > 10 else args.repeat)
        ours = time_queries(index.scores, known, args.repeat)
        diff = max(float(np.max(np.abs(index.scores(k) - index.bm25.get_scores(k)))) for k in known[:20])
        row = (
            scale,
            len(corpus),
            f"{build:.1f}",
            f"{naive:.2f}",
            f"{ours:.3f}",
            f"{naive / ours:.0f}x",
            f"{diff:.1e}",
        )
        print(" ".join(f"{v:>14}" for v in row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
