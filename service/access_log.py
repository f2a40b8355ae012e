"""An access log that does not keep citizens' questions.

Uvicorn's own access log writes every URL, questions included; a question can be
personal ("my mother's grave", an address). This one logs the method, path, status and
time, and for the question only a short hash (to count repeats) and its length, unless
``RAPOR_LOG_QUERIES`` asks for the text.
"""

from __future__ import annotations

import hashlib
import logging
import time
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("service.access")


def describe_query(q: str, full: bool) -> str:
    """How a question appears in the log.

    >>> describe_query("annemin mezarı nerede", full=False)
    'q=#bb9dfbda42d0 len=21'
    >>> describe_query("kreş", full=True)
    "q='kreş'"
    """
    if full:
        return f"q={q!r}"
    return f"q=#{hashlib.sha256(q.encode()).hexdigest()[:12]} len={len(q)}"


class AccessLog:
    """Pure ASGI middleware: one log line per HTTP request."""

    def __init__(self, app: ASGIApp, log_queries: bool = False) -> None:
        self.app = app
        self.log_queries = log_queries

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            ms = (time.perf_counter() - started) * 1000
            log.info("%s %s %d %.1fms%s", scope["method"], scope["path"], status, ms, self._query(scope))

    def _query(self, scope: Scope) -> str:
        raw = scope.get("query_string", b"").decode("latin-1")
        q = parse_qs(raw).get("q")
        return f" {describe_query(q[0], self.log_queries)}" if q else ""
