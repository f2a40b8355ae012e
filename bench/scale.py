"""``python -m bench.scale``: how each query stage grows at 30x and 100x the report.

Writes synthetic indexes next to nothing real (a scratch folder): the report's passages
repeated, each copy's terms perturbed as in ``bench.bm25`` and its passage and sentence
vectors moved by noise (then renormalized), so no two copies are identical. Loads each
with the real ``SearchEngine`` and asks the eval questions in hybrid mode with the query
embeddings already cached (their cost does not depend on the corpus), printing load time,
the process's RSS, and each stage's median / p99. The reference, in the same run, is the
naive vector stage: NumPy scoring every passage and sentence vector.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.bm25 import perturbed
from bench.query import percentiles, timed
from indexer import store

STAGES = ("bm25", "vectors", "fusion", "total")


def synthetic_index(source: Path, target: Path, copies: int, seed: int = 0) -> int:
    """Write ``copies`` perturbed copies of the index at ``source`` to ``target``; returns
    the number of passages."""
    rng = np.random.default_rng(seed)
    passages = store.read_passages(source)
    terms = perturbed(store.read_json(source / store.TERMS), copies, seed)
    dense = store.read_dense(source)
    vectors = dense.reconstruct_n(0, dense.ntotal)
    units, starts = store.read_sentences(source)

    def noisy(v: np.ndarray) -> np.ndarray:
        out: np.ndarray = v + rng.normal(0, 0.02, v.shape).astype(np.float32)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out

    target.mkdir(parents=True)
    copied = [
        dataclasses.replace(p, id=f"{p.id}~{c}" if c else p.id) for c in range(copies) for p in passages
    ]
    store.write_passages(target, copied)
    store.write_json(target / store.TERMS, terms)
    store.write_dense(target, np.vstack([vectors, *(noisy(vectors) for _ in range(copies - 1))]))
    all_units = np.vstack([units, *(noisy(units) for _ in range(copies - 1))])
    all_starts = np.concatenate([starts + c * len(units) for c in range(copies)])
    store.write_sentences(target, all_units, all_starts)
    n = len(passages)
    citations = store.read_json(source / store.CITATIONS)
    cited = {k: [i + c * n for c in range(copies) for i in v] for k, v in citations.items()}
    store.write_json(target / store.CITATIONS, cited)
    shutil.copy(source / store.VOCABULARY, target / store.VOCABULARY)
    manifest = store.read_json(source / store.MANIFEST)
    manifest |= {"passages": len(copied), "checksums": store.checksums(target)}
    store.write_json(target / store.MANIFEST, manifest)
    return len(copied)


def rss_mb() -> float:
    with open("/proc/self/status", encoding="utf-8") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return float(fields["VmRSS"].split()[0]) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 30, 100])
    args = parser.parse_args(argv)

    from eval.questions import DEFAULT_QUESTIONS, load_questions
    from indexer.search import SearchEngine
    from indexer.settings import get_settings
    from service.app import load_engine

    settings = get_settings()
    base = load_engine(settings)
    queries = [q.question for q in load_questions(DEFAULT_QUESTIONS)]
    for q in queries:
        base.embedder.query(q)  # warm: the embedding does not grow with the corpus
    print(f"{len(queries)} questions, hybrid, query vectors cached; ms median / p99; RSS of this process")
    header = ("scale", "passages", "load s", "RSS MB", *STAGES, "naive vectors", "ratio")
    print(" ".join(f"{h:>15}" for h in header))
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for scale in args.scales:
            folder = Path(tmp) / f"x{scale}"
            n = synthetic_index(settings.index_dir, folder, scale)
            started = time.perf_counter()
            engine = SearchEngine(settings.model_copy(update={"index_dir": folder}), base.embedder)
            load = time.perf_counter() - started
            times: dict[str, list[float]] = {s: [] for s in STAGES}
            for q in queries:
                result = engine.search(q, 10)
                for stage in STAGES[:-1]:
                    times[stage].append(result.stages[stage])
                times["total"].append(result.took_ms)
            naive = [timed(_naive_vectors, engine, base.embedder.query(q)) for q in queries[:50]]
            ratio = np.median(times["vectors"]) / np.median(naive)
            row = [scale, n, f"{load:.1f}", f"{rss_mb():.0f}", *(percentiles(times[s]) for s in STAGES)]
            print(" ".join(f"{x:>15}" for x in [*row, percentiles(naive), f"{ratio:.2f}"]))
            del engine
            shutil.rmtree(folder)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


def _naive_vectors(engine: object, qvec: np.ndarray) -> None:
    """Score every passage and every sentence, then sort both: no index, no candidates."""
    passages = engine.vectors @ qvec  # type: ignore[attr-defined]
    sentences = engine.sentence_vectors @ qvec  # type: ignore[attr-defined]
    np.argsort(-passages)
    np.argsort(-np.maximum.reduceat(sentences, engine.sentence_starts))  # type: ignore[attr-defined]


if __name__ == "__main__":
    raise SystemExit(main())
