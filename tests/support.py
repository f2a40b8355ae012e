"""Helpers shared by the tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from indexer.settings import ROOT, Settings

FIXTURES = Path(__file__).parent / "fixtures"
REPORT = ROOT / "corpus" / "izmir-2023-faaliyet-raporu.txt"


def make_settings(tmp: Path, corpus: Path, **overrides: object) -> Settings:
    """Settings for a test index in ``tmp``; the model and cache are the project's."""
    return Settings(corpus_dir=corpus, index_dir=tmp / "index", **overrides)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_service(env: dict[str, str], log_path: Path, wait: float = 120) -> Iterator[str]:
    """``python -m service`` on a free port with ``env`` added; yields its URL once
    ``/healthz`` answers, stops it after. Output goes to a file: a pipe could fill up."""
    port = free_port()
    with log_path.open("w+b") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "service", "--port", str(port)],
            cwd=ROOT,
            env=os.environ | env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"service exited early:\n{log.read().decode()}")
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            else:
                raise RuntimeError(f"service did not answer /healthz within {wait:g} s")
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
