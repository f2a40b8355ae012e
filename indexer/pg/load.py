"""Load a built index folder into PostgreSQL as a new index version.

The folder's artifacts (``store.read_*``) are copied into standalone tables with COPY,
indexed (B-trees, the inverted index, HNSW) and analyzed; then one transaction attaches
them as the version's partitions, marks the version ready and switches the current
version to it. Readers see the old version or the new one, never part of one. Versions
before the previous one are dropped after the switch (the previous one stays, so a search
that started on it can finish).

Each load first cleans up after an interrupted one (under the load lock, so never after a
running one): versions left ``loading`` and their tables, and detaches left pending. A
failure to drop old versions after the switch is only logged: the new version is live, and
the next load drops them.

A version records the loader (``LOADER_VERSION``) and schema that loaded it: a database
loaded by another loader or schema is stale even when the artifacts' checksums match.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from indexer import store
from indexer.chunking import Passage
from indexer.pg import schema
from indexer.pg.copy_rows import (
    copy_citations,
    copy_passages,
    copy_terms,
    copy_vectors,
    copy_vocabulary,
    passage_vector_rows,
    sentence_rows,
)
from indexer.settings import Settings

log = logging.getLogger(__name__)
_LOAD_LOCK = 0x52A9_0010  # advisory lock key: one load at a time
# What a load writes and how: bump it whenever that changes (other rows, columns, indexes),
# so `build --if-stale --backend postgres` reloads a database loaded the old way.
LOADER_VERSION = 3  # 2: the vocabulary, lengths in postings, vacuumed partitions; 3: line pages
_VERSION_TABLE = re.compile(r"^(" + "|".join(schema.VERSION_TABLES) + r")_v(\d+)$")


class LoadError(RuntimeError):
    """The index folder cannot be loaded (missing, damaged, other vector size)."""


def load_index(settings: Settings, dsn: str, *, keep: int = 1) -> int:
    """Copy the index at ``settings.index_dir`` into the database at ``dsn`` (a primary)
    as a new version, make it the current one, and drop all but ``keep`` older versions.
    Returns the new version's number."""
    folder = settings.index_dir
    manifest = store.read_manifest(folder)
    if manifest is None:
        raise LoadError(f"no index at {folder}: run `python -m indexer build`")
    store.verify(folder, manifest)
    if manifest.get("dim", schema.DIM) != schema.DIM:
        raise LoadError(
            f"index at {folder} has {manifest['dim']}-dimensional vectors, the schema {schema.DIM}"
        )
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        schema.migrate(conn)
        # HNSW builds are many times faster while the graph fits in this memory (this
        # session only; about 1.5 kB a vector).
        conn.execute("SELECT set_config('maintenance_work_mem', %s, false)", (settings.pg_build_memory,))
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOAD_LOCK,))
        try:
            clean_up(conn)
            version = _load(conn, folder, manifest)
            try:
                dropped = drop_old_versions(conn, keep)
            except psycopg.Error as exc:
                log.warning(
                    "version %d is live, but dropping older versions failed (the next load retries): %s",
                    version, exc,
                )  # fmt: skip
                dropped = []
        finally:
            with suppress(psycopg.Error):  # a lost connection released the lock with its session
                conn.execute("SELECT pg_advisory_unlock(%s)", (_LOAD_LOCK,))
    log.info(
        "loaded %s as version %d in %.1f s (dropped %s)",
        folder, version, time.perf_counter() - started, dropped or "none",
    )  # fmt: skip
    return version


def clean_up(conn: psycopg.Connection[Any]) -> list[int]:
    """Clean up after interrupted loads and drops (call under the load lock, so no load
    runs): finalize pending detaches, then drop the versions left ``loading`` and every
    version table of no ready version. Returns those versions."""
    finalized = schema.finalize_pending_detaches(conn)
    if finalized:
        log.warning("finalized detaches an interrupted drop left pending: %s", ", ".join(finalized))
    loading = {int(r[0]) for r in conn.execute("SELECT version FROM index_versions WHERE state = 'loading'")}
    ready = {int(r[0]) for r in conn.execute("SELECT version FROM index_versions WHERE state = 'ready'")}
    tables = conn.execute(
        "SELECT relname FROM pg_class"
        " WHERE relkind = 'r' AND relnamespace = current_schema()::text::regnamespace"
    ).fetchall()
    stray = {int(m[2]) for (name,) in tables if (m := _VERSION_TABLE.match(name))} - ready
    for version in sorted(loading | stray):
        log.warning("dropping version %d, left behind by an interrupted load or drop", version)
        conn.execute("DELETE FROM index_versions WHERE version = %s AND state = 'loading'", (version,))
        schema.drop_version_tables(conn, version)
    return sorted(loading | stray)


