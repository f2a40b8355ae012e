"""Index versions of the PostgreSQL backend against real servers (see tests/pg_support.py):
several documents in one version, the atomic switch, a dropped version, an empty database,
clean-up after interrupted loads and drops, and `build --backend postgres`."""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable

import psycopg
import pytest

from indexer import __main__ as cli
from indexer.build import build
from indexer.embedding import Embedder
from indexer.pg import NotLoaded, PgIndex, VersionGone, load_index, migrate
from indexer.pg import load as pg_load
from indexer.pg.schema import MIGRATIONS, create_version_tables
from indexer.settings import Settings, get_settings
from indexer.store import read_manifest
from tests.pg_support import (
    PgTarget,
    on_pg,
    query_one,
    wait_replayed,
    wait_until,
)
from tests.support import FIXTURES, make_settings


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
    load_index(mini_settings, pg.primary)
    wait_replayed(pg)
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
                if count != info.passages or sum(index.documents(version).values()) != count:
                    errors.append(f"version {version}: {count} passages stored, N = {info.passages}")
                seen.add((version, count))
            except Exception as exc:
                errors.append(repr(exc))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for settings in (two_docs, mini_settings, two_docs):
            last = load_index(settings, pg.primary)
            wait_replayed(pg)  # the reader (on the standby) sees each version
        wait_until(lambda: any(v == last for v, _ in seen), f"the reader seeing version {last}")
    finally:
        stop.set()
        thread.join()
        index.close()
    assert errors == []
    assert len({v for v, _ in seen}) >= 2 and len({n for _, n in seen}) == 2
    kept = query_one(pg.primary, "SELECT count(*) FROM index_versions")
    assert kept == 2  # the current version and the one before it


def test_a_dropped_version_raises_version_gone_never_empty_rows(
    pg: PgTarget, mini_settings: Settings
) -> None:
    first = load_index(mini_settings, pg.primary)
    wait_replayed(pg)
    index = PgIndex(on_pg(mini_settings, pg))
    terms = mini_settings.analyzer().terms("belediye bütçe su")
    try:
        assert index.passages([0], version=first) and len(index.bm25_top(terms, 5, version=first)[0])
        for _ in range(2):  # the second load drops the first version (one is kept before the current)
            last = load_index(mini_settings, pg.primary)
        wait_replayed(pg)
        assert query_one(pg.primary, "SELECT count(*) FROM index_versions WHERE version = %s", (first,)) == 0
        calls: dict[str, Callable[[], object]] = {
            "passages": lambda: index.passages([0], version=first),
            "candidates": lambda: index.candidates([0], version=first),
            "bm25_top": lambda: index.bm25_top(terms, 5, version=first),
            "bm25_for": lambda: index.bm25_for(terms, [0, 1], version=first),
            "count": lambda: index.count(first),
            "documents": lambda: index.documents(first),
            "version_info": lambda: index.version_info(first),
        }
        for name, call in calls.items():
            with pytest.raises(VersionGone, match="search again on the current version") as raised:
                call()
            assert raised.value.version == first, name
        assert index.current() == last and index.passages([0], version=last)
        with pytest.raises(KeyError):  # an ordinal the (ready) version does not have
            index.passages([10**6], version=last)
    finally:
        index.close()


def test_an_empty_database_says_how_to_load_an_index(pg: PgTarget, mini_settings: Settings) -> None:
    index = PgIndex(on_pg(mini_settings, pg))
    try:
        with pytest.raises(NotLoaded, match=r"run `python -m indexer build --backend postgres`"):
            index.current()  # no schema at all
        with psycopg.connect(pg.primary, autocommit=True) as conn:
            migrate(conn)
        wait_replayed(pg)
        with pytest.raises(NotLoaded, match=r"no index version in PostgreSQL"):
            index.current()  # a schema, no version
        with pytest.raises(NotLoaded):
            index.count(1)
    finally:
        index.close()


