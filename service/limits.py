"""Bounded search load: a few searches run, a few wait, the rest are turned away at once.

Under a flood beyond capacity, queued requests would only grow memory and latency until
clients time out. A full queue answers 503 with ``Retry-After`` instead, and a search that
waits and runs longer than the time limit is answered 503 as well (its thread finishes in
the background and frees its slot).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
from anyio import CapacityLimiter, to_thread
from starlette.exceptions import HTTPException

T = TypeVar("T")


class SearchSlots:
    """At most ``running`` searches at once, ``waiting`` more in line, ``timeout`` seconds each."""

    def __init__(self, running: int, waiting: int, timeout: float) -> None:
        self.limiter = CapacityLimiter(running)
        self.waiting = waiting
        self.timeout = timeout

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` on a worker thread, or a 503 when the service is full or too slow."""
        full = self.limiter.available_tokens == 0
        if full and self.limiter.statistics().tasks_waiting >= self.waiting:
            raise HTTPException(503, "too many searches at once: retry in a second", {"Retry-After": "1"})
        with anyio.move_on_after(self.timeout):
            return await to_thread.run_sync(fn, *args, limiter=self.limiter, abandon_on_cancel=True)
        raise HTTPException(
            503, f"the search took over {self.timeout:g} s: retry later", {"Retry-After": "5"}
        )
