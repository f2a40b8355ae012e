"""Command line: ``python -m indexer {build [--backend postgres],status,model}``."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from indexer.build import build, staleness
from indexer.corpus import CorpusError
from indexer.search import query_embedder
from indexer.settings import Settings, get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the index (embeddings are cached and resumable)")
    b.add_argument("--if-stale", action="store_true", help="do nothing when the index is current")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.add_argument(
        "--backend",
        choices=("embedded", "postgres"),
        default=None,
        help="postgres: also load the index into RAPOR_PG_DSN as a new version (default: RAPOR_BACKEND)",
    )
    sub.add_parser("status", help="say whether the index is current")
    sub.add_parser("model", help="rebuild the e5 model folder (and its ONNX query encoder) if needed")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    try:
        if args.command == "model":
            embedder = query_embedder(settings)
            embedder.query("")  # loads the query encoder: exports it to ONNX the first time
            print(f"{embedder.model_path} ({embedder.dim} dimensions, queries on {embedder.backend})")
            return 0
        reason = staleness(settings)
        if args.command == "status":
            print(reason or f"index is current: {settings.index_dir}")
            return 1 if reason else 0
        postgres = (args.backend or settings.backend) == "postgres"
        if args.if_stale and reason is None:
            print(f"index is current: {settings.index_dir}")
            return _load_postgres(settings, only_if_changed=True) if postgres else 0
        manifest = build(settings, show_progress=not args.quiet)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    keys = ("passages", "embedded", "embedded_units", "model_id", "build_seconds", "stage_seconds")
    summary = {k: manifest[k] for k in keys}
    print(json.dumps(summary, ensure_ascii=False))
    return _load_postgres(settings, only_if_changed=False) if postgres else 0


def _load_postgres(settings: Settings, *, only_if_changed: bool) -> int:
    """Load the built index into the PostgreSQL primary as its new current version."""
    import psycopg

    from indexer.pg import LoadError, load_index, stale_reason
    from indexer.store import IndexMissing, read_manifest

    if not settings.pg_dsn:
        print("error: the postgres backend needs the primary's DSN: set RAPOR_PG_DSN", file=sys.stderr)
        return 2
    manifest = read_manifest(settings.index_dir) or {}
    try:
        if only_if_changed:
            reason = stale_reason(settings.pg_dsn, manifest)
            if reason is None:
                print("postgres index is current")
                return 0
            print(f"loading into postgres: {reason}")
        version = load_index(settings, settings.pg_dsn)
    except (LoadError, IndexMissing, psycopg.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"postgres_version": version, "passages": manifest.get("passages")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
