"""Search on the PostgreSQL backend against real servers (see tests/pg_support.py): the
same rankings as the embedded engine, the same API answers in process and from a real
uvicorn process, index versions followed while serving, and what an operator sees when
the database cannot be searched."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from eval.metrics import score
from eval.sets import report_set
from indexer.build import build
from indexer.embedding import Embedder
from indexer.pg import load_index
from indexer.pg.engine import PgSearchEngine
from indexer.ranking import MODES, SearchResult
from indexer.search import SearchEngine
from indexer.settings import Settings
from service.app import create_app, load_engine
from tests.pg_support import Found, PgTarget, on_pg, scratch_database, wait_replayed
from tests.support import running_service

QUERIES = [
    "Mavi Bayrak plaj sayısı",
    "kopek barinagi nerede",  # ASCII-typed: the dense arm gets the letters back
    "5216 sayılı Kanun 7/a",  # a legal reference: citing passages first
    "belediye bütçe gider gider",
    "zzqx hiç olmayan sözcük",
    "ve ile",  # stop words only: no hits
]


@pytest.fixture(scope="module")
def mini_pg(pg_servers: Found, mini_settings: Settings) -> Iterator[tuple[Settings, PgTarget]]:
    """The mini index loaded once into its own database; settings that search it there."""
    with scratch_database(*pg_servers) as target:
        load_index(mini_settings, target.primary)
        wait_replayed(target)
        yield on_pg(mini_settings, target).model_copy(update={"backend": "postgres"}), target


@pytest.fixture(scope="module")
def pg_engine(mini_pg: tuple[Settings, PgTarget], embedder: Embedder) -> Iterator[PgSearchEngine]:
    engine = PgSearchEngine(mini_pg[0], embedder)
    yield engine
    engine.close()


def _same(a: SearchResult, b: SearchResult) -> None:
    """The same hits, BM25 within 1e-6; cosines within 1e-5 (PostgreSQL sums them in double
    precision, NumPy in single, and they come back rounded to 6 places); fused scores within
    1e-4: min-max normalization divides an arm's difference by its span over the
    candidates (a few hundredths here: cosines 1e-6 apart gave fused scores 1.7e-5 apart)."""
    assert [h.passage for h in a.hits] == [h.passage for h in b.hits]
    for x, y in zip(a.hits, b.hits, strict=True):
        assert (x.rank, x.cites) == (y.rank, y.cites)
        pairs = ((x.bm25, y.bm25, 1e-6), (x.score, y.score, 1e-4), (x.dense, y.dense, 1e-5),
                 (x.sentence, y.sentence, 1e-5))  # fmt: skip
        for got, want, tolerance in pairs:
            assert (got is None) == (want is None)
            assert got is None or want is None or abs(got - want) < tolerance


@pytest.mark.parametrize("mode", MODES)
def test_rankings_equal_the_embedded_engine(
    pg_engine: PgSearchEngine, mini_engine: SearchEngine, mode: str
) -> None:
    for query in QUERIES:
        for k in (3, 10, 1000):
            _same(pg_engine.search(query, k, mode), mini_engine.search(query, k, mode))  # type: ignore[arg-type]


def test_legal_lookups_equal_the_embedded_engine(
    pg_engine: PgSearchEngine, mini_engine: SearchEngine
) -> None:
    counts = pg_engine.citation_counts()
    assert counts == mini_engine.citation_counts() and counts
    for key in counts:
        assert pg_engine.cited(key) == mini_engine.cited(key)
    # A clause with no paragraph number is the first paragraph's: "34/c" finds "34/1-c".
    clause = mini_engine.cited("5393/34/1-c")
    assert pg_engine.cited("5393/34/c") == mini_engine.cited("5393/34/c") == clause != []
    assert pg_engine.cited("9999/1") == []
    assert len(pg_engine) == len(mini_engine) and pg_engine.manifest == mini_engine.manifest


def _answers(client: TestClient) -> list[Any]:
    out: list[Any] = []
    for query in QUERIES:
        for mode in MODES:
            body = client.get("/search", params={"q": query, "k": 5, "mode": mode}).json()
            body.pop("took_ms")
            out.append(body)
    out.append(client.get("/legal", params={"ref": "5216/7"}).json())
    out.append(client.get("/legal/laws").json())
    out.append(client.get("/healthz").json())
    out.append(client.get("/", params={"q": "mavi bayrak"}).text)
    return out


def _alike(got: Any, want: Any, at: str = "") -> None:
    """Equal JSON; floats within 1e-5, fused scores within 1e-4 (see ``_same``)."""
    if isinstance(want, float):
        assert got == pytest.approx(want, abs=1e-4 if at.endswith(".score") else 1e-5), at
    elif isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), at
        for key in want:
            _alike(got[key], want[key], f"{at}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), at
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _alike(g, w, f"{at}[{i}]")
    else:
        assert got == want, at


def test_the_api_answers_as_on_the_embedded_index(
    mini_pg: tuple[Settings, PgTarget],
    pg_engine: PgSearchEngine,
    mini_settings: Settings,
    mini_engine: SearchEngine,
) -> None:
    with (
        TestClient(create_app(mini_pg[0], pg_engine)) as on_pg_,
        TestClient(create_app(mini_settings, mini_engine)) as embedded,
    ):
        got, want = _answers(on_pg_), _answers(embedded)
    _alike(got, want)
    assert any(r["results"] for r in got[:-4])


def test_the_service_searches_postgres_from_a_real_server(
    mini_pg: tuple[Settings, PgTarget], mini_engine: SearchEngine, tmp_path: Path
) -> None:
    settings, target = mini_pg
    env = {
        "RAPOR_BACKEND": "postgres",
        "RAPOR_PG_DSN": target.primary,
        "RAPOR_PG_REPLICAS": target.standby,
        "RAPOR_CORPUS_DIR": str(settings.corpus_dir),
        "RAPOR_INDEX_DIR": str(tmp_path / "no-index-here"),  # served from PostgreSQL only
    }
    with running_service(env, tmp_path / "service.log") as url:
        body = httpx.get(f"{url}/search", params={"q": "Mavi Bayrak plaj sayısı", "k": 5}, timeout=30).json()
    want = mini_engine.search("Mavi Bayrak plaj sayısı", 5)
    assert [r["id"] for r in body["results"]] == [h.passage.id for h in want.hits]
    assert not (tmp_path / "no-index-here").exists()


@pytest.fixture()
def scratch(pg_servers: Found) -> Iterator[PgTarget]:
    with scratch_database(*pg_servers) as target:
        yield target


def _flamingo_index(mini_settings: Settings, tmp_path: Path) -> Settings:
    """The mini corpus with a passage on flamingos, built into its own folder."""
    corpus = tmp_path / "corpus"
    shutil.copytree(mini_settings.corpus_dir, corpus)
    (report,) = corpus.glob("*.txt")
    text = report.read_text(encoding="utf-8")
    anchor = "430 hayvan sahiplendirilmiştir.\n"
    assert anchor in text
    new = "Gediz Deltası'nda flamingo kuluçka alanı korunmuş, flamingo sayımı yapılmıştır.\n"
    report.write_text(text.replace(anchor, anchor + "\n" + new), encoding="utf-8")
    settings = mini_settings.model_copy(update={"corpus_dir": corpus, "index_dir": tmp_path / "index"})
    build(settings, show_progress=False)
    return settings


def _flamingos(engine: PgSearchEngine) -> bool:
    return any("flamingo" in h.passage.text for h in engine.search("flamingo", 3).hits)


def test_searches_follow_new_versions_and_outlive_dropped_ones(
    scratch: PgTarget, mini_settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    load_index(mini_settings, scratch.primary)
    wait_replayed(scratch)
    settings = on_pg(mini_settings, scratch)
    following = PgSearchEngine(settings.model_copy(update={"reload_interval": 0}), embedder)
    pinned = PgSearchEngine(settings.model_copy(update={"reload_interval": 3600}), embedder)
    try:
        assert not _flamingos(following) and not _flamingos(pinned)
        load_index(_flamingo_index(mini_settings, tmp_path), scratch.primary)
        wait_replayed(scratch)
        assert _flamingos(following)  # the new version, at the next search
        assert not _flamingos(pinned)  # still its version: it exists until the next load
        load_index(mini_settings, scratch.primary)  # drops the version `pinned` reads
        wait_replayed(scratch)
        assert not _flamingos(pinned) and pinned.version() == following.version()
    finally:
        following.close()
        pinned.close()


def test_a_version_loaded_with_other_settings_is_not_searched(
    scratch: PgTarget,
    mini_settings: Settings,
    embedder: Embedder,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    load_index(mini_settings, scratch.primary)
    wait_replayed(scratch)
    engine = PgSearchEngine(on_pg(mini_settings, scratch).model_copy(update={"reload_interval": 0}), embedder)
    other = mini_settings.model_copy(update={"index_dir": tmp_path / "index", "prefix_len": 4})
    build(other, show_progress=False)
    try:
        before = engine.search("Mavi Bayrak plaj sayısı", 5)
        with caplog.at_level(logging.ERROR):
            load_index(other, scratch.primary)
            wait_replayed(scratch)
            _same(engine.search("Mavi Bayrak plaj sayısı", 5), before)  # the accepted version
        assert "built with other analyzer" in caplog.text
        fresh = on_pg(mini_settings, scratch).model_copy(update={"backend": "postgres"})
        with pytest.raises(SystemExit, match="indexer build --backend postgres"):
            load_engine(fresh)  # nothing this service could search: it does not start
    finally:
        engine.close()


def test_without_a_database_or_an_index_the_service_says_what_to_do(
    scratch: PgTarget, mini_settings: Settings
) -> None:
    settings = mini_settings.model_copy(update={"backend": "postgres"})
    with pytest.raises(SystemExit, match="needs RAPOR_PG_DSN"):
        load_engine(settings)
    with pytest.raises(SystemExit, match="run `python -m indexer build --backend postgres`"):
        load_engine(on_pg(settings, scratch))  # an empty database


def test_a_lost_database_is_a_503_in_the_error_shape_and_on_the_page(
    pg_servers: Found, mini_settings: Settings, embedder: Embedder
) -> None:
    with scratch_database(*pg_servers) as target:
        load_index(mini_settings, target.primary)
        wait_replayed(target)
        settings = on_pg(mini_settings, target).model_copy(update={"reload_interval": 0})
        engine = PgSearchEngine(settings, embedder)
        name = psycopg.conninfo.conninfo_to_dict(target.primary)["dbname"]
        with TestClient(create_app(settings, engine)) as client:
            assert client.get("/search", params={"q": "su"}).status_code == 200
            with psycopg.connect(pg_servers[0], autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(str(name))))
            response = client.get("/search", params={"q": "su"})
            page = client.get("/", params={"q": "su"})
        engine.close()
    assert page.status_code == 503 and "Arama şu anda kullanılamıyor" in page.text
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["error"]["code"] == "unavailable"
    assert "PostgreSQL" in response.json()["error"]["message"]


@pytest.mark.slow
def test_report_metrics_and_top_five_agree_with_the_embedded_engine(
    pg_servers: Found, report_settings: Settings, report_engine: SearchEngine
) -> None:
    """Issue 9's parity bar on the report's eval questions: each mode's metrics within
    0.01 of the embedded engine's, and the same top 5 for at least 95% of the questions."""
    ev = report_set(report_settings)
    with scratch_database(*pg_servers) as target:
        load_index(report_settings, target.primary)
        wait_replayed(target)
        engine = PgSearchEngine(on_pg(report_settings, target), report_engine.embedder)
        try:
            runs = {
                (name, mode): {
                    q.id: [h.passage.id for h in e.search(q.text, 10, mode).hits] for q in ev.queries
                }
                for name, e in (("pg", engine), ("embedded", report_engine))
                for mode in MODES
            }
        finally:
            engine.close()
    for mode in MODES:
        pg, embedded = runs["pg", mode], runs["embedded", mode]
        metrics = [score(ev.qrels, {q: {p: 1 / r for r, p in enumerate(ids, 1)} for q, ids in run.items()})
                   for run in (pg, embedded)]  # fmt: skip
        gap = max(abs(metrics[0][m] - metrics[1][m]) for m in metrics[0])
        agree = np.mean([pg[q][:5] == embedded[q][:5] for q in pg])
        print(f"{mode}: MRR@10 {metrics[0]['MRR@10']:.4f} vs {metrics[1]['MRR@10']:.4f}, "
              f"largest metric gap {gap:.4f}, top-5 agreement {agree:.3f}")  # fmt: skip
        assert gap <= 0.01 and agree >= 0.95
