"""The real thing: ``python -m service`` under uvicorn, spoken to over a socket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from indexer.settings import ROOT, Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(mini_settings: Settings) -> Iterator[str]:
    port = _free_port()
    env = os.environ | {
        "RAPOR_CORPUS_DIR": str(mini_settings.corpus_dir),
        "RAPOR_INDEX_DIR": str(mini_settings.index_dir),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                out = proc.stdout.read().decode() if proc.stdout else ""
                pytest.fail(f"service exited early:\n{out}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("service did not answer /healthz within 120 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_served_search_over_http(server: str) -> None:
    response = httpx.get(f"{server}/search", params={"q": "kopek barinagi", "k": 2}, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    top = response.json()["results"][0]
    assert "köpek barınağı" in top["text"] and top["page_start"] == "iii"


def test_served_errors_keep_the_shape(server: str) -> None:
    response = httpx.post(f"{server}/search", json={"q": "", "k": 3}, timeout=30)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