def test_a_load_cleans_up_after_interrupted_loads_and_drops(pg: PgTarget, mini_settings: Settings) -> None:
    first = load_index(mini_settings, pg.primary)
    second = load_index(mini_settings, pg.primary)
    with psycopg.connect(pg.primary, autocommit=True) as conn:
        # A load killed after filling its tables: its version left 'loading', never attached.
        row = conn.execute("INSERT INTO index_versions (manifest) VALUES ('{}') RETURNING version").fetchone()
        assert row is not None
        interrupted = int(row[0])
        create_version_tables(conn, interrupted)
        # A drop of the first version (its row deleted first) interrupted while DETACH ...
        # CONCURRENTLY waited for a reader: the detach is left pending, the other tables attached.
        conn.execute("DELETE FROM index_versions WHERE version = %s", (first,))
        with psycopg.connect(pg.primary) as reader:  # holds a transaction open on the table
            reader.execute("SELECT count(*) FROM passages WHERE version = %s", (first,))
            conn.execute("SET statement_timeout = 500")
            with pytest.raises(psycopg.errors.QueryCanceled):
                conn.execute(f"ALTER TABLE passages DETACH PARTITION passages_v{first} CONCURRENTLY")
            conn.execute("RESET statement_timeout")
            reader.rollback()
        assert conn.execute("SELECT count(*) FROM pg_inherits WHERE inhdetachpending").fetchone() == (1,)
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="FINALIZE"):
            conn.execute(f"ALTER TABLE passages DETACH PARTITION passages_v{first} CONCURRENTLY")

    third = load_index(mini_settings, pg.primary)  # cleans up first, then loads

    versions = query_one(pg.primary, "SELECT array_agg(version ORDER BY version) FROM index_versions")
    assert versions == [second, third]
    assert query_one(pg.primary, "SELECT count(*) FROM pg_inherits WHERE inhdetachpending") == 0
    leftovers = query_one(
        pg.primary,
        "SELECT coalesce(array_agg(relname::text ORDER BY relname), '{}') FROM pg_class"
        " WHERE relkind = 'r' AND relname ~ %s",
        (rf"_v({first}|{interrupted})$",),
    )
    assert leftovers == []


def test_a_failed_drop_after_the_switch_only_warns(
    pg: PgTarget, mini_settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(2):
        load_index(mini_settings, pg.primary)

    def fail(conn: psycopg.Connection[object], keep: int = 1) -> list[int]:
        raise psycopg.errors.LockNotAvailable("lock timeout (simulated)")

    monkeypatch.setattr(pg_load, "drop_old_versions", fail)
    with caplog.at_level(logging.WARNING, logger="indexer.pg.load"):
        third = load_index(mini_settings, pg.primary)
    assert "dropping older versions failed" in caplog.text
    assert query_one(pg.primary, "SELECT version FROM current_version") == third  # the load stands
    monkeypatch.undo()
    load_index(mini_settings, pg.primary)  # the next load drops what this one could not
    assert query_one(pg.primary, "SELECT count(*) FROM index_versions") == 2


def test_build_backend_postgres_loads_the_index(
    pg: PgTarget,
    mini_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RAPOR_CORPUS_DIR", str(mini_settings.corpus_dir))
    monkeypatch.setenv("RAPOR_INDEX_DIR", str(mini_settings.index_dir))
    monkeypatch.setenv("RAPOR_PG_DSN", pg.primary)  # the setting itself, on a scratch database
    get_settings.cache_clear()
    build_if_stale = ["build", "--if-stale", "--backend", "postgres"]
    try:
        assert cli.main(build_if_stale) == 0
        assert '"postgres_version": 1' in capsys.readouterr().out
        assert cli.main(build_if_stale) == 0
        assert "postgres index is current" in capsys.readouterr().out
        # Same artifacts, another loader: the database is stale and is loaded again.
        bumped = pg_load.LOADER_VERSION + 1
        monkeypatch.setattr(pg_load, "LOADER_VERSION", bumped)
        assert cli.main(build_if_stale) == 0
        out = capsys.readouterr().out
        assert "was loaded by loader" in out and '"postgres_version": 2' in out
        assert cli.main(build_if_stale) == 0
        assert "postgres index is current" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
    loaded = query_one(
        pg.primary,
        "SELECT jsonb_build_array(v.manifest -> 'checksums', v.loader, v.schema)"
        " FROM current_version JOIN index_versions v USING (version)",
    )
    checksums = (read_manifest(mini_settings.index_dir) or {})["checksums"]
    assert loaded == [checksums, bumped, MIGRATIONS[-1][0]]
