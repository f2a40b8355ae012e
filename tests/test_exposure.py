"""What the service shows to other sites: no CORS unless configured, then only there."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from indexer.search import SearchEngine
from indexer.settings import Settings
from service.app import create_app

SITE = "https://belediye.example"


def _preflight(client: TestClient, origin: str) -> Any:  # starlette's httpx(2) response
    return client.options("/search", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})


def test_cors_is_off_by_default(mini_settings: Settings, mini_engine: SearchEngine) -> None:
    with TestClient(create_app(mini_settings, mini_engine)) as client:
        response = client.get("/search", params={"q": "metro"}, headers={"Origin": SITE})
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers
        assert "access-control-allow-origin" not in _preflight(client, SITE).headers


def test_configured_origins_alone_may_call_the_api(
    mini_settings: Settings, mini_engine: SearchEngine
) -> None:
    settings = mini_settings.model_copy(update={"cors_origins": (SITE,)})
    with TestClient(create_app(settings, mini_engine)) as client:
        response = client.get("/search", params={"q": "metro"}, headers={"Origin": SITE})
        assert response.headers["access-control-allow-origin"] == SITE
        assert "access-control-allow-credentials" not in response.headers
        assert _preflight(client, SITE).headers["access-control-allow-origin"] == SITE
        other = client.get("/search", params={"q": "metro"}, headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        refused = _preflight(client, "https://evil.example")
        assert "access-control-allow-origin" not in refused.headers
        assert refused.status_code == 400  # in the one error shape, like every other error
        assert refused.json()["error"]["code"] == "cors_refused"
