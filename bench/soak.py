"""``python -m bench.soak``: mixed valid and hostile requests for a bounded time.

Starts ``python -m service`` (or uses ``--url`` and ``--pid``), then ``--clients``
keep-alive clients send, for ``--seconds``, a mix of real questions (new and repeated)
and hostile requests: empty, oversized, NUL, invalid UTF-8, injections, a 100 KB body,
non-object JSON, unknown parameters, bad references, unknown paths. Prints requests
served, responses by status, and the server's RSS after a warm-up and at the end. A
5xx other than load shedding's 503 counts as an error.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import time
from collections import Counter
from urllib.parse import quote, urlsplit

from bench.http import Connection, given_service, rss_mb, service, variants

HOSTILE: list[tuple[str, bytes, bytes]] = [
    ("GET", b"/search?q=", b""),
    ("GET", b"/search?q=" + b"a" * 5000, b""),
    ("GET", b"/search?q=kira%00gelir", b""),
    ("GET", b"/search?q=%FF%FE%FD", b""),
    ("GET", b"/search?q=" + quote("kira' OR 1=1; DROP TABLE passages; --").encode(), b""),
    ("GET", b"/search?q=" + quote("<script>alert(1)</script>").encode(), b""),
    ("GET", b"/search?q=%3F%3F%3F", b""),
    ("GET", b"/search?q=kira&k=100000", b""),
    ("GET", b"/search?q=kira&mode=../../etc/passwd", b""),
    ("GET", b"/search?q=kira&debug=1", b""),
    ("POST", b"/search", b"[1, 2, 3]"),
    ("POST", b"/search", b'{"q": "' + b"x" * 100_000 + b'"}'),
    ("POST", b"/search", b"{not json"),
    ("GET", b"/legal?ref=" + quote("'; SELECT *").encode(), b""),
    ("GET", b"/?q=" + quote("<img src=x onerror=alert(1)>").encode(), b""),
    ("GET", b"/../../etc/passwd", b""),
    ("DELETE", b"/search", b""),
]


def requests(seed: int = 0) -> itertools.cycle[tuple[str, bytes, bytes]]:
    """An endless mix: about two real questions for each hostile request."""
    from eval.questions import DEFAULT_QUESTIONS, load_questions

    rng = random.Random(seed)
    texts = [v for q in load_questions(DEFAULT_QUESTIONS) for v in variants(q.question)]
    mix = [("GET", b"/search?q=" + quote(t).encode() + b"&k=10", b"") for t in texts]
    mix += [("POST", b"/search", json.dumps({"q": t, "k": 5}).encode()) for t in texts[::4]]
    mix += HOSTILE * (len(mix) // (2 * len(HOSTILE)))
    rng.shuffle(mix)
    return itertools.cycle(mix)


async def soak(url: str, clients: int, seconds: float) -> Counter[int]:
    parts = urlsplit(url)
    pool = requests()
    statuses: Counter[int] = Counter()
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        connection = Connection(parts.hostname or "127.0.0.1", parts.port or 80)
        while time.perf_counter() < deadline:
            method, target, body = next(pool)
            try:
                statuses[await asyncio.wait_for(connection.request(method, target, body), 30)] += 1
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, TimeoutError):
                connection.close()
                statuses[0] += 1  # no answer at all
        connection.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return statuses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--url", help="a running service (default: start one)")
    parser.add_argument("--pid", type=int, help="its process id, for RSS (with --url)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=300.0)
    args = parser.parse_args(argv)

    with service() if args.url is None else given_service(args.url, args.pid) as (url, pid):
        asyncio.run(soak(url, args.clients, min(10.0, args.seconds / 10)))  # warm-up
        start = rss_mb(pid)[0]
        started = time.perf_counter()
        statuses = asyncio.run(soak(url, args.clients, args.seconds))
        elapsed = time.perf_counter() - started
        end, peak = rss_mb(pid)
    served = sum(statuses.values())
    errors = sum(n for s, n in statuses.items() if (s >= 500 and s != 503) or s == 0)
    print(f"{served} requests in {elapsed:.0f} s from {args.clients} clients ({served / elapsed:.1f}/s)")
    print("by status: " + ", ".join(f"{s or 'no answer'}: {n}" for s, n in sorted(statuses.items())))
    growth = (end - start) / start * 100 if start else 0.0
    print(f"errors (5xx but 503, or no answer): {errors}")
    print(
        f"server RSS after warm-up {start:.0f} MB, at end {end:.0f} MB ({growth:+.1f} %), peak {peak:.0f} MB"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
