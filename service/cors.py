"""CORS for configured origins only, its refusals in the API's one error shape."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from service.errors import error_response


class Cors(CORSMiddleware):
    """Starlette's CORS middleware; a refused preflight answers JSON, not plain text."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        reason = bytes(response.body).decode()  # "Disallowed CORS origin, headers"
        return error_response(
            response.status_code, "cors_refused", f"{reason}: this origin may not call the API"
        )
