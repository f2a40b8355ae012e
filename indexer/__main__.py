"""Command line: ``python -m indexer {build,status,model}``."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from indexer.build import build, resolve_model, staleness
from indexer.corpus import CorpusError
from indexer.embedding import Embedder
from indexer.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the index (embeddings are cached and resumable)")
    b.add_argument("--if-stale", action="store_true", help="do nothing when the index is current")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_parser("status", help="say whether the index is current")
    sub.add_parser("model", help="rebuild the e5 model folder (and its ONNX query encoder) if needed")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    try:
        if args.command == "model":
            path = resolve_model(settings)
            embedder = Embedder(path, threads=settings.torch_threads, backend=settings.query_backend)
            embedder.query("")  # loads the query encoder: exports it to ONNX the first time
            print(f"{path} ({embedder.dim} dimensions, queries on {embedder.backend})")
            return 0
        reason = staleness(settings)
        if args.command == "status":
            print(reason or f"index is current: {settings.index_dir}")
            return 1 if reason else 0
        if args.if_stale and reason is None:
            print(f"index is current: {settings.index_dir}")
            return 0
        manifest = build(settings, show_progress=not args.quiet)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    keys = ("passages", "embedded", "embedded_units", "model_id", "build_seconds", "stage_seconds")
    summary = {k: manifest[k] for k in keys}
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
