"""The companion server for this app process: started in-process, or one already running.

Registered as a Reflex lifespan task, so ``reflex run`` alone brings up the chat and its
agents.  ``AGENTCHAT_SERVER_URL`` points the app at a server started separately
(``python -m server``).  Either way the app reaches it the same way: its WebSocket for the chat
(the bridge) and its HTTP API on the same port for accounts and files (``api()``); the app
never opens the server's database and needs none of its secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from server.settings import Settings, get_settings

from .. import bridge
from .api import ServerApi, http_base

__all__ = ["companion_lifespan", "server_url", "api", "settings"]

log = logging.getLogger(__name__)


class _Companion:
    url: str = ""
    api: ServerApi | None = None
    runtime: object | None = None
    lock: asyncio.Lock | None = None


_state = _Companion()


def settings() -> Settings:
    return get_settings()


async def _start() -> None:
    current = settings()
    if current.server_url:
        _state.url = current.server_url
        _state.api = ServerApi(http_base(current.server_url))
        log.info("using the companion server at %s", _state.url)
        return
    from server.runtime import ServerRuntime  # the in-process server; the app only talks to it over loopback

    runtime = ServerRuntime(current)
    try:
        await runtime.start()
    except OSError as exc:
        raise RuntimeError(
            f"cannot start the companion server on {current.host}:{current.port} ({exc.strerror or exc}). "
            "Set AGENTCHAT_PORT to a free port, or AGENTCHAT_SERVER_URL to a server that is already running."
        ) from exc
    _state.runtime = runtime
    _state.url = f"ws://127.0.0.1:{runtime.port}/ws" if current.host in ("0.0.0.0", "::", "") else runtime.url
    _state.api = ServerApi(http_base(_state.url))
    log.info("started the companion server in-process on %s", _state.url)


async def ensure_started() -> None:
    """Start on first use too: a test harness may not run lifespan tasks before events."""
    if _state.api is not None:
        return
    if _state.lock is None:
        _state.lock = asyncio.Lock()
    async with _state.lock:
        if _state.api is None:
            await _start()


async def server_url() -> str:
    await ensure_started()
    return _state.url


async def api() -> ServerApi:
    await ensure_started()
    assert _state.api is not None
    return _state.api


def _browser_probe(app: Any) -> Callable[[str], bool] | None:
    """Whether a client token has a live socket to this app (Reflex's own bookkeeping)."""
    if app is None:
        return None

    def connected(token: str) -> bool:
        namespace = getattr(app, "event_namespace", None)
        if namespace is None:
            return True
        manager = getattr(namespace, "_token_manager", None)
        if manager is None or not hasattr(manager, "token_to_socket"):
            return token in namespace.token_to_sid
        # The socket must be on *this* worker: with Redis, another worker's record can be cached here.
        record = manager.token_to_socket.get(token)
        return record is not None and record.instance_id == manager.instance_id

    return connected


@contextlib.asynccontextmanager
async def companion_lifespan(app: Any = None) -> AsyncIterator[None]:
    from . import web_session

    await ensure_started()
    bridge.watch_browsers(_browser_probe(app))
    # Reflex imports its model module (SQLModel, Alembic: 2 s here) on the first event that
    # carries a form; loaded now, beside the start, the first message sent does not wait for it.
    threading.Thread(target=importlib.import_module, args=("reflex.model",), name="preload", daemon=True).start()
    try:
        yield
    finally:
        bridge.watch_browsers(None)
        web_session.forget_all()
        await bridge.close_all()
        if _state.api is not None:
            await _state.api.close()
        if _state.runtime is not None:
            await _state.runtime.stop()  # type: ignore[attr-defined]
        _state.runtime = _state.api = None
        _state.url = ""
