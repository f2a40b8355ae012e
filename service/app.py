"""The FastAPI application: search, health, and one JSON error shape."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from threadpoolctl import threadpool_limits

from indexer.ranking import Engine, SearchResult
from indexer.search import SearchEngine
from indexer.settings import Settings, get_settings
from indexer.store import IndexMissing
from service.access_log import AccessLog
from service.body_limit import BodyLimit
from service.cors import Cors
from service.errors import error_response, install_error_handlers
from service.legal import router as legal_router
from service.limits import SearchSlots
from service.reload import IndexWatcher
from service.schemas import ErrorResponse, Health, Result, Scores, SearchRequest, SearchResponse
from service.web import install_web

log = logging.getLogger(__name__)
_ERRORS: dict[int | str, dict[str, object]] = {
    422: {"model": ErrorResponse, "description": "invalid request"},
    503: {"model": ErrorResponse, "description": "index not loaded, or too busy: see Retry-After"},
}


def load_engine(settings: Settings) -> Engine:
    """Load the index, building it first when it is missing or stale; with the postgres
    backend, connect to the database's current index version (loading it is the indexer's
    job: `python -m indexer build --backend postgres`)."""
    if settings.backend == "postgres":
        return _pg_engine(settings)
    from indexer.build import build, staleness

    reason = staleness(settings)
    if reason and settings.build_if_stale:
        log.warning("%s: building the index now (this takes a few minutes)", reason)
        build(settings)
    try:
        engine = SearchEngine(settings)
    except IndexMissing as exc:  # missing, damaged, or analyzed otherwise: nothing to serve
        held = " (RAPOR_BUILD_IF_STALE=false: the service does not build it)"
        raise SystemExit(f"cannot serve: {exc}{'' if settings.build_if_stale else held}") from None
    if reason and not settings.build_if_stale:
        # Only the corpus changed: the old index still answers the way queries are read.
        log.warning("%s; serving it anyway (RAPOR_BUILD_IF_STALE=false)", reason)
    return engine


def _pg_engine(settings: Settings) -> Engine:
    from indexer.pg import Unavailable
    from indexer.pg.engine import PgSearchEngine

    if not settings.pg_dsn:
        raise SystemExit("RAPOR_BACKEND=postgres needs RAPOR_PG_DSN (and RAPOR_PG_REPLICAS to read from)")
    try:
        return PgSearchEngine(settings)
    except Unavailable as exc:
        raise SystemExit(f"cannot search PostgreSQL: {exc}") from None


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The app; with no engine given, it loads (or builds) one at startup."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One BLAS/OpenMP thread per request: concurrent requests already fill both cores,
        # and pools shared by many request threads thrash (the query encoder keeps its own).
        threadpool_limits(1)
        # Searches run off the event loop, a few at a time: enough to batch query
        # embeddings, few enough that threads do not fight over the GIL and two cores.
        app.state.searches = SearchSlots(
            settings.search_threads, settings.search_queue, settings.search_timeout
        )
        app.state.engine = engine or load_engine(settings)
        # A rebuilt index is swapped in while the service answers (service/reload.py); the
        # PostgreSQL engine follows the database's current version itself.
        watcher = None
        if settings.reload_interval > 0 and isinstance(app.state.engine, SearchEngine):
            watcher = asyncio.create_task(IndexWatcher(app.state, settings).watch())
        yield
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    app = FastAPI(
        title="Faaliyet raporu arama",
        description="Hybrid (BM25 + e5) question answering search over Turkish municipal "
        "activity reports. Every hit carries its section path and printed page range.",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(AccessLog, log_queries=settings.log_queries)
    if settings.cors_origins:  # off unless configured: browsers then keep other sites out
        app.add_middleware(
            Cors,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
        )
    app.include_router(legal_router)
    install_web(app)

    @app.get("/search", response_model=SearchResponse, responses=_ERRORS)
    async def search_get(request: Request, params: Annotated[SearchRequest, Query()]) -> Response:
        """Search with query parameters: `/search?q=...&k=10&mode=hybrid`."""
        return await _search(request, params)

    @app.post(
        "/search",
        response_model=SearchResponse,
        responses={**_ERRORS, 413: {"model": ErrorResponse, "description": "request body too large"}},
    )
    async def search_post(request: Request, body: SearchRequest) -> Response:
        """Search with a JSON body: `{"q": "...", "k": 10, "mode": "hybrid"}`."""
        return await _search(request, body)

    @app.head("/healthz", include_in_schema=False, response_model=None)
    @app.get("/healthz", response_model=Health, responses=_ERRORS)
    def healthz(request: Request) -> Health | JSONResponse:
        """Liveness and what is loaded."""
        engine_: Engine | None = getattr(request.app.state, "engine", None)
        if engine_ is None:
            return error_response(503, "index_not_loaded", "the index is not loaded yet")
        m = engine_.manifest
        return Health(
            status="ok",
            passages=len(engine_),
            model_id=str(m.get("model_id", "")),
            documents=sorted(m.get("corpus", {})),
            built_at=str(m.get("built_at", "")),
        )

    return app


async def _search(request: Request, params: SearchRequest) -> Response:
    engine: Engine | None = getattr(request.app.state, "engine", None)
    if engine is None:
        raise StarletteHTTPException(503, "the index is not loaded yet")
    body = await request.app.state.searches.run(_answer, engine, params)
    return Response(body, media_type="application/json")


def _answer(engine: Engine, params: SearchRequest) -> str:
    # Serialized here, once, by pydantic-core: FastAPI would validate and encode the
    # model again (the response model still documents the shape).
    return to_response(engine.search(params.q, params.k, params.mode)).model_dump_json()


def to_response(result: SearchResult) -> SearchResponse:
    """The API view of a search result."""
    return SearchResponse(
        query=result.query,
        mode=result.mode,
        k=result.k,
        took_ms=result.took_ms,
        results=[
            Result(
                rank=h.rank,
                score=h.score,
                id=h.passage.id,
                text=h.passage.text,
                section=h.passage.section,
                page_start=h.passage.page_start,
                page_end=h.passage.page_end,
                scores=Scores(bm25=h.bm25, dense=h.dense, sentence=h.sentence),
                page_estimate=h.page,
                path=list(h.passage.path),
                doc_id=h.passage.doc_id,
                kind=h.passage.kind,
                cites=h.cites,
            )
            for h in result.hits
        ],
    )
