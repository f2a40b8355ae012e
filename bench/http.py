"""``python -m bench.http``: a bounded load generator against the service over loopback.

Starts ``python -m service`` on a free port (or uses ``--url``), then for each client count
sends eval questions from that many concurrent clients until ``--requests`` are answered
or ``--seconds`` pass, whichever comes first, and prints throughput, p50/p99 latency,
errors and the server's RSS. Every request of a ``distinct`` run is a query text the
server has not seen (the questions as typed, without Turkish letters, lower-cased, ...),
so each one pays for its query embedding; a ``repeated`` run asks the same texts again,
answered from the query cache. The reference is one client: each line prints its
throughput as a ratio to that. The load generator shares the machine's cores with the
server; "client ms" is its own CPU time per request, "server ms" the server's (when its PID
is known): on a busy machine, a steadier measure of the server's cost than throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import httpx
import numpy as np

from indexer.analysis import fold, tr_lower


def variants(question: str) -> list[str]:
    """Distinct ways a user might type one question.

    >>> variants("Kaç otobüs var?")[:4]
    ['Kaç otobüs var?', 'Kac otobus var?', 'kaç otobüs var?', 'kac otobus var?']
    >>> variants("Kaç otobüs var?")[4:]
    ['Kaç otobüs var', 'kac otobus var']
    """
    plain = question.rstrip("?").rstrip()
    out = [
        question,
        fold(question),
        tr_lower(question),
        fold(tr_lower(question)),
        plain,
        fold(tr_lower(plain)),
    ]
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class Level:
    clients: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: tuple[float, ...]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def line(self, reference: float, rss_mb: float) -> str:
        lat = np.array(self.latencies_ms or (0.0,))
        ratio = self.throughput / reference if reference else 0.0
        return (
            f"{self.clients:>7} {self.requests:>8} {self.errors:>6} {self.throughput:>9.1f} {ratio:>6.2f}"
            f" {np.percentile(lat, 50):>8.1f} {np.percentile(lat, 99):>8.1f} {rss_mb:>8.0f}"
        )


class Connection:
    """A minimal HTTP/1.1 keep-alive client: far less CPU per request than httpx, which
    matters when client and server share two cores."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, target: str) -> int:
        return await self.request("GET", target.encode())

    async def request(self, method: str, target: bytes, body: bytes = b"", retry: bool = True) -> int:
        """Send one request (the target as raw bytes, so it may be malformed); the status.
        A keep-alive connection the server closed meanwhile is reopened once."""
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        head = f"{method} ".encode() + target + f" HTTP/1.1\r\nHost: {self.host}\r\n".encode()
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n".encode()
        writer.write(head + b"\r\n" + body)
        line = await reader.readline()
        if not line and retry:
            self.close()
            return await self.request(method, target, body, retry=False)
        status = int(line.split()[1])
        length, close = 0, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            close |= name.lower() == "connection" and "close" in value.lower()
        await reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def _load(
    url: str, queries: Iterator[str], clients: int, limit: int, seconds: float, mode: str
) -> Level:
    parts = urlsplit(url)
    latencies: list[float] = []
    errors = issued = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors, issued
        connection = Connection(parts.hostname or "127.0.0.1", parts.port or 80)
        while issued < limit and time.perf_counter() < deadline:
            q = next(queries, None)
            if q is None:
                break
            issued += 1
            target = f"{parts.path}/search?{urlencode({'q': q, 'k': 10, 'mode': mode})}"
            started = time.perf_counter()
            try:
                ok = await asyncio.wait_for(connection.get(target), 30) == 200
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, TimeoutError):
                connection.close()
                ok = False
            if ok:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors += 1
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return Level(clients, len(latencies), errors, time.perf_counter() - started, tuple(latencies))


def cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) a process has used so far, in seconds (0 if unknown)."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
        fields = f.read().rpartition(")")[2].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int | None) -> tuple[float, float]:
    """Resident and peak resident memory of a process, in MB (0 if unknown)."""
    if pid is None:
        return 0.0, 0.0
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    kb = [float(fields.get(k, "0 kB").split()[0]) for k in ("VmRSS", "VmHWM")]
    return kb[0] / 1024, kb[1] / 1024


@contextmanager
def service() -> Iterator[tuple[str, int]]:
    """A ``python -m service`` on a free loopback port: its URL and PID."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit("the service exited at start: run `python -m service` to see why")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__)
    parser.add_argument("--url", help="a running service (default: start one)")
    parser.add_argument("--pid", type=int, help="its process id, for RSS (with --url)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--requests", type=int, default=300, help="per level, at most")
    parser.add_argument("--seconds", type=float, default=30.0, help="per level, at most")
    parser.add_argument("--mode", default="hybrid", choices=("bm25", "dense", "hybrid"))
    args = parser.parse_args(argv)

    from eval.questions import DEFAULT_QUESTIONS, load_questions

    texts = [v for q in load_questions(DEFAULT_QUESTIONS) for v in variants(q.question)]
    with service() if args.url is None else given_service(args.url, args.pid) as (url, pid):
        start = rss_mb(pid)[0]
        print(f"{url}, mode {args.mode}; {len(texts)} distinct query texts; RSS at start {start:.0f} MB")
        print(f"{'run':<9} {'clients':>7} {'requests':>8} {'errors':>6} {'req/s':>9} {'ratio':>6}"
              f" {'p50 ms':>8} {'p99 ms':>8} {'RSS MB':>8} {'client ms':>9} {'server ms':>9}")  # fmt: skip
        pool = iter(texts)
        for run in ("distinct", "repeated"):
            reference = 0.0
            for clients in args.clients:
                # a repeated run asks the first texts again, already in the server's cache
                queries = pool if run == "distinct" else iter(texts[: args.requests] * 2)
                cpu, server = time.process_time(), cpu_seconds(pid)
                level = asyncio.run(_load(url, queries, clients, args.requests, args.seconds, args.mode))
                answered = max(1, level.requests + level.errors)
                cpu = (time.process_time() - cpu) * 1000 / answered
                server = (cpu_seconds(pid) - server) * 1000 / answered
                reference = reference or level.throughput
                print(f"{run:<9} {level.line(reference, rss_mb(pid)[0])} {cpu:>9.2f} {server:>9.2f}")
        rss, peak = rss_mb(pid)
        print(f"server RSS at end {rss:.0f} MB, peak {peak:.0f} MB")
    return 0


@contextmanager
def given_service(url: str, pid: int | None) -> Iterator[tuple[str, int | None]]:
    """A service already running: its URL and, if given, its PID."""
    yield url.rstrip("/"), pid


if __name__ == "__main__":
    raise SystemExit(main())
