"""The real thing: ``python -m service`` under uvicorn, spoken to over a socket."""

from __future__ import annotations

import httpx


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
