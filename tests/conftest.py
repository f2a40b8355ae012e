"""Shared fixtures: the fixture corpus, the real e5 model, and built indexes.

The model and the full report's index are built once per session; embeddings are
cached under ``var/cache`` so a second run embeds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from indexer.build import build, resolve_model
from indexer.embedding import Embedder
from indexer.search import SearchEngine, query_embedder
from indexer.settings import ROOT, Settings
from tests.pg_support import Found, PgTarget, scratch_database, shared_servers
from tests.support import FIXTURES, REPORT, make_settings, running_service


@pytest.fixture(scope="session")
def model_path() -> str:
    return resolve_model(Settings())


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The query encoder the service uses by default."""
    return query_embedder(Settings())


@pytest.fixture(scope="session")
def mini_settings(tmp_path_factory: pytest.TempPathFactory, model_path: str) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("mini"), FIXTURES / "corpus")
    build(settings, show_progress=False)
    return settings


@pytest.fixture(scope="session")
def mini_engine(mini_settings: Settings, embedder: Embedder) -> SearchEngine:
    return SearchEngine(mini_settings, embedder)


@pytest.fixture(scope="session")
def report_settings(tmp_path_factory: pytest.TempPathFactory, model_path: str) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("report"), ROOT / "corpus")
    build(settings, show_progress=True)
    return settings


@pytest.fixture(scope="session")
def report_engine(report_settings: Settings, embedder: Embedder) -> SearchEngine:
    return SearchEngine(report_settings, embedder)


@pytest.fixture(scope="session")
def report_lines() -> list[str]:
    return REPORT.read_text(encoding="utf-8").split("\n")


@pytest.fixture()
def mini_client(mini_settings: Settings, mini_engine: SearchEngine) -> Iterator[object]:
    from fastapi.testclient import TestClient

    from service.app import create_app

    with TestClient(create_app(mini_settings, mini_engine)) as client:
        yield client


@pytest.fixture(scope="session")
def server(mini_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {
        "RAPOR_CORPUS_DIR": str(mini_settings.corpus_dir),
        "RAPOR_INDEX_DIR": str(mini_settings.index_dir),
    }
    log = tmp_path_factory.mktemp("server") / "service.log"
    try:
        with running_service(env, log) as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def pg_servers() -> Found:
    """A PostgreSQL primary and hot standby (CI's, or started here on first use)."""
    return shared_servers()


@pytest.fixture()
def pg(pg_servers: Found) -> Iterator[PgTarget]:
    """A scratch database of its own for each test."""
    with scratch_database(*pg_servers) as target:
        yield target
