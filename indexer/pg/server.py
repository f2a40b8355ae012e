"""One local PostgreSQL server process, known by its data directory: whether it runs (its
postmaster's PID), starting it, and stopping it by that PID."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from indexer.pg.binaries import bin_dir, run

DATABASE = "rapor"


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
        run([str(bin_dir() / "pg_ctl"), "start", "-w", "-t", str(int(wait)),
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
