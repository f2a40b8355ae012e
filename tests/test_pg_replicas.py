"""Reads on the replicas of the PostgreSQL backend, against a real primary and streaming hot
standby (see tests/pg_support.py): where reads and writes go, what counts as a server
down (a busy one is not), a hung statement, and a standby stopped during a load (searched
through the whole engine)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import psycopg
import pytest

from indexer.embedding import Embedder
from indexer.pg import PgIndex, Servers, Unavailable, cluster, load_index, server
from indexer.pg.engine import PgSearchEngine
from indexer.settings import Settings
from tests.pg_support import (
    PgTarget,
    on_pg,
    port,
    wait_replayed,
    wait_until,
)


def where(conn: psycopg.Connection[Any]) -> int:
    """Read work: the port of the server it ran on."""
    return int(conn.info.port)


def test_reads_go_to_the_standby_and_writes_are_rejected_there(pg: PgTarget) -> None:
    with Servers(pg.primary, [pg.standby]) as servers:
        assert servers.read(lambda c: c.execute("SELECT pg_is_in_recovery()").fetchone()) == (True,)
        assert servers.write(lambda c: c.execute("SELECT pg_is_in_recovery()").fetchone()) == (False,)
    with (
        psycopg.connect(pg.standby, autocommit=True) as conn,
        pytest.raises(psycopg.errors.ReadOnlySqlTransaction),
    ):
        conn.execute("CREATE TABLE written_on_a_standby (x integer)")


def test_a_busy_server_is_waited_for_not_marked_down(pg: PgTarget) -> None:
    """All of the standby's connections busy: a read waits its timeout for one, then the
    primary answers; the standby is not marked down and serves the next read."""
    standby, primary = port(pg.standby), port(pg.primary)
    release = threading.Event()
    holding = threading.Event()

    def hold(conn: psycopg.Connection[Any]) -> int:
        holding.set()
        release.wait(60)
        return where(conn)

    with Servers(pg.primary, [pg.standby], max_size=1, timeout=1.0) as servers:
        holder = threading.Thread(target=servers.read, args=(hold,))
        holder.start()
        try:
            wait_until(holding.is_set, "the standby's one connection taken")
            burst: list[int | BaseException] = []

            def read() -> None:
                try:
                    burst.append(servers.read(where))
                except BaseException as exc:
                    burst.append(exc)

            readers = [threading.Thread(target=read) for _ in range(6)]
            for t in readers:
                t.start()
            for t in readers:
                t.join()
            assert set(burst) == {primary}  # the standby was busy: no read failed
            assert not servers.is_down("replica0")
        finally:
            release.set()
            holder.join()
        assert servers.read(where) == standby  # at once: it was busy, never down

    # With a timeout long enough, a read waits its turn on the busy standby.
    release.clear()
    holding.clear()
    with Servers(pg.primary, [pg.standby], max_size=1, timeout=60) as servers:
        holder = threading.Thread(target=servers.read, args=(hold,))
        holder.start()
        try:
            wait_until(holding.is_set, "the standby's one connection taken")
            threading.Timer(0.5, release.set).start()
            assert servers.read(where) == standby
        finally:
            release.set()
            holder.join()


def test_a_server_that_refuses_connections_fails_over_at_once(pg: PgTarget) -> None:
    """A replica nobody listens on: the read waiting for its connection moves on as soon as
    connecting fails, not after the checkout timeout, and the replica is marked down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # free once the socket is closed: nothing listens there
    nobody = psycopg.conninfo.make_conninfo(pg.standby, port=closed)
    with Servers(pg.primary, [nobody], timeout=30, retry_after=60) as servers:
        started = time.monotonic()
        assert servers.read(where) == port(pg.primary)
        assert time.monotonic() - started < 15  # far below the 30 s timeout
        assert servers.is_down("replica0") and not servers.is_down("primary")


def test_no_server_answering_says_what_to_check(pg: PgTarget) -> None:
    def lost(conn: psycopg.Connection[Any]) -> int:
        raise psycopg.OperationalError("connection lost (simulated)")

    with Servers(pg.primary, [pg.standby]) as servers, pytest.raises(Unavailable) as raised:
        servers.read(lost)
    message = str(raised.value)
    assert "replica0: OperationalError: connection lost" in message and "primary:" in message
    assert "check that the PostgreSQL servers in RAPOR_PG_DSN (primary) and RAPOR_PG_REPLICAS" in message


def test_a_hung_statement_is_cancelled_and_the_next_server_answers(pg: PgTarget) -> None:
    def stuck_on_the_standby(conn: psycopg.Connection[Any]) -> int:
        conn.execute("SELECT pg_sleep(600) WHERE pg_is_in_recovery()")  # hangs on the standby only
        return where(conn)

    with Servers(pg.primary, [pg.standby], statement_timeout=0.5) as servers:
        started = time.monotonic()
        assert servers.read(stuck_on_the_standby) == port(pg.primary)
        assert time.monotonic() - started < 60
        assert not servers.is_down("replica0")  # slow, not unreachable
        assert servers.read(where) == port(pg.standby)


def test_no_search_fails_while_the_standby_is_down_during_a_load(
    pg: PgTarget, mini_settings: Settings, embedder: Embedder
) -> None:
    """Whole hybrid searches (every arm's reads) keep answering from the primary while the
    standby is stopped and a new version is loaded, then from the standby again."""
    standby_dir = pg.standby_dir
    if standby_dir is None:
        pytest.skip("RAPOR_TEST_PG_DIR is not set: these tests cannot stop and restart the standby")
    load_index(mini_settings, pg.primary)
    wait_replayed(pg)
    servers = Servers(pg.primary, [pg.standby], retry_after=0.5)
    settings = on_pg(mini_settings, pg).model_copy(update={"reload_interval": 0})
    index = PgIndex(settings, servers=servers)
    engine = PgSearchEngine(settings, embedder, index=index)
    ports: list[int] = []
    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                assert engine.search("belediye bütçe su", 5).hits
                ports.append(servers.read(where))
            except Exception as exc:
                errors.append(repr(exc))

    standby, primary = port(pg.standby), port(pg.primary)
    thread = threading.Thread(target=reader)
    thread.start()
    try:
        wait_until(lambda: standby in ports, "a read on the standby")
        server.stop_server(standby_dir)
        stopped = len(ports)
        load_index(mini_settings, pg.primary)
        wait_until(lambda: len(ports) >= stopped + 20, "reads while the standby is down")
        restarted = len(ports)
        server.start_server(cluster.STANDBY, standby_dir)
        wait_replayed(pg)
        back = len(ports)
        wait_until(lambda: standby in ports[back:], "a read on the standby again")
    finally:
        stop.set()
        thread.join()
        engine.close()
        if server.server_pid(standby_dir) is None:  # never leave the standby down for later tests
            server.start_server(cluster.STANDBY, standby_dir)
    assert errors == []
    # Reads that finished just before the stop may be counted after it: a few are let off.
    assert set(ports[stopped + 5 : restarted]) == {primary}
