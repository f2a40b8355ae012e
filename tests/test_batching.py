"""Micro-batching of concurrent calls, and concurrent searches through it."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from indexer.batching import MicroBatcher
from indexer.search import SearchEngine


class Recorder:
    """Squares numbers slowly, remembering each batch's size."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.gate = threading.Event()

    def __call__(self, items: Sequence[int]) -> list[int]:
        self.gate.wait(5)
        self.sizes.append(len(items))
        if -1 in items:
            raise ValueError("no negative ones")
        return [x * x for x in items]


def test_each_caller_gets_its_own_result_and_waiting_calls_share_a_batch() -> None:
    fn = Recorder()
    batcher = MicroBatcher(fn, max_batch=8)
    with ThreadPoolExecutor(20) as pool:
        futures = [pool.submit(batcher, i) for i in range(20)]
        time.sleep(0.2)  # let the calls queue up behind the gated first batch
        fn.gate.set()
        assert [f.result() for f in futures] == [i * i for i in range(20)]
    batcher.close()
    assert sum(fn.sizes) == 20
    assert max(fn.sizes) == 8  # never more than max_batch, and waiting calls were joined


def test_workers_run_batches_at_once_and_all_stop_on_close() -> None:
    both_inside = threading.Barrier(2, timeout=5)  # broken, and raising, unless 2 run at once

    def square(items: Sequence[int]) -> list[int]:
        both_inside.wait()
        return [x * x for x in items]

    batcher = MicroBatcher(square, max_batch=1, workers=2)
    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(batcher, [3, 4])) == [9, 16]
    threads = list(batcher._threads)
    assert len(threads) == 2
    batcher.close()
    assert not any(t.is_alive() for t in threads)


def test_a_failing_batch_fails_its_callers_and_the_worker_goes_on() -> None:
    fn = Recorder()
    fn.gate.set()
    batcher = MicroBatcher(fn)
    with pytest.raises(ValueError, match="no negative"):
        batcher(-1)
    assert batcher(3) == 9
    batcher.close()


def test_a_wrong_number_of_results_is_an_error_not_a_hang() -> None:
    batcher: MicroBatcher[int, int] = MicroBatcher(lambda xs: [])
    with pytest.raises(RuntimeError, match="batch of 1 gave 0 results"):
        batcher(1)
    batcher.close()


def test_concurrent_searches_equal_sequential_ones(mini_engine: SearchEngine) -> None:
    queries = ["kreş", "otobüs hatları", "çöp toplama", "kopek barinagi", "su kesintisi", "park"] * 3
    mini_engine.embedder._query.cache_clear()
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda q: mini_engine.search(q, 5), queries))
    mini_engine.embedder._query.cache_clear()
    alone = [mini_engine.search(q, 5) for q in queries]
    for a, b in zip(together, alone, strict=True):
        assert [h.passage.id for h in a.hits] == [h.passage.id for h in b.hits]
        assert np.allclose([h.score for h in a.hits], [h.score for h in b.hits], atol=1e-4)
