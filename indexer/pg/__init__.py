"""PostgreSQL + pgvector backend: schema, loading, query-side data access, test servers."""

from indexer.pg.index import PgIndex
from indexer.pg.load import LoadError, drop_old_versions, load_index, loaded_checksums
from indexer.pg.pools import Retry, Servers, Unavailable
from indexer.pg.schema import migrate, schema_version

__all__ = [
    "LoadError",
    "PgIndex",
    "Retry",
    "Servers",
    "Unavailable",
    "drop_old_versions",
    "load_index",
    "loaded_checksums",
    "migrate",
    "schema_version",
]
