"""Connection pools for a primary and its read replicas: reads spread round-robin over
the replicas and fall back to another replica, then the primary, when one fails; writes
go to the primary only.

A server is marked down only when it cannot be reached: a connection attempt failed or a
connection broke. It is then tried last (with a short checkout timeout, a probe) until
``retry_after`` seconds have passed, so an outage costs one failed attempt, not one per
read. A server whose connections are merely all busy is not down: a read waits for one of
them (once, for the whole checkout timeout) and then tries the next server.

Every pooled connection has a ``statement_timeout`` and TCP keepalives, so a hung server
(a stuck query, a silent peer) costs a read that timeout, then the next server answers.
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
Work = Callable[[psycopg.Connection[Any]], T]
_SERVERS_HINT = (
    "check that the PostgreSQL servers in RAPOR_PG_DSN (primary) and RAPOR_PG_REPLICAS run and "
    "accept connections from this host"
)


class Unavailable(RuntimeError):
    """No server could answer a read (or the primary a write)."""


class NotLoaded(Unavailable):
    """The database holds no index version (nothing was loaded into it yet)."""


class VersionGone(Unavailable):
    """The index version a search named is no longer in the database (a newer load replaced
    it): take the current version again and search on it."""

    def __init__(self, version: int, detail: str = "") -> None:
        self.version = version
        super().__init__(
            f"index version {version} is no longer in PostgreSQL (a newer load replaced it): "
            "search again on the current version" + (f" ({detail})" if detail else "")
        )


class Retry(Exception):
    """Raised by read work to ask for another server (e.g. a replica that lags behind).
    When every server raises it, ``read`` raises the last one's ``final`` (if it has one:
    what it means that no server can answer) instead of ``Unavailable``."""

    def __init__(self, reason: str, final: Unavailable | None = None) -> None:
        super().__init__(reason)
        self.final = final


class ServerDown(psycopg.OperationalError):
    """A pool could not connect to its server: the reads waiting on it move on at once."""


class _Pool(ConnectionPool[psycopg.Connection[Any]]):
    def reconnect_failed(self) -> None:
        """Mark the server down (the callback), then fail the reads queued for a connection
        here: they would otherwise wait their whole timeout for one that will not come."""
        super().reconnect_failed()
        # psycopg_pool keeps its queue private (_lock, _waiting, WaitingClient.fail): if a
        # later version renames them, the queued reads just wait out their timeout.
        lock, waiting = getattr(self, "_lock", None), getattr(self, "_waiting", None)
        if lock is None or waiting is None:
            return
        with lock:
            queued = list(waiting)
            waiting.clear()
        error = ServerDown(f"cannot connect to {self.name}")
        for client in queued:
            client.fail(error)


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
        statement_timeout: float = 10.0,
    ) -> None:
        if not primary:
            raise ValueError("the PostgreSQL backend needs a primary DSN: set RAPOR_PG_DSN")
        self.timeout = timeout
        self.retry_after = retry_after
        self.statement_timeout = statement_timeout
        self._turn = itertools.count()
        self._down: dict[str, float] = {}  # pool name -> when to try it again
        self._lock = threading.Lock()
        self.primary = self._pool(primary, "primary", max_size)
        self.replicas = [self._pool(dsn, f"replica{i}", max_size) for i, dsn in enumerate(replicas)]

    def _pool(self, dsn: str, name: str, max_size: int) -> _Pool:
        # A failed connection attempt is not retried in the background (reconnect_timeout=0):
        # the server is marked down at once, and a later read probes it.
        return _Pool(
            dsn, kwargs=self._connect_options(dsn), min_size=0, max_size=max_size, name=name, open=True,
            configure=_configure, check=ConnectionPool.check_connection, reconnect_timeout=0,
            reconnect_failed=self._mark_down,
        )  # fmt: skip

    def _connect_options(self, dsn: str) -> dict[str, Any]:
        """The statement timeout and TCP keepalives (what the DSN sets itself wins)."""
        given = psycopg.conninfo.conninfo_to_dict(dsn)
        ms = max(1, round(self.statement_timeout * 1000))
        options: dict[str, Any] = {
            "connect_timeout": 2,  # an unreachable host is down, not a wait without end
            "keepalives": 1,  # a silent peer is noticed within idle + interval * count seconds
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 3,
            "tcp_user_timeout": max(ms, 1000),  # and so is data the peer never acknowledges
        }
        options = {k: v for k, v in options.items() if k not in given}
        # Server side: no statement runs longer (a stuck one raises QueryCanceled).
        options["options"] = f"{given.get('options') or ''} -c statement_timeout={ms}".strip()
        return options

    def _mark_down(self, pool: ConnectionPool[Any]) -> None:
        log.warning("PostgreSQL server %s is down: reads go elsewhere for %g s", pool.name, self.retry_after)
        with self._lock:
            self._down[pool.name] = time.monotonic() + self.retry_after

    def is_down(self, name: str) -> bool:
        """Whether the server ``name`` (``primary``, ``replica0``...) is marked down now."""
        with self._lock:
            return self._down.get(name, 0.0) > time.monotonic()

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
        order: list[ConnectionPool[psycopg.Connection[Any]]]
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
        """``work`` on a replica (or the primary); on the next one when a server cannot be
        reached, has no free connection within the timeout, cancels the statement (it hung)
        or asks for another (``Retry``)."""
        errors: list[str] = []
        retries: list[Retry] = []
        order = self.read_order()
        for pool, timeout in order:
            try:
                return self._run(pool, work, timeout)
            except Retry as exc:
                retries.append(exc)
                errors.append(f"{pool.name}: {exc}")
            except (psycopg.OperationalError, PoolTimeout) as exc:
                errors.append(f"{pool.name}: {type(exc).__name__}: {exc}".strip())
                log.warning("read on %s failed, trying another server: %s", pool.name, exc)
        details = "; ".join(errors)
        if len(retries) == len(order) and retries[-1].final is not None:
            raise retries[-1].final
        raise Unavailable(f"no PostgreSQL server answered ({details}): {_SERVERS_HINT}")

    def write(self, work: Work[T]) -> T:
        """``work`` on the primary (never on a replica)."""
        try:
            return self._run(self.primary, work, self.timeout)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise Unavailable(f"the PostgreSQL primary did not answer ({exc}): {_SERVERS_HINT}") from exc

    def _run(self, pool: ConnectionPool[psycopg.Connection[Any]], work: Work[T], timeout: float) -> T:
        # One wait in the pool's queue for the whole timeout (a connect failure ends it
        # early: _Pool.reconnect_failed). A timeout alone says the server is busy, not down.
        conn = pool.getconn(timeout=timeout)
        try:
            result = work(conn)
        except psycopg.OperationalError as exc:
            if _broken(exc):
                self._mark_down(pool)
            raise
        finally:
            pool.putconn(conn)  # a broken connection is discarded, not reused
        with self._lock:
            self._down.pop(pool.name, None)
        return result


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.autocommit = True
    conn.prepare_threshold = None  # plan each query with its values: partition pruning at plan time
    # A search's queries are small: starting parallel workers costs more than it saves, and
    # concurrent searches already keep every core busy.
    conn.execute("SET max_parallel_workers_per_gather = 0")


def _broken(exc: psycopg.OperationalError) -> bool:
    """A lost or refused connection (not a query error such as a cancelled statement)."""
    return exc.sqlstate is None or exc.sqlstate.startswith(("08", "57P"))
