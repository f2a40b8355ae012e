"""``python -m bench.encoder``: ways to encode concurrent queries, compared in one process.

Each variant is a graph (``fp32``, the exported one; ``int8``, its quantized version) run
either ``batched`` (a worker takes every query waiting, padded to the longest) or
``alone`` (one query per call, unpadded), by 1 worker with 2 intra-op threads or 2 workers
with 1 each. Quality: each graph's vectors for the eval questions and bench.http's typed
variants of them, against the fp32 graph's (cosine), and each one's vector in a batch of 4
against its vector alone. Speed: ``--clients`` threads encode distinct query texts through
each variant (``--search``: run whole hybrid searches, as the service does, without
HTTP); the variants take turns for ``--rounds`` rounds on the same texts, and each line
prints medians over rounds, and throughput and CPU per query as ratios to the first line
(the way before int8). On a busy machine throughput follows the neighbours' load; CPU
per query is the steadier measure. Read the ratios, and run it twice.
"""

from __future__ import annotations

import argparse
import copy
import functools
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from indexer import onnx_encoder
from indexer.batching import MicroBatcher

# name: (graph, workers, max_batch); intra-op threads are 2 // workers
VARIANTS: dict[str, tuple[Path, int, int]] = {
    "fp32 batched 1x2 (before)": (onnx_encoder.GRAPH, 1, 16),
    "fp32 alone 2x1": (onnx_encoder.GRAPH, 2, 1),
    "int8 batched 1x2": (onnx_encoder.INT8_GRAPH, 1, 16),
    "int8 alone 1x2": (onnx_encoder.INT8_GRAPH, 1, 1),
    "int8 alone 2x1 (served)": (onnx_encoder.INT8_GRAPH, 2, 1),
}


def closed_loop(
    call: Callable[[str], object], texts: Sequence[str], clients: int
) -> tuple[float, float, list[float]]:
    """Throughput (per s), CPU ms per text, and latencies (ms) of ``clients`` threads
    calling ``call`` on ``texts``, each taking the next text when its last one is done."""
    pending = iter(texts)
    lock = threading.Lock()
    latencies: list[float] = []

    def client() -> None:
        while True:
            with lock:
                text = next(pending, None)
            if text is None:
                return
            started = time.perf_counter()
            call(text)
            latencies.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started, cpu = time.perf_counter(), time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return len(texts) / seconds, cpu * 1000 / len(texts), latencies


def _rows(encoder: onnx_encoder.OnnxEncoder, texts: Sequence[str]) -> list[np.ndarray]:
    return list(encoder.encode(texts))


def _prompted(batcher: MicroBatcher[str, np.ndarray], prompt: str, text: str) -> np.ndarray:
    return batcher(prompt + text)


def quality(folder: Path, texts: Sequence[str]) -> None:
    reference = onnx_encoder.OnnxEncoder(folder, 2, onnx_encoder.GRAPH)
    alone_fp32 = np.vstack([reference.encode([t]) for t in texts])
    for name in ("fp32", "int8"):
        graph = onnx_encoder.GRAPH if name == "fp32" else onnx_encoder.INT8_GRAPH
        encoder = onnx_encoder.OnnxEncoder(folder, 2, graph, alone=False)
        alone = np.vstack([encoder.encode([t]) for t in texts])
        batched = np.vstack([encoder.encode(texts[i : i + 4]) for i in range(0, len(texts), 4)])
        to_fp32 = np.sum(alone * alone_fp32, axis=1)
        to_alone = np.sum(batched * alone, axis=1)
        print(
            f"{name}: cosine to fp32 min {to_fp32.min():.5f} mean {to_fp32.mean():.5f}; "
            f"in a batch of 4 vs alone min {to_alone.min():.5f} mean {to_alone.mean():.5f}"
        )


