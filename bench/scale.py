"""``python -m bench.scale``: how each query stage grows at 30x and 100x the report, on
the embedded backend and on PostgreSQL + pgvector (when ``RAPOR_PG_DSN`` names a primary).

Writes synthetic indexes next to nothing real (a scratch folder): the report's passages
repeated, each copy's terms perturbed as in ``bench.bm25`` and its passage and sentence
vectors moved by noise (then renormalized), so no two copies are identical. Loads each
into each backend (on PostgreSQL, into a database of its own, dropped afterwards) and asks
the eval questions in hybrid mode with the query embeddings already cached (their cost
does not depend on the corpus), printing load time, the process's RSS (the database's
size on PostgreSQL), each stage's median / p99, and the throughput of several threads
searching at once. The reference, in the same run, is the naive vector stage: NumPy
scoring every passage and sentence vector.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from bench.bm25 import perturbed
from bench.query import percentiles, timed
from indexer import store
from indexer.embedding import Embedder
from indexer.settings import Settings

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
    parser.add_argument(
        "--backends", nargs="+", choices=("embedded", "postgres"),
        help="default: embedded, and postgres too when RAPOR_PG_DSN is set",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=8, help="concurrent searches for throughput")
    parser.add_argument(
        "--keep", action="store_true", help="keep the PostgreSQL databases: the next run skips their loads"
    )
    args = parser.parse_args(argv)

    from eval.questions import DEFAULT_QUESTIONS, load_questions
    from indexer.settings import get_settings
    from service.app import load_engine

    settings = get_settings().model_copy(update={"backend": "embedded"})
    backends = args.backends or ["embedded", *(["postgres"] if settings.pg_dsn else [])]
    base = load_engine(settings)
    queries = [q.question for q in load_questions(DEFAULT_QUESTIONS)]
    for q in queries:
        base.embedder.query(q)  # warm: the embedding does not grow with the corpus
    print(
        f"{len(queries)} questions, hybrid, query vectors cached; ms median / p99; q/s with "
        f"{args.threads} threads; MB: this process's RSS (embedded), the database (postgres)"
    )
    header = ("scale", "backend", "passages", "load s", "MB", *STAGES, "q/s", "naive vectors", "ratio")
    print(" ".join(f"{h:>15}" for h in header))
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for scale in args.scales:
            folder = Path(tmp) / f"x{scale}"
            n = synthetic_index(settings.index_dir, folder, scale)
            for backend in backends:
                open_ = _embedded if backend == "embedded" else _postgres
                opened = open_(settings, folder, base.embedder, args.keep)
                row = [scale, backend, n, f"{opened.load_s:.1f}", f"{opened.megabytes:.0f}"]
                print(" ".join(f"{x:>15}" for x in [*row, *_measure(opened.engine, queries, args.threads)]))
                opened.close()
            shutil.rmtree(folder)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


@dataclasses.dataclass(frozen=True)
class Opened:
    engine: Any
    load_s: float
    megabytes: float
    close: Callable[[], None]


def _embedded(settings: Settings, folder: Path, embedder: Embedder, keep: bool) -> Opened:
    from indexer.search import SearchEngine

    started = time.perf_counter()
    engine = SearchEngine(settings.model_copy(update={"index_dir": folder}), embedder)
    return Opened(engine, time.perf_counter() - started, rss_mb(), lambda: None)


def _postgres(settings: Settings, folder: Path, embedder: Embedder, keep: bool) -> Opened:
    """Load the synthetic index into a database of its own (replicated), and search it;
    ``keep`` leaves the database for the next run, which searches it without loading it
    again (load time "nan")."""
    import psycopg
    from psycopg import sql

    from indexer.pg import load_index
    from indexer.pg.engine import PgSearchEngine

    name = f"rapor_bench_{folder.name}"
    with psycopg.connect(settings.pg_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    on = {
        "index_dir": folder,
        "pg_dsn": psycopg.conninfo.make_conninfo(settings.pg_dsn, dbname=name),
        "pg_replicas": tuple(psycopg.conninfo.make_conninfo(r, dbname=name) for r in settings.pg_replicas),
    }
    local = settings.model_copy(update=on)
    started = time.perf_counter()
    passages = int(store.read_json(folder / store.MANIFEST)["passages"])
    reused = _loaded(local.pg_dsn, passages)  # kept by a --keep run
    if not reused:
        load_index(local, local.pg_dsn)
    load_s = time.perf_counter() - started
    with psycopg.connect(local.pg_dsn) as conn:
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    engine = PgSearchEngine(local, embedder)

    def close() -> None:
        engine.close()
        if keep:
            return
        with psycopg.connect(settings.pg_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))

    return Opened(engine, math.nan if reused else load_s, size[0] / 2**20 if size else 0.0, close)


def _loaded(dsn: str, passages: int) -> bool:
    """Whether the database's current version is a synthetic index of that many passages
    loaded by this loader (the synthetic files' checksums differ from run to run)."""
    import psycopg

    from indexer.pg import LOADER_VERSION, schema_version

    with psycopg.connect(dsn) as conn:
        if schema_version(conn) == 0:
            return False
        row = conn.execute(
            "SELECT passages, loader FROM current_version JOIN index_versions USING (version)"
        ).fetchone()
    return row is not None and tuple(row) == (passages, LOADER_VERSION)


def _measure(engine: Any, queries: list[str], threads: int) -> list[str]:
    """Each stage's median / p99, throughput with ``threads`` at once, and (embedded only)
    the naive vector stage and our ratio to it."""
    times: dict[str, list[float]] = {s: [] for s in STAGES}
    for q in queries:
        result = engine.search(q, 10)
        for stage in STAGES[:-1]:
            times[stage].append(result.stages[stage])
        times["total"].append(result.took_ms)
    with ThreadPoolExecutor(threads) as pool:
        started = time.perf_counter()
        list(pool.map(lambda q: engine.search(q, 10), queries * 2))
        rate = 2 * len(queries) / (time.perf_counter() - started)
    out = [*(percentiles(times[s]) for s in STAGES), f"{rate:.0f}"]
    if not hasattr(engine, "vectors"):
        return [*out, "-", "-"]
    naive = [timed(_naive_vectors, engine, engine.embedder.query(q)) for q in queries[:50]]
    return [*out, percentiles(naive), f"{np.median(times['vectors']) / np.median(naive):.2f}"]


def _naive_vectors(engine: object, qvec: np.ndarray) -> None:
    """Score every passage and every sentence, then sort both: no index, no candidates."""
    passages = engine.vectors @ qvec  # type: ignore[attr-defined]
    sentences = engine.sentence_vectors @ qvec  # type: ignore[attr-defined]
    np.argsort(-passages)
    np.argsort(-np.maximum.reduceat(sentences, engine.sentence_starts))  # type: ignore[attr-defined]


if __name__ == "__main__":
    raise SystemExit(main())
