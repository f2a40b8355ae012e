"""Real PostgreSQL servers for the backend's tests: the primary and hot standby that
`.ci/run` started (``RAPOR_PG_DSN``, ``RAPOR_PG_REPLICAS``, ``RAPOR_PG_DIR``), or a pair
started here under a temporary folder when none is configured."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from indexer.pg import cluster


@dataclass(frozen=True)
class PgTarget:
    """DSNs of a scratch database on the primary and on its standby, and the standby's
    data folder when these tests may stop and restart it."""

    primary: str
    standby: str
    standby_dir: Path | None


def _with_db(dsn: str, name: str) -> str:
    return psycopg.conninfo.make_conninfo(dsn, dbname=name)


@contextmanager
def servers() -> Iterator[tuple[str, str, Path | None]]:
    """(primary DSN, standby DSN, standby data folder or None) of running servers."""
    if os.environ.get("RAPOR_PG_DSN"):
        replicas = [r for r in os.environ.get("RAPOR_PG_REPLICAS", "").split(",") if r.strip()]
        if not replicas:
            raise RuntimeError("RAPOR_PG_DSN is set but RAPOR_PG_REPLICAS names no standby")
        given = os.environ.get("RAPOR_PG_DIR")
        yield os.environ["RAPOR_PG_DSN"], replicas[0], Path(given) / cluster.STANDBY if given else None
        return
    base = Path(tempfile.mkdtemp(prefix="rapor-pg-"))
    try:
        started = cluster.start(base)
        yield started.primary.dsn, started.standbys[0].dsn, started.standbys[0].data_dir
    finally:
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


def wait_replayed(target: PgTarget, timeout: float = 30.0) -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    with psycopg.connect(target.primary, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(target.standby, autocommit=True) as conn:
                done = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (row[0],)).fetchone()
            if done and done[0]:
                return
        except psycopg.OperationalError:
            pass  # the database is not replayed yet, or the standby is starting
        if time.monotonic() > deadline:
            raise TimeoutError(f"standby did not replay {row[0]} within {timeout:g} s")
        time.sleep(0.05)


def query_one(dsn: str, query: str, params: tuple[Any, ...] = ()) -> Any:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(query.encode(), params).fetchone()
    return row[0] if row else None
