"""The companion server's port: WebSocket upgrades on ``/ws`` and ``/`` go to ``Hub.handle``;
every other HTTP request goes to the ASGI app (``server.http``) when one is given."""

from __future__ import annotations

import http
import logging
import time
from urllib.parse import urlsplit

import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from .http.switch import HttpLayer, connection_factory
from .hub import Hub
from .settings import Settings

__all__ = ["serve_hub", "WS_PATHS"]

log = logging.getLogger(__name__)
WS_PATHS = frozenset({"/", "/ws"})


def _json_response(status: http.HTTPStatus, body: dict[str, object]) -> Response:
    payload = orjson.dumps(body)
    headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return Response(status.value, status.phrase, headers, payload)


def _allowed_origins(settings: Settings) -> list[str | None] | None:
    """websockets' ``origins``: None disables the check; a None entry admits no-Origin clients."""
    if "*" in settings.allowed_origins:
        return None
    return [*settings.allowed_origins, None]


async def serve_hub(hub: Hub, settings: Settings, started: float | None = None,
                    http_layer: HttpLayer | None = None) -> Server:
    """Listen on ``settings.host:port``; with ``http_layer``, plain HTTP is served by it."""
    started = started or time.monotonic()

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if path == "/healthz":
            return _json_response(
                http.HTTPStatus.OK,
                {"status": "ok", "uptime": round(time.monotonic() - started, 1), **hub.stats()},
            )
        if path not in WS_PATHS:
            return _json_response(http.HTTPStatus.NOT_FOUND, {"error": "not found", "websocket": "/ws"})
        if "upgrade" not in request.headers.get("Connection", "").lower():
            return _json_response(
                http.HTTPStatus.UPGRADE_REQUIRED, {"error": "this endpoint speaks WebSocket", "websocket": "/ws"}
            )
        return None

    return await serve(
        hub.handle,
        settings.host,
        settings.port,
        process_request=process_request,
        origins=_allowed_origins(settings),  # type: ignore[arg-type]
        max_size=settings.max_frame_bytes,
        ping_interval=settings.ping_interval,
        ping_timeout=settings.ping_timeout,
        # Chat frames are small; per-connection deflate would cost more CPU than it saves.
        compression=None,
        close_timeout=5,
        max_queue=64,
        create_connection=connection_factory(http_layer) if http_layer is not None else None,
        # Several workers on one port (AGENTCHAT_WORKERS): the kernel spreads connections.
        reuse_port=settings.workers > 1,
    )
