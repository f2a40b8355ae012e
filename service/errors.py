"""One JSON error shape for every failure: ``{"error": {code, message, details}}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from indexer.pg.pools import Unavailable
from service.schemas import ErrorBody, ErrorDetail, ErrorResponse

log = logging.getLogger(__name__)
# Pydantic's words for a body that is not a JSON object (form data, a list, a string).
_NOT_AN_OBJECT = {"model_attributes_type", "dict_type", "model_type"}
_UNPARSABLE_BODY = "There was an error parsing the body"  # FastAPI's 400 detail
_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 503: "unavailable"}


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[ErrorDetail] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=details or []))
    return JSONResponse(status_code=status, content=body.model_dump(), headers=headers)


def _field(loc: tuple[object, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("query", "body")]
    return ".".join(parts) or None


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        ErrorDetail(field=_field(tuple(e.get("loc", ()))), message=str(e.get("msg", "invalid")))
        for e in exc.errors()
    ]
    if any(e.get("type") in _NOT_AN_OBJECT for e in exc.errors()):
        details = [ErrorDetail(message="send a JSON object with Content-Type: application/json")]
    summary = "; ".join(f"{d.field or 'request'}: {d.message}" for d in details)
    return error_response(422, "invalid_request", summary or "invalid request", details)


def _allowed(request: Request) -> str:
    """Every method some route of this path answers: Starlette's 405 names only the first
    route's (``GET /search`` and ``POST /search`` are two routes)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == _UNPARSABLE_BODY:
        # FastAPI's word for a body it cannot decode (not UTF-8, UTF-16 or UTF-32): a request
        # this API cannot read is invalid (422), as a query string that is not UTF-8 is.
        detail = ErrorDetail(message="send a JSON object in UTF-8 with Content-Type: application/json")
        return error_response(422, "invalid_request", "request: the body is not JSON text", [detail])
    code = _CODES.get(exc.status_code, "error")
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 405:
        headers["Allow"] = _allowed(request) or headers.get("Allow", "")
    return error_response(exc.status_code, code, str(exc.detail), headers=headers or None)


async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
    # PostgreSQL backend: no server answered, or the database holds no index to search.
    log.error("search backend unavailable: %s", exc)
    return error_response(503, "unavailable", str(exc), headers={"Retry-After": "5"})


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "internal error; the server log has the details")


def install_error_handlers(app: FastAPI) -> None:
    """Route validation, HTTP and unexpected errors to the one shape."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Unavailable, _unavailable)
    app.add_exception_handler(Exception, _unexpected)
