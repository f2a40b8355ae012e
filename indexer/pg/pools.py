"""Connection pools for a primary and its read replicas: reads spread round-robin over
the replicas and fall back to another replica, then the primary, when one fails; writes
go to the primary only.

A server whose connection failed is skipped for ``retry_after`` seconds (then tried
again), so an outage costs one failed attempt, not one per read.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

log = logging.getLogger(__name__)
T = TypeVar("T")
_POLL = 0.05  # seconds between looks at whether a server was found down
Work = Callable[[psycopg.Connection[Any]], T]


class Unavailable(RuntimeError):
    """No server could answer a read (or the primary a write)."""


class Retry(Exception):
    """Raised by read work to ask for another server (e.g. a replica that lags behind)."""


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.autocommit = True
    conn.prepare_threshold = None  # plan each query with its values: partition pruning at plan time


class Servers:
    """A pool per server; ``read`` and ``write`` run work on a pooled connection."""

    def __init__(
        self,
        primary: str,
        replicas: Sequence[str] = (),
        *,
        max_size: int = 8,
        timeout: float = 1.0,
        retry_after: float = 2.0,
    ) -> None:
        if not primary:
            raise ValueError("the PostgreSQL backend needs a primary DSN (RAPOR_PG_DSN)")
        self.timeout = timeout
        self.retry_after = retry_after
        self._turn = itertools.count()
        self._down: dict[str, float] = {}  # pool name -> when to try it again
        self._lock = threading.Lock()
        self.primary = self._pool(primary, "primary", max_size)
        self.replicas = [self._pool(dsn, f"replica{i}", max_size) for i, dsn in enumerate(replicas)]

    def _pool(self, dsn: str, name: str, max_size: int) -> ConnectionPool[psycopg.Connection[Any]]:
        # A failed connection attempt is not retried in the background (reconnect_timeout=0):
        # the server is marked down at once, and a later read probes it.
        return ConnectionPool(
            dsn, min_size=0, max_size=max_size, name=name, open=True, configure=_configure,
            check=ConnectionPool.check_connection, reconnect_timeout=0, reconnect_failed=self._mark_down,
        )  # fmt: skip

    def _mark_down(self, pool: ConnectionPool[Any]) -> None:
        with self._lock:
            self._down[pool.name] = time.monotonic() + self.retry_after

    def close(self) -> None:
        for pool in (self.primary, *self.replicas):
            pool.close()

    def __enter__(self) -> Servers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read_order(self) -> list[tuple[ConnectionPool[psycopg.Connection[Any]], float]]:
        """(pool, checkout timeout) to try in turn: the replicas from the next in turn, then
        the primary; a server marked down goes last until it is due for another try, and
        is tried with a short timeout (a probe)."""
        if self.replicas:
            start = next(self._turn) % len(self.replicas)
            order = [*self.replicas[start:], *self.replicas[:start], self.primary]
        else:
            order = [self.primary]
        now = time.monotonic()
        with self._lock:
            retry = {p.name: self._down[p.name] for p in order if p.name in self._down}
        probe = min(self.timeout, 0.25)
        due = [
            (p, probe if p.name in retry else self.timeout) for p in order if retry.get(p.name, 0.0) <= now
        ]
        down = [(p, probe) for p in order if retry.get(p.name, 0.0) > now]
        return due + down

    def read(self, work: Work[T]) -> T:
        """``work`` on a replica (or the primary), the next one on a connection failure."""
        errors: list[str] = []
        for pool, timeout in self.read_order():
            try:
                return self._run(pool, work, timeout)
            except Retry as exc:
                errors.append(f"{pool.name}: {exc}")
            except (psycopg.OperationalError, PoolTimeout) as exc:
                errors.append(f"{pool.name}: {type(exc).__name__}: {exc}".strip())
                log.warning("read on %s failed, trying another server: %s", pool.name, exc)
        raise Unavailable("no server answered: " + "; ".join(errors))

    def write(self, work: Work[T]) -> T:
        """``work`` on the primary (never on a replica)."""
        try:
            return self._run(self.primary, work, self.timeout)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise Unavailable(f"primary: {exc}") from exc

    def _run(self, pool: ConnectionPool[psycopg.Connection[Any]], work: Work[T], timeout: float) -> T:
        try:
            conn = self._checkout(pool, timeout)
            try:
                result = work(conn)
            finally:
                pool.putconn(conn)  # a broken connection is discarded, not reused
        except (psycopg.OperationalError, PoolTimeout) as exc:
            if isinstance(exc, PoolTimeout) or _broken(exc):
                self._mark_down(pool)
            raise
        with self._lock:
            self._down.pop(pool.name, None)
        return result

    def _checkout(
        self, pool: ConnectionPool[psycopg.Connection[Any]], timeout: float
    ) -> psycopg.Connection[Any]:
        """A connection from ``pool`` within ``timeout``, given up as soon as the pool
        fails to connect (the pool itself would wait the whole timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return pool.getconn(timeout=max(min(_POLL, deadline - time.monotonic()), 0.001))
            except PoolTimeout:
                now = time.monotonic()
                with self._lock:
                    down = self._down.get(pool.name, 0.0) > now
                if down or now >= deadline:
                    raise


def _broken(exc: psycopg.OperationalError) -> bool:
    """A lost or refused connection (not a query error such as a cancelled statement)."""
    return exc.sqlstate is None or exc.sqlstate.startswith(("08", "57P"))
