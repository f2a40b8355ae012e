"""Micro-batching: many threads' single calls become one batched call on one worker.

Query embedding is the costly step of a search, and on two cores two concurrent model
calls only fight over them. One worker thread runs the model; whatever queries arrive
while it is busy are encoded together in its next batch, which costs far less per query
than one call each.
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
    """Calls ``fn`` on batches of at most ``max_batch`` items submitted from any thread.

    >>> double = MicroBatcher(lambda xs: [2 * x for x in xs])
    >>> double(21)
    42
    >>> double.close()
    """

    def __init__(self, fn: Callable[[Sequence[In]], Sequence[Out]], max_batch: int = 16) -> None:
        self.fn = fn
        self.max_batch = max(1, max_batch)
        self._queue: queue.SimpleQueue[tuple[In, Future[Out]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def __call__(self, item: In) -> Out:
        """``fn([item])[0]``, computed on the worker, perhaps with other callers' items."""
        self._start()
        done: Future[Out] = Future()
        self._queue.put((item, done))
        return done.result()

    def close(self) -> None:
        """Stop the worker after the queued items."""
        with self._lock:
            if self._worker is not None:
                self._queue.put(None)
                self._worker.join()
                self._worker = None

    def _start(self) -> None:
        with self._lock:
            if self._worker is None:
                # A daemon: a caller that never closes must not keep the process alive.
                self._worker = threading.Thread(target=self._run, name="micro-batcher", daemon=True)
                self._worker.start()

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
                    self._queue.put(None)  # stop after this batch
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
