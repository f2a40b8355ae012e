"""Citizens' questions stay out of the logs unless configured."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from indexer.search import SearchEngine
from indexer.settings import Settings
from service.app import create_app

QUESTION = "annemin mezarı hangi mezarlıkta"


@pytest.mark.parametrize("full", [False, True])
def test_the_access_log_keeps_a_hash_unless_asked_for_the_text(
    mini_settings: Settings, mini_engine: SearchEngine, caplog: pytest.LogCaptureFixture, full: bool
) -> None:
    settings = mini_settings.model_copy(update={"log_queries": full})
    with (
        caplog.at_level(logging.INFO, logger="service.access"),
        TestClient(create_app(settings, mini_engine)) as client,
    ):
        assert client.get("/search", params={"q": QUESTION}).status_code == 200
        assert client.get("/healthz").status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "service.access"]
    search = next(line for line in lines if line.startswith("GET /search 200"))
    assert (QUESTION in search) is full
    assert ("mezar" in " ".join(lines)) is full
    if not full:
        assert f"len={len(QUESTION)}" in search
    assert any(line.startswith("GET /healthz 200") for line in lines)