def sensitivity(folder: Path, texts: Sequence[str]) -> None:
    """How far int8 moves the vectors with each feed-forward output MatMul left in fp32,
    one layer at a time, then with ``onnx_encoder.FP32_NODES`` (how those were chosen)."""
    import tempfile

    reference = onnx_encoder.OnnxEncoder(folder, 2, onnx_encoder.GRAPH)
    fp32 = np.vstack([reference.encode([t]) for t in texts])
    names = "\n".join(onnx_encoder.weight_matmuls(folder / onnx_encoder.GRAPH))
    layers = sorted({int(m) for m in re.findall(r"/layer\.(\d+)/output/dense/", names)})
    skips: dict[str, re.Pattern[str] | None] = {"none": None}
    skips |= {f"layer {i}": re.compile(rf"/layer\.{i}/output/dense/") for i in layers}
    skips["FP32_NODES"] = onnx_encoder.FP32_NODES
    with tempfile.TemporaryDirectory() as tmp:
        for n, (name, skip) in enumerate(skips.items()):
            graph = onnx_encoder.quantize(folder, skip, Path(tmp) / f"{n}.onnx")
            encoder = onnx_encoder.OnnxEncoder(folder, 2, graph, alone=True)
            moved = 1 - np.sum(np.vstack([encoder.encode([t]) for t in texts]) * fp32, axis=1)
            print(f"int8, fp32 kept: {name:<12} 1 - cosine to fp32 mean {moved.mean():.5f}", end=" ")
            print(f"max {moved.max():.5f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.encoder", description=__doc__)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--texts", type=int, default=120, help="distinct query texts per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--search", action="store_true", help="whole hybrid searches")
    parser.add_argument("--only", nargs="+", help="variants whose name contains one of these")
    parser.add_argument(
        "--sensitivity", action="store_true", help="only: how far int8 moves vectors, per fp32 MatMul kept"
    )
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits

    from bench.http import variants
    from eval.questions import DEFAULT_QUESTIONS, load_questions
    from indexer.build import resolve_model
    from indexer.embedding import Embedder
    from indexer.settings import get_settings

    settings = get_settings()
    folder = Path(resolve_model(settings))
    questions = [q.question for q in load_questions(DEFAULT_QUESTIONS)]
    texts = [v for q in questions for v in variants(q)]
    Embedder(str(folder)).onnx  # noqa: B018 - exports and quantizes the graph if missing
    threadpool_limits(1)  # as the service does: one BLAS thread per search thread
    prompt = "query: "
    if args.sensitivity:
        sensitivity(folder, [prompt + t for t in questions] + [prompt + t for t in texts[1::3]])
        return 0
    quality(folder, [prompt + t for t in questions] + [prompt + t for t in texts[1::3]])

    chosen = {k: v for k, v in VARIANTS.items() if not args.only or any(w in k for w in args.only)}
    calls: dict[str, Callable[[str], object]] = {}
    closers: list[Callable[[], None]] = []
    resets: list[Callable[[], None]] = []  # query caches, emptied before each round
    if args.search:
        from indexer.ranking import Engine
        from service.app import load_engine

        engine = load_engine(settings)
        for name, (graph, workers, batch) in chosen.items():
            # "batched int8" is only measurable this way: the Embedder runs int8 alone
            embedder = Embedder(str(folder), threads=2, workers=workers, max_batch=batch, graph=graph)
            embedder.__dict__["onnx"] = onnx_encoder.OnnxEncoder(
                folder, 2 // workers, graph, alone=batch == 1
            )
            variant: Engine = copy.copy(engine)
            variant.embedder = embedder
            calls[name] = functools.partial(variant.search, k=10, mode="hybrid")
            closers.append(embedder._batcher.close)
            resets.append(embedder._query.cache_clear)
    else:
        for name, (graph, workers, batch) in chosen.items():
            encoder = onnx_encoder.OnnxEncoder(folder, 2 // workers, graph, alone=batch == 1)
            batcher = MicroBatcher(functools.partial(_rows, encoder), max_batch=batch, workers=workers)
            calls[name] = functools.partial(_prompted, batcher, prompt)
            closers.append(batcher.close)
    for call in calls.values():
        call("ısınma")  # warm-up

    runs: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in calls}
    for r in range(args.rounds):
        start = (r * args.texts) % max(1, len(texts) - args.texts)
        for reset in resets:
            reset()
        for name, call in calls.items():
            per_s, cpu, lat = closed_loop(call, texts[start : start + args.texts], args.clients)
            runs[name].append((per_s, cpu, float(np.percentile(lat, 50)), float(np.percentile(lat, 99))))
    for close in closers:
        close()

    what = "hybrid searches" if args.search else "query encodings"
    print(f"{what}, {args.clients} clients, {args.rounds} rounds of {args.texts} distinct texts; medians")
    print(f"{'variant':<28} {'per s':>7} {'ratio':>6} {'CPU ms':>7} {'ratio':>6} {'p50 ms':>7}"
          f" {'p99 ms':>7}  per s by round")  # fmt: skip
    base = np.median(np.array(next(iter(runs.values()))), axis=0)
    for name, rows in runs.items():
        m = np.median(np.array(rows), axis=0)
        rounds = " ".join(f"{x[0]:.0f}" for x in rows)
        print(
            f"{name:<28} {m[0]:>7.1f} {m[0] / base[0]:>6.2f} {m[1]:>7.2f} {m[1] / base[1]:>6.2f}"
            f" {m[2]:>7.1f} {m[3]:>7.1f}  {rounds}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
