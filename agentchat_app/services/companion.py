"""The companion server for this app process: started in-process, or one already running.

Registered as a Reflex lifespan task, so ``reflex run`` alone brings up the chat and its
agents.  ``AGENTCHAT_SERVER_URL`` points the app at a server started separately
(``python -m server``); both must then share the database and the JWT secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from server.auth import load_secret
from server.settings import Settings, get_settings
from server.store import SqlStore, Store

from .. import bridge

__all__ = ["companion_lifespan", "server_url", "store", "secret", "settings"]

log = logging.getLogger(__name__)


class _Companion:
    url: str = ""
    store: Store | None = None
    runtime: object | None = None
    own_store: bool = False
    lock: asyncio.Lock | None = None


_state = _Companion()


def settings() -> Settings:
    return get_settings()


def secret() -> str:
    return load_secret(settings())


async def _start() -> None:
    current = settings()
    if current.server_url:
        _state.url = current.server_url
        _state.store = SqlStore(current.resolved_database_url)
        await _state.store.start()
        _state.own_store = True
        log.info("using the companion server at %s", _state.url)
        return
    from server.runtime import ServerRuntime

    runtime = ServerRuntime(current)
    try:
        await runtime.start()
    except OSError as exc:
        raise RuntimeError(
            f"cannot start the companion server on {current.host}:{current.port} ({exc.strerror or exc}). "
            "Set AGENTCHAT_PORT to a free port, or AGENTCHAT_SERVER_URL to a server that is already running."
        ) from exc
    _state.runtime = runtime
    _state.url = runtime.url
    _state.store = runtime.manager.store
    log.info("started the companion server in-process on %s", _state.url)


async def ensure_started() -> None:
    """Start on first use too: a test harness may not run lifespan tasks before events."""
    if _state.store is not None:
        return
    if _state.lock is None:
        _state.lock = asyncio.Lock()
    async with _state.lock:
        if _state.store is None:
            await _start()


async def server_url() -> str:
    await ensure_started()
    return _state.url


async def store() -> Store:
    await ensure_started()
    assert _state.store is not None
    return _state.store


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
    await ensure_started()
    bridge.watch_browsers(_browser_probe(app))
    try:
        yield
    finally:
        bridge.watch_browsers(None)
        await bridge.close_all()
        if _state.runtime is not None:
            await _state.runtime.stop()  # type: ignore[attr-defined]
        elif _state.own_store and _state.store is not None:
            await _state.store.close()
        _state.runtime = _state.store = None
        _state.url = ""
