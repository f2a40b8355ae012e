"""The PostgreSQL + pgvector backend against real servers: a primary and a streaming hot
standby (started by `.ci/run`, or here when ``RAPOR_PG_DSN`` is not set)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest

from eval.questions import load_questions
from indexer import __main__ as cli
from indexer.build import build
from indexer.deascii import restore
from indexer.embedding import Embedder
from indexer.pg import PgIndex, Servers, cluster, load_index, migrate, schema_version
from indexer.pg.schema import MIGRATIONS
from indexer.search import SearchEngine
from indexer.sentences import best_per_passage
from indexer.settings import ROOT, Settings, get_settings
from indexer.store import TERMS, read_json, read_manifest
from tests.pg_support import PgTarget, query_one, scratch_database, servers, wait_replayed
from tests.support import FIXTURES, make_settings

QUERIES = [
    "mavi bayrak plaj sayısı",
    "belediye bütçe gider gider",  # a repeated term counts again
    "su su su kanal arıtma",
    "ihale kanunu 4734 sayılı",
    "zzqx hiç olmayan sözcük",
]


@pytest.fixture(scope="module")
def pg_servers() -> Iterator[tuple[str, str, Path | None]]:
    with servers() as found:
        yield found


@pytest.fixture(scope="module")
def pg(pg_servers: tuple[str, str, Path | None]) -> Iterator[PgTarget]:
    with scratch_database(*pg_servers) as target:
        yield target


def on_pg(settings: Settings, target: PgTarget) -> Settings:
    """``settings`` reading from the standby (then the primary) of ``target``."""
    return settings.model_copy(update={"pg_dsn": target.primary, "pg_replicas": (target.standby,)})


@pytest.fixture(scope="module")
def two_docs(tmp_path_factory: pytest.TempPathFactory, mini_settings: Settings) -> Settings:
    """The mini report twice, as two documents (2024 and 2025) of one index."""
    corpus = tmp_path_factory.mktemp("two-docs-corpus")
    for year in (2024, 2025):
        shutil.copy(FIXTURES / "corpus" / "mini-rapor-2024.txt", corpus / f"mini-rapor-{year}.txt")
        (corpus / f"mini-rapor-{year}.json").write_text(
            f'{{"id": "mini-{year}", "title": "Mini {year}", "year": {year}}}', encoding="utf-8"
        )
    settings = make_settings(tmp_path_factory.mktemp("two-docs"), corpus)
    build(settings, show_progress=False)
    return settings


@pytest.fixture(scope="module")
def mini_pg(pg: PgTarget, mini_settings: Settings) -> Iterator[tuple[PgIndex, int]]:
    version = load_index(mini_settings, pg.primary)
    wait_replayed(pg)
    index = PgIndex(on_pg(mini_settings, pg))
    yield index, version
    index.close()


def test_migrations_are_versioned_and_idempotent(pg_servers: tuple[str, str, Path | None]) -> None:
    with scratch_database(*pg_servers) as target, psycopg.connect(target.primary, autocommit=True) as conn:
        assert schema_version(conn) == 0
        assert migrate(conn) == [m[0] for m in MIGRATIONS]
        assert migrate(conn) == []  # a second run changes nothing
        assert schema_version(conn) == MIGRATIONS[-1][0]
        rows = conn.execute("SELECT version, description FROM schema_migrations ORDER BY version").fetchall()
        assert rows == [(m[0], m[1]) for m in MIGRATIONS]
        partitioned = conn.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'p' ORDER BY relname"
        ).fetchall()
        assert {r[0] for r in partitioned} == {
            "citations", "passage_vectors", "passages", "postings", "sentence_vectors", "term_stats",
        }  # fmt: skip


def test_bm25_in_sql_equals_the_embedded_scores(
    mini_pg: tuple[PgIndex, int], mini_engine: SearchEngine
) -> None:
    index, version = mini_pg
    everything = list(range(len(mini_engine)))
    queries = [*QUERIES, *(" ".join(p.text.split()[:8]) for p in mini_engine.passages)]
    worst = 0.0
    for query in queries:
        terms = mini_engine.analyzer.terms(query)
        want = mini_engine.lexical.scores(terms)
        got = index.bm25_for(terms, everything, version=version)
        worst = max(worst, float(np.abs(got - want).max()))
        top, scores = index.bm25_top(terms, len(everything), version=version)
        assert set(top.tolist()) == set(np.flatnonzero(want > 0).tolist()), query
        assert np.all(np.diff(scores) <= 0)
        np.testing.assert_allclose(scores, want[top], rtol=0, atol=1e-6)
    assert worst < 1e-6


def test_passages_vectors_and_citations_come_back_as_built(
    mini_pg: tuple[PgIndex, int], mini_engine: SearchEngine, mini_settings: Settings
) -> None:
    index, version = mini_pg
    ordinals = list(range(len(mini_engine)))[::-1]
    assert index.passages(ordinals, version=version) == [mini_engine.passages[o] for o in ordinals]
    assert index.count(version) == index.version_info(version)["passages"] == len(mini_engine)
    assert index.terms(ordinals, version=version) == [
        read_json(mini_settings.index_dir / TERMS)[o] for o in ordinals
    ]
    for key, cited in mini_engine.citations.items():
        assert index.cited(key, version=version) == cited
    qvec = mini_engine.embedder.query("Mavi bayraklı plajlar")
    np.testing.assert_allclose(
        index.dense_for(qvec, ordinals, version=version), mini_engine.vectors[ordinals] @ qvec, atol=1e-6
    )
    best = best_per_passage(mini_engine.sentence_vectors @ qvec, mini_engine.sentence_starts)
    np.testing.assert_allclose(index.sentence_for(qvec, ordinals, version=version), best[ordinals], atol=1e-6)
    top, _ = index.sentence_top(qvec, 3, version=version)
    assert top.tolist() == np.argsort(-best, kind="stable")[:3].tolist()


def test_reads_go_to_the_standby_and_writes_are_rejected_there(pg: PgTarget) -> None:
    with Servers(pg.primary, [pg.standby]) as servers:
        assert servers.read(lambda c: c.execute("SELECT pg_is_in_recovery()").fetchone()) == (True,)
        assert servers.write(lambda c: c.execute("SELECT pg_is_in_recovery()").fetchone()) == (False,)
    with (
        psycopg.connect(pg.standby, autocommit=True) as conn,
        pytest.raises(psycopg.errors.ReadOnlySqlTransaction),
    ):
        conn.execute("CREATE TABLE written_on_a_standby (x integer)")


def test_an_index_cannot_be_loaded_into_a_standby(pg: PgTarget, mini_settings: Settings) -> None:
    with pytest.raises(psycopg.Error, match=r"recovery|read-only"):
        load_index(mini_settings, pg.standby)


def test_a_document_filter_keeps_to_that_document(
    pg: PgTarget, two_docs: Settings, embedder: Embedder
) -> None:
    version = load_index(two_docs, pg.primary)
    wait_replayed(pg)
    index = PgIndex(on_pg(two_docs, pg))
    try:
        documents = index.documents(version)
        assert documents == {"mini-2024": documents["mini-2024"], "mini-2025": documents["mini-2025"]}
        owner = {
            i: p.doc_id for i, p in enumerate(index.passages(range(sum(documents.values())), version=version))
        }
        terms = two_docs.analyzer().terms("belediye bütçe su")
        qvec = embedder.query("belediye bütçesi")
        both = index.bm25_top(terms, 100, version=version)[0]
        assert {owner[o] for o in both.tolist()} == set(documents)
        for doc in documents:
            for ordinals in (
                index.bm25_top(terms, 100, version=version, doc_id=doc)[0],
                index.dense_top(qvec, 5, version=version, doc_id=doc)[0],
                index.sentence_top(qvec, 5, version=version, doc_id=doc)[0],
            ):
                assert len(ordinals) and {owner[o] for o in ordinals.tolist()} == {doc}
            assert len(index.dense_top(qvec, 5, version=version, doc_id=doc)[0]) == 5
    finally:
        index.close()


def test_readers_never_see_half_a_version(pg: PgTarget, mini_settings: Settings, two_docs: Settings) -> None:
    index = PgIndex(on_pg(mini_settings, pg))
    seen: set[tuple[int, int]] = set()
    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                version = index.current()
                count = index.count(version)
                info = index.version_info(version)
                if count != info["passages"] or sum(index.documents(version).values()) != count:
                    errors.append(f"version {version}: {count} passages stored, N = {info['passages']}")
                seen.add((version, count))
            except Exception as exc:
                errors.append(repr(exc))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for settings in (two_docs, mini_settings, two_docs):
            load_index(settings, pg.primary)
            wait_replayed(pg)  # the reader (on the standby) sees each version
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
        index.close()
    assert errors == []
    assert len({v for v, _ in seen}) >= 2 and len({n for _, n in seen}) == 2
    kept = query_one(pg.primary, "SELECT count(*) FROM index_versions")
    assert kept == 2  # the current version and the one before it


def test_no_read_fails_while_the_standby_is_down_during_a_load(pg: PgTarget, mini_settings: Settings) -> None:
    if pg.standby_dir is None:
        pytest.skip("RAPOR_PG_DIR is not set: these tests cannot stop and restart the standby")
    load_index(mini_settings, pg.primary)
    wait_replayed(pg)
    servers = Servers(pg.primary, [pg.standby], retry_after=0.5)
    index = PgIndex(on_pg(mini_settings, pg), servers=servers)
    terms = mini_settings.analyzer().terms("belediye bütçe su")
    ports: list[int] = []
    reads, errors = [0], []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                version = index.current()
                index.bm25_top(terms, 10, version=version)
                ports.append(servers.read(lambda c: int(c.info.port)))
                reads[0] += 1
            except Exception as exc:
                errors.append(repr(exc))

    standby_port = int(psycopg.conninfo.conninfo_to_dict(pg.standby)["port"])  # type: ignore[arg-type]
    thread = threading.Thread(target=reader)
    thread.start()
    try:
        time.sleep(0.3)
        before = len(ports)
        cluster.stop_server(pg.standby_dir)
        during = len(ports)
        load_index(mini_settings, pg.primary)
        time.sleep(0.5)
        after_load = len(ports)
        cluster.start_server(cluster.STANDBY, pg.standby_dir)
        wait_replayed(pg)
        time.sleep(1.5)
    finally:
        stop.set()
        thread.join()
        index.close()
    assert errors == [] and reads[0] > 20
    assert standby_port in ports[:before]
    assert standby_port not in ports[during + 5 : after_load]  # the primary answered meanwhile
    assert standby_port in ports[after_load:]  # and the standby again once it was back


def test_build_backend_postgres_loads_the_index(
    pg_servers: tuple[str, str, Path | None],
    mini_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RAPOR_CORPUS_DIR", str(mini_settings.corpus_dir))
    monkeypatch.setenv("RAPOR_INDEX_DIR", str(mini_settings.index_dir))
    with scratch_database(*pg_servers) as target:
        monkeypatch.setenv("RAPOR_PG_DSN", target.primary)
        get_settings.cache_clear()
        try:
            assert cli.main(["build", "--if-stale", "--backend", "postgres"]) == 0
            assert '"postgres_version": 1' in capsys.readouterr().out
            assert cli.main(["build", "--if-stale", "--backend", "postgres"]) == 0
            assert "postgres index is current" in capsys.readouterr().out
        finally:
            get_settings.cache_clear()
        loaded = query_one(
            target.primary,
            "SELECT v.manifest -> 'checksums' FROM current_version JOIN index_versions v USING (version)",
        )
    assert loaded == (read_manifest(mini_settings.index_dir) or {})["checksums"]


@pytest.mark.slow
def test_report_parity_and_hnsw_recall(
    pg: PgTarget, report_settings: Settings, report_engine: SearchEngine
) -> None:
    """On the report and its eval questions: BM25 equal to the embedded scores, and the
    HNSW arms' top candidates as found by exact search (recall at least 0.99)."""
    version = load_index(report_settings, pg.primary)
    wait_replayed(pg)
    index = PgIndex(on_pg(report_settings, pg))
    depth = report_settings.candidates
    questions = load_questions(ROOT / "eval" / "questions.jsonl")
    recall: dict[tuple[str, int], list[float]] = {
        (arm, k): [] for arm in ("dense", "sentence") for k in (10, depth)
    }
    worst = 0.0
    try:
        for q in questions:
            terms = report_engine.analyzer.terms(q.question)
            want = report_engine.lexical.scores(terms)
            top, scores = index.bm25_top(terms, depth, version=version)
            worst = max(worst, float(np.abs(scores - want[top]).max()) if len(top) else 0.0)
            np.testing.assert_allclose(np.sort(scores), np.sort(want)[::-1][: len(scores)][::-1], atol=1e-6)
            qvec = report_engine.embedder.query(restore(q.question, report_engine.vocabulary))
            exact = {
                "dense": np.argsort(-(report_engine.vectors @ qvec)),
                "sentence": np.argsort(
                    -best_per_passage(report_engine.sentence_vectors @ qvec, report_engine.sentence_starts)
                ),
            }
            for (arm, k), found in recall.items():
                search = index.dense_top if arm == "dense" else index.sentence_top
                got = search(qvec, k, version=version, scan="hnsw")[0]  # the graph, never a full scan
                found.append(len(set(exact[arm][:k].tolist()) & set(got.tolist())) / k)
    finally:
        index.close()
    measured = {f"{arm}@{k}": round(float(np.mean(r)), 4) for (arm, k), r in recall.items()}
    print(f"max BM25 difference {worst:.2e}; HNSW recall (ef_search {index.ef_search}): {measured}")
    assert worst < 1e-6
    assert min(measured.values()) >= 0.99, measured
