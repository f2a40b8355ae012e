"""Version-aware reads on PostgreSQL: every read names an index version.

A search takes ``current()`` once and passes that version to each read, so all its arms
read the same build. A server that does not have the version ready yet (a lagging replica)
hands the read to the next server; when no server has it (a newer load dropped it), the
read raises ``VersionGone`` (take ``current()`` again), never empty rows. Which (server,
database, version) was seen ready is cached, and checked again whenever a read comes back
empty or short.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Literal

import psycopg

from indexer.pg.pools import NotLoaded, Retry, Servers, VersionGone

MAX_EF_SEARCH = 1000  # pgvector's upper bound
Scan = Literal["auto", "hnsw", "exact"]  # the planner's choice, the HNSW graph, or every vector
Complete = Callable[[list[tuple[Any, ...]]], bool]
_NOT_LOADED = "no index version in PostgreSQL: run `python -m indexer build --backend postgres`"
_READY_CACHE = 256  # (server, version) pairs remembered; forgotten all at once beyond that


class VersionedReads:
    """Reads of one index version at a time, through ``Servers`` (replicas, then primary)."""

    def __init__(self, servers: Servers) -> None:
        self.servers = servers
        self._ready: set[tuple[str, int]] = set()  # (connection DSN, version) seen ready
        self._lock = threading.Lock()

    def close(self) -> None:
        self.servers.close()

    def current(self) -> int:
        """The current index version (as the server read sees it)."""

        def work(conn: psycopg.Connection[Any]) -> int:
            try:
                row = conn.execute("SELECT version FROM current_version").fetchone()
            except psycopg.errors.UndefinedTable:
                row = None  # no schema yet
            if row is None:
                raise Retry(f"no index version on {_server(conn)}", final=NotLoaded(_NOT_LOADED))
            return int(row[0])

        return self.servers.read(work)

    def _read(
        self,
        version: int,
        query: str,
        params: dict[str, Any],
        *,
        ef: int | None = None,
        scan: Scan = "auto",
        filtered: bool = False,
        complete: Complete = bool,
    ) -> list[tuple[Any, ...]]:
        """Run ``query`` for ``version`` on a server that has it ready. Rows that are not
        ``complete`` (by default: none) make the server's readiness be checked again: a
        version dropped since raises ``Retry`` (then ``VersionGone``), not empty data."""
        params = params | {"v": version}

        def work(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
            try:
                self._check_ready(conn, version)
                rows = run(conn)
                if not complete(rows):
                    self._check_ready(conn, version, cached=False)
            except psycopg.errors.UndefinedTable as exc:  # no schema (a wiped database)
                raise Retry(f"{exc}".strip(), final=NotLoaded(_NOT_LOADED)) from exc
            return rows

        def run(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
            local: dict[str, str] = {}  # settings for this transaction only
            if ef is not None:
                local["hnsw.ef_search"] = str(min(ef, MAX_EF_SEARCH))
            if filtered:  # keep walking the graph until enough rows pass the filter
                local["hnsw.iterative_scan"] = "strict_order"
            if scan == "exact":
                local["enable_indexscan"] = "off"
            elif scan == "hnsw":  # no full scan, no sort: only the graph gives the order
                local |= {"enable_seqscan": "off", "enable_sort": "off"}
            if not local:
                return conn.execute(query.encode(), params).fetchall()
            with conn.transaction():
                conn.execute(
                    "SELECT set_config(name, value, true)"
                    " FROM unnest(%s::text[], %s::text[]) AS s (name, value)",
                    (list(local), list(local.values())),
                )
                return conn.execute(query.encode(), params).fetchall()

        return self.servers.read(work)

    def _check_ready(self, conn: psycopg.Connection[Any], version: int, *, cached: bool = True) -> None:
        """Return if ``version`` is ready on ``conn``'s server and database, else ``Retry``
        (``VersionGone`` when no server has it)."""
        key = (conn.info.dsn, version)
        with self._lock:
            if cached and key in self._ready:
                return
            self._ready.discard(key)
        row = conn.execute("SELECT state FROM index_versions WHERE version = %s", (version,)).fetchone()
        if row is None or row[0] != "ready":
            state = "not there" if row is None else row[0]
            detail = f"version {version} is {state} on {_server(conn)}"
            if conn.execute("SELECT 1 FROM current_version").fetchone() is None:
                raise Retry(detail, final=NotLoaded(_NOT_LOADED))  # no version at all
            raise Retry(detail, final=VersionGone(version, detail))
        with self._lock:
            if len(self._ready) >= _READY_CACHE:
                self._ready.clear()
            self._ready.add(key)


def _server(conn: psycopg.Connection[Any]) -> str:
    return f"{conn.info.host}:{conn.info.port}/{conn.info.dbname}"


def all_of(ordinals: Sequence[int]) -> Complete:
    """Rows complete when they hold every ordinal asked for."""
    wanted = {int(o) for o in ordinals}
    return lambda rows: len({int(r[0]) for r in rows}) >= len(wanted)
