"""The PostgreSQL + pgvector backend against real servers (a primary and a streaming hot
standby, from `.ci/run` or started here: see tests/pg_support.py): the schema's migrations,
BM25 and vector parity with the embedded engine, the test servers' own tool. Index versions
are in test_pg_versions.py, replica reads and failover in test_pg_replicas.py."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest

from eval.questions import load_questions
from indexer.deascii import restore
from indexer.pg import PgIndex, binaries, cluster, load_index, migrate, schema_version, server
from indexer.pg.schema import MIGRATIONS
from indexer.search import SearchEngine
from indexer.sentences import best_per_passage
from indexer.settings import ROOT, Settings
from indexer.store import TERMS, read_json, read_manifest
from tests.pg_support import (
    Found,
    PgTarget,
    on_pg,
    scratch_database,
    wait_replayed,
)

QUERIES = [
    "mavi bayrak plaj sayısı",
    "belediye bütçe gider gider",  # a repeated term counts again
    "su su su kanal arıtma",
    "ihale kanunu 4734 sayılı",
    "zzqx hiç olmayan sözcük",
]


@pytest.fixture(scope="module")
def mini_pg(pg_servers: Found, mini_settings: Settings) -> Iterator[tuple[PgIndex, int]]:
    """The mini index loaded once, in a database no other test loads into."""
    with scratch_database(*pg_servers) as target:
        version = load_index(mini_settings, target.primary)
        wait_replayed(target)
        index = PgIndex(on_pg(mini_settings, target))
        yield index, version
        index.close()


def test_migrations_are_versioned_and_idempotent(pg: PgTarget) -> None:
    with psycopg.connect(pg.primary, autocommit=True) as conn:
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
            "vocabulary",
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
    info = index.version_info(version)
    assert index.count(version) == info.passages == len(mini_engine) and info.state == "ready"
    assert info.manifest["checksums"] == (read_manifest(mini_settings.index_dir) or {})["checksums"]
    assert [c.terms for c in index.candidates(ordinals, version=version)] == [
        " ".join(read_json(mini_settings.index_dir / TERMS)[o]) for o in ordinals
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


def test_an_index_cannot_be_loaded_into_a_standby(pg: PgTarget, mini_settings: Settings) -> None:
    with pytest.raises(psycopg.Error, match=r"recovery|read-only"):
        load_index(mini_settings, pg.standby)


def test_the_test_cluster_says_what_to_do_when_it_cannot_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)  # as root (CI): servers run as `postgres`

    def no_such_user(name: str) -> object:
        raise KeyError(name)

    with monkeypatch.context() as m:
        m.setattr(pwd, "getpwnam", no_such_user)
        with pytest.raises(binaries.ClusterError, match=r"useradd --system .* postgres"):
            cluster.start(tmp_path / "servers")
    with monkeypatch.context() as m:
        m.setattr(pwd, "getpwnam", lambda name: pwd.getpwuid(0))  # the user exists
        m.setattr(binaries, "_server_user_can", lambda test, path: test != "-x")
        m.setattr(tempfile, "gettempdir", lambda: str(tmp_path))  # where the copy is tried
        binaries.bin_dir.cache_clear()
        with pytest.raises(binaries.ClusterError, match=r"cannot execute .*pg_ctl: put the project"):
            cluster.start(tmp_path / "servers")
    binaries.bin_dir.cache_clear()
    assert not (tmp_path / "servers").exists()  # refused before anything was created
    monkeypatch.undo()
    if os.geteuid() == 0 and shutil.which("runuser"):  # the real check, on a folder closed to it
        closed = tmp_path / "closed"
        (closed / "bin").mkdir(parents=True)
        closed.chmod(0o700)
        assert not binaries._server_user_can("-x", closed / "bin")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser"), reason="as root only")
def test_binaries_the_server_user_cannot_reach_are_copied_where_it_can(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    installed = binaries.installed_bin_dir()
    real = binaries._server_user_can
    # As for a checkout under a 0700 home: the installed binaries are closed to `postgres`.
    monkeypatch.setattr(
        binaries, "_server_user_can", lambda test, path: installed not in path.parents and real(test, path)
    )
    shared = Path(tempfile.mkdtemp(prefix="rapor-test-bin-", dir="/tmp"))
    shared.chmod(0o755)
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(shared))
    binaries.bin_dir.cache_clear()
    try:
        copied = binaries.bin_dir()
        assert shared in copied.parents
        version = subprocess.run(
            ["runuser", "-u", "postgres", "--", str(copied / "postgres"), "--version"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert version.returncode == 0 and "PostgreSQL" in version.stdout, version.stderr
        assert binaries.bin_dir() == copied  # copied once
    finally:
        binaries.bin_dir.cache_clear()
        shutil.rmtree(shared)


def test_the_cluster_exports_test_variables_apart_from_the_settings() -> None:
    primary = server.Server("primary", Path("/srv/pg/primary"), 5432, 10)
    standby = server.Server("standby", Path("/srv/pg/standby"), 5433, 11)
    lines = cluster.Cluster(primary, (standby,)).exports("RAPOR_TEST_PG_").splitlines()
    assert [line.split("=", 1)[0] for line in lines] == [
        "export RAPOR_TEST_PG_DSN", "export RAPOR_TEST_PG_REPLICAS", "export RAPOR_TEST_PG_PIDS",
        "export RAPOR_TEST_PG_DIR",
    ]  # fmt: skip
    assert "RAPOR_PG_DSN" not in "".join(lines)


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
