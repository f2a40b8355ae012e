"""Real PostgreSQL servers for the backend's tests: the primary and hot standby that
`.ci/run` started (``RAPOR_TEST_PG_DSN``, ``RAPOR_TEST_PG_REPLICAS``, ``RAPOR_TEST_PG_DIR``:
test-only names, so a real ``RAPOR_PG_DSN`` is never touched), or a pair started here under
a temporary folder when none is given (once per test run, stopped when it ends).

Every test that loads an index does so into its own scratch database, so the tests do not
depend on each other's versions or on their order."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from indexer.pg import cluster
from indexer.settings import Settings

DSN, REPLICAS, DIR = "RAPOR_TEST_PG_DSN", "RAPOR_TEST_PG_REPLICAS", "RAPOR_TEST_PG_DIR"
Found = tuple[str, str, Path | None]  # primary DSN, standby DSN, standby data folder (or None)


@dataclass(frozen=True)
class PgTarget:
    """DSNs of a scratch database on the primary and on its standby, and the standby's
    data folder when these tests may stop and restart it."""

    primary: str
    standby: str
    standby_dir: Path | None


def _with_db(dsn: str, name: str) -> str:
    return psycopg.conninfo.make_conninfo(dsn, dbname=name)


def port(dsn: str) -> int:
    return int(psycopg.conninfo.conninfo_to_dict(dsn)["port"])  # type: ignore[arg-type]


def given_servers(environ: Mapping[str, str] = os.environ) -> Found | None:
    """The servers named by the test variables (None: none named)."""
    if not environ.get(DSN):
        return None
    replicas = [r for r in environ.get(REPLICAS, "").split(",") if r.strip()]
    if not replicas:
        raise RuntimeError(f"{DSN} is set but {REPLICAS} names no standby")
    given = environ.get(DIR)
    return environ[DSN], replicas[0], Path(given) / cluster.STANDBY if given else None


_started: Found | None = None
_start_lock = threading.Lock()


def shared_servers() -> Found:
    """The given servers, else a primary and standby started on first use and stopped
    when the test run ends (one pair for all the PostgreSQL test modules)."""
    global _started
    found = given_servers()
    if found is not None:
        return found
    with _start_lock:
        if _started is None:
            base = Path(tempfile.mkdtemp(prefix="rapor-pg-"))
            atexit.register(_stop, base)
            try:
                started = cluster.start(base)
            except BaseException:
                _stop(base)
                raise
            _started = (started.primary.dsn, started.standbys[0].dsn, started.standbys[0].data_dir)
        return _started


def _stop(base: Path) -> None:
    cluster.stop(base)
    shutil.rmtree(base, ignore_errors=True)


@contextmanager
def scratch_database(primary: str, standby: str, standby_dir: Path | None) -> Iterator[PgTarget]:
    """A new database (replicated to the standby), dropped afterwards."""
    name = f"rapor_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(primary, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    target = PgTarget(_with_db(primary, name), _with_db(standby, name), standby_dir)
    try:
        wait_replayed(target)
        yield target
    finally:
        with psycopg.connect(primary, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def on_pg(settings: Settings, target: PgTarget) -> Settings:
    """``settings`` reading from the standby (then the primary) of ``target``."""
    return settings.model_copy(update={"pg_dsn": target.primary, "pg_replicas": (target.standby,)})


def wait_replayed(target: PgTarget, timeout: float = 60.0) -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    with psycopg.connect(target.primary, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None

    def replayed() -> bool:
        try:
            with psycopg.connect(target.standby, autocommit=True) as conn:
                done = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (row[0],)).fetchone()
            return bool(done and done[0])
        except psycopg.OperationalError:
            return False  # the database is not replayed yet, or the standby is starting

    wait_until(replayed, f"the standby replaying {row[0]}", timeout)


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll ``predicate`` until it holds (a generous deadline: the machine is shared)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:g} s for {what}")
        time.sleep(0.05)


def query_one(dsn: str, query: str, params: tuple[Any, ...] = ()) -> Any:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(query.encode(), params).fetchone()
    return row[0] if row else None
