"""PostgreSQL + pgvector backend: schema, loading, query-side data access, test servers."""

from indexer.pg.index import PgIndex, VersionInfo
from indexer.pg.load import (
    LOADER_VERSION,
    LoadedVersion,
    LoadError,
    drop_old_versions,
    load_index,
    loaded_version,
    stale_reason,
)
from indexer.pg.pools import NotLoaded, Retry, Servers, Unavailable, VersionGone
from indexer.pg.schema import migrate, schema_version

__all__ = [
    "LOADER_VERSION",
    "LoadError",
    "LoadedVersion",
    "NotLoaded",
    "PgIndex",
    "Retry",
    "Servers",
    "Unavailable",
    "VersionGone",
    "VersionInfo",
    "drop_old_versions",
    "load_index",
    "loaded_version",
    "migrate",
    "schema_version",
    "stale_reason",
]