def _load(conn: psycopg.Connection[Any], folder: Path, manifest: dict[str, Any]) -> int:
    passages = store.read_passages(folder)
    terms: list[list[str]] = store.read_json(folder / store.TERMS)
    dense = store.read_dense(folder)
    vectors = np.asarray(dense.reconstruct_n(0, dense.ntotal), dtype=np.float32)
    sentence_vectors, starts = store.read_sentences(folder)
    citations: dict[str, list[int]] = store.read_json(folder / store.CITATIONS)
    lengths = [len(t) or 1 for t in terms]  # rank-bm25 indexes an empty passage as one token
    row = conn.execute(
        "INSERT INTO index_versions (manifest, passages, avgdl, loader, schema)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING version",
        (json.dumps(manifest, ensure_ascii=False), len(passages), sum(lengths) / len(lengths),
         LOADER_VERSION, schema.schema_version(conn)),
    ).fetchone()  # fmt: skip
    assert row is not None
    version = int(row[0])
    try:
        with conn.transaction():
            schema.create_version_tables(conn, version)
            copy_passages(conn, version, passages, terms)
            copy_terms(conn, version, terms)
            doc_ids = [p.doc_id for p in passages]
            copy_vectors(conn, version, "passage_vectors", passage_vector_rows(vectors, doc_ids))
            owner = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(sentence_vectors))))
            copy_vectors(conn, version, "sentence_vectors", sentence_rows(sentence_vectors, owner, doc_ids))
            copy_citations(conn, version, citations)
            copy_vocabulary(conn, version, store.read_json(folder / store.VOCABULARY))
            schema.index_version_tables(conn, version)
        for table in schema.VERSION_TABLES:
            # VACUUM sets the visibility map: postings are then read by index-only scans.
            conn.execute(sql.SQL("VACUUM (ANALYZE) {p}").format(p=schema.partition(table, version)))
        _switch(conn, version, manifest, passages)
    except BaseException:
        try:
            conn.execute("DELETE FROM index_versions WHERE version = %s AND state = 'loading'", (version,))
            schema.drop_version_tables(conn, version)
        except psycopg.Error as exc:  # the load's own error is the one to report
            log.warning("could not clean up version %d (the next load will): %s", version, exc)
        raise
    return version


def _switch(
    conn: psycopg.Connection[Any], version: int, manifest: dict[str, Any], passages: list[Passage]
) -> None:
    """One transaction: attach the partitions, record the documents, move the pointer."""
    corpus: dict[str, dict[str, Any]] = manifest.get("corpus", {})
    counts = Counter(p.doc_id for p in passages)
    with conn.transaction():
        schema.attach_version_tables(conn, version)
        for doc_id, count in sorted(counts.items()):
            meta = corpus.get(doc_id, {})
            conn.execute(
                "INSERT INTO documents (doc_id, title, year, sha256) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (doc_id) DO UPDATE SET title = excluded.title, year = excluded.year,"
                " sha256 = excluded.sha256",
                (doc_id, meta.get("title", ""), meta.get("year"), meta.get("sha256", "")),
            )
            conn.execute(
                "INSERT INTO version_documents (version, doc_id, passages) VALUES (%s, %s, %s)",
                (version, doc_id, count),
            )
        conn.execute(
            "UPDATE index_versions SET state = 'ready', ready_at = now() WHERE version = %s", (version,)
        )
        conn.execute(
            "INSERT INTO current_version (version) VALUES (%s)"
            " ON CONFLICT (singleton) DO UPDATE SET version = excluded.version",
            (version,),
        )


def drop_old_versions(conn: psycopg.Connection[Any], keep: int = 1) -> list[int]:
    """Drop the ready versions older than the current one and the ``keep`` before it."""
    rows = conn.execute(
        "SELECT version FROM index_versions WHERE state = 'ready'"
        " AND version < (SELECT version FROM current_version) ORDER BY version DESC OFFSET %s",
        (keep,),
    ).fetchall()
    old = [int(r[0]) for r in rows]
    for version in old:
        # The row first: from then on a read of the version finds it gone (VersionGone), never
        # a version whose partitions are half detached. A drop interrupted after this leaves
        # tables of no version, which the next load's clean_up drops.
        conn.execute("DELETE FROM index_versions WHERE version = %s", (version,))
        schema.drop_version_tables(conn, version)
    return old


@dataclass(frozen=True)
class LoadedVersion:
    """The database's current version: its artifacts, and what loaded it."""

    version: int
    checksums: dict[str, str]
    loader: int | None  # LOADER_VERSION of the load (None: before it was recorded)
    schema: int | None  # the schema's migration then


def loaded_version(dsn: str) -> LoadedVersion | None:
    """The database's current version (None: none loaded)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        found = schema.schema_version(conn)
        if found == 0:
            return None
        recorded = "loader, schema" if found >= 2 else "NULL, NULL"  # migration 2 records them
        row = conn.execute(
            f"SELECT version, manifest -> 'checksums', {recorded}"
            " FROM current_version JOIN index_versions USING (version)"
        ).fetchone()
    return LoadedVersion(int(row[0]), row[1] or {}, row[2], row[3]) if row else None


def stale_reason(dsn: str, manifest: dict[str, Any]) -> str | None:
    """Why the database's current version is not the built index at ``manifest`` loaded by
    this loader into this schema (None: it is)."""
    loaded = loaded_version(dsn)
    if loaded is None:
        return "no index version in the database"
    if loaded.checksums != manifest.get("checksums"):
        return f"version {loaded.version} holds other artifacts than the built index"
    if loaded.loader != LOADER_VERSION:
        return f"version {loaded.version} was loaded by loader {loaded.loader}, this is {LOADER_VERSION}"
    latest = schema.MIGRATIONS[-1][0]
    if loaded.schema != latest:
        return f"version {loaded.version} was loaded into schema {loaded.schema}, the schema is {latest}"
    return None
