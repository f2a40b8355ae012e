"""``python -m service``: serve the search API with uvicorn."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from indexer.settings import get_settings
from service.app import create_app


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    parser.add_argument("--host", default=settings.host, help=f"default {settings.host}")
    parser.add_argument("--port", type=int, default=settings.port, help=f"default {settings.port}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # access_log off: uvicorn's would write every question; service/access_log.py does not.
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info", access_log=False)


if __name__ == "__main__":
    main()
