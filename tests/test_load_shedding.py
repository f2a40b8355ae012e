"""Beyond capacity the service turns requests away cleanly, and recovers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from fastapi.testclient import TestClient

from indexer.search import SearchEngine
from indexer.settings import Settings
from service.app import create_app

WORDS = ["kreş", "otobüs", "park", "çöp", "su", "yol", "köprü", "metro", "tiyatro", "kütüphane"]


def test_a_flood_gets_503_with_retry_after_never_a_500(
    mini_settings: Settings, mini_engine: SearchEngine
) -> None:
    settings = mini_settings.model_copy(update={"search_threads": 1, "search_queue": 1})
    queries = [f"{a} {b} nerede" for a in WORDS for b in WORDS][:60]  # distinct: none is cached
    with TestClient(create_app(settings, mini_engine)) as client, ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(lambda q: client.get("/search", params={"q": q}), queries))
        after = client.get("/search", params={"q": "kreş"})
    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {200, 503}
    assert statuses.count(200) >= 1 and statuses.count(503) >= 1
    busy = next(r for r in answers if r.status_code == 503)
    assert busy.headers["retry-after"] == "1"
    assert busy.json()["error"]["code"] == "unavailable"
    assert "retry" in busy.json()["error"]["message"]
    assert after.status_code == 200  # the flood passed, the service answers again


def test_a_search_over_the_time_limit_gets_503(mini_settings: Settings, mini_engine: SearchEngine) -> None:
    settings = mini_settings.model_copy(update={"search_timeout": 1e-6})
    with TestClient(create_app(settings, mini_engine)) as client:
        r = client.get("/search", params={"q": "kütüphane saatleri"})
        health = client.get("/healthz")
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert "took over" in r.json()["error"]["message"]
    assert health.status_code == 200


def test_the_real_server_sheds_a_flood_without_errors(server: str) -> None:
    # The default limits (8 running, 64 waiting) absorb 40 concurrent clients: all answered.
    queries = [f"{a} {b}" for a in WORDS for b in WORDS[:4]]
    with httpx.Client(timeout=60) as http, ThreadPoolExecutor(40) as pool:
        statuses = list(
            pool.map(lambda q: http.get(f"{server}/search", params={"q": q}).status_code, queries)
        )
    assert statuses == [200] * len(queries)


def test_the_search_page_says_when_the_service_is_too_busy(
    mini_settings: Settings, mini_engine: SearchEngine
) -> None:
    settings = mini_settings.model_copy(update={"search_timeout": 1e-6})
    with TestClient(create_app(settings, mini_engine)) as client:
        busy = client.get("/", params={"q": "kütüphane saatleri"})
        first_visit = client.get("/")
    assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
    assert "Arama şu anda çok yoğun" in busy.text and 'class="result"' not in busy.text
    assert first_visit.status_code == 200


def test_no_queue_still_runs_one_search_at_a_time(mini_settings: Settings, mini_engine: SearchEngine) -> None:
    settings = mini_settings.model_copy(update={"search_threads": 1, "search_queue": 0})
    with TestClient(create_app(settings, mini_engine)) as client:
        assert client.get("/search", params={"q": "kreş"}).status_code == 200
