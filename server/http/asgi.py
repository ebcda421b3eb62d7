"""The Starlette application behind the companion server's plain HTTP requests."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .api import ApiContext, api_routes, error_response

__all__ = ["build_app"]

log = logging.getLogger(__name__)


async def _websocket_only(request: Request) -> Response:
    return error_response(426, "upgrade_required", "This endpoint speaks WebSocket; connect to /ws.")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    messages = {404: f"No such endpoint: {request.url.path}", 405: f"{request.method} is not allowed here."}
    status = exc.status_code
    return error_response(status, codes.get(status, "http_error"), messages.get(status, str(exc.detail)))


async def _crash(request: Request, exc: Exception) -> Response:
    log.error("HTTP %s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "Something went wrong on the server; please try again.")


def build_app(context: ApiContext, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The API, ``/healthz``, and a clear 426 for plain HTTP on the WebSocket paths."""
    routes: list[BaseRoute] = [
        *api_routes(context),
        *extra_routes,
        Route("/", _websocket_only, methods=["GET", "POST"]),
        Route("/ws", _websocket_only, methods=["GET", "POST"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error, Exception: _crash})
