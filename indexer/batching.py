"""Micro-batching: many threads' single calls become batched calls on a few workers.

Query embedding is the costly step of a search. A few worker threads run the model;
whatever queries arrive while they are busy are taken, up to ``max_batch`` at a time, by
the next free worker and encoded together in one call.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


class MicroBatcher(Generic[In, Out]):
    """Calls ``fn`` on batches of at most ``max_batch`` items submitted from any thread,
    from ``workers`` threads at once (so ``fn`` must be thread-safe when ``workers > 1``).

    >>> double = MicroBatcher(lambda xs: [2 * x for x in xs])
    >>> double(21)
    42
    >>> double.close()
    """

    def __init__(
        self, fn: Callable[[Sequence[In]], Sequence[Out]], max_batch: int = 16, workers: int = 1
    ) -> None:
        self.fn = fn
        self.max_batch = max(1, max_batch)
        self.workers = max(1, workers)
        self._queue: queue.SimpleQueue[tuple[In, Future[Out]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def __call__(self, item: In) -> Out:
        """``fn([item])[0]``, computed on the worker, perhaps with other callers' items."""
        self._start()
        done: Future[Out] = Future()
        self._queue.put((item, done))
        return done.result()

    def close(self) -> None:
        """Stop the workers after the queued items."""
        with self._lock:
            for _ in self._threads:
                self._queue.put(None)  # one stop mark per worker
            for thread in self._threads:
                thread.join()
            self._threads = []

    def _start(self) -> None:
        with self._lock:
            if not self._threads:
                # Daemons: a caller that never closes must not keep the process alive.
                self._threads = [
                    threading.Thread(target=self._run, name=f"micro-batcher-{n}", daemon=True)
                    for n in range(self.workers)
                ]
                for thread in self._threads:
                    thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # this worker or another stops after this batch
                    break
                batch.append(item)
            try:
                results = list(self.fn([x for x, _ in batch]))
                if len(results) != len(batch):
                    raise RuntimeError(f"batch of {len(batch)} gave {len(results)} results")
            except Exception as exc:  # a failed batch fails its callers, not the worker
                for _, done in batch:
                    done.set_exception(exc)
                continue
            for (_, done), result in zip(batch, results, strict=True):
                done.set_result(result)
