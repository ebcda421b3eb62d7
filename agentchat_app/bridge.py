"""The bridge: one WebSocket client connection per browser session to the companion server.

A ``Bridge`` owns an asyncio task that connects, authenticates with the user's JWT,
reads frames into a queue and reconnects with backoff, resuming from the last message id
it saw, so a server restart loses nothing on screen.  Bridges live in a module-level
registry keyed by the Reflex client token: the connection is not serialisable state.

The Reflex side (``ChatState.run_bridge``, a background event) drains the queue into the
session's ``ChatSession`` and copies what changed into state.  When no browser has
consumed a bridge for a while (the tab is gone), the bridge closes itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from agentchat_client.protocol import MessageType, client_frame

from .chat.models import ChatMessage
from .chat.session import LOCAL_CONNECTION, ChatSession, ConnectionState

__all__ = ["Bridge", "open_bridge", "get_bridge", "close_bridge", "close_all", "watch_browsers", "BACKOFF_SECONDS"]

log = logging.getLogger(__name__)

BACKOFF_SECONDS = (0.2, 0.5, 1.0, 2.0, 3.0, 5.0)
DISCONNECTED_AFTER_FAILURES = 8
"""After this many failed attempts in a row the indicator says "Disconnected" (retries go on)."""
ORPHAN_TIMEOUT_SECONDS = 120.0
"""A bridge nobody reads for this long is closed."""
GONE_AFTER_SECONDS = 8.0
"""A bridge whose browser has had no socket to the app for this long is closed, so the
person shows as offline; a quick reconnect (a network blip, a reload) keeps it."""
REAP_EVERY_SECONDS = 2.0
QUEUE_LIMIT = 5000


class Bridge:
    def __init__(self, key: str, url: str, session: ChatSession, token: str) -> None:
        self.key = key
        self.url = url
        self.session = session
        self.token = token
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.overflowed = False
        self.consumers = 0
        self.last_consumed = time.monotonic()
        self.closed = False
        self.gone_since: float | None = None
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"agentchat-bridge-{self.session.me}")

    async def close(self) -> None:
        self.closed = True
        self._wake.set()
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self._push({"type": LOCAL_CONNECTION, "data": {"state": ConnectionState.DISCONNECTED}})

    @property
    def connected(self) -> bool:
        return self._ws is not None

    # --- sending ------------------------------------------------------------------------
    async def send(self, message_type: MessageType, data: dict[str, Any]) -> bool:
        """Send one frame; False when not connected (the caller tells the user)."""
        ws = self._ws
        if ws is None:
            return False
        try:
            await ws.send(client_frame(message_type, data).decode())
        except ConnectionClosed:
            return False
        return True

    # --- receiving ----------------------------------------------------------------------
    def _push(self, frame: dict[str, Any]) -> None:
        if self.queue.qsize() >= QUEUE_LIMIT:
            # Nobody is reading (the tab is gone): forget the backlog, re-sync when one comes.
            self.overflowed = True
            while not self.queue.empty():
                self.queue.get_nowait()
        self.queue.put_nowait(frame)

    async def next_batch(self, timeout: float | None, limit: int = 200) -> list[dict[str, Any]]:
        """Frames that arrived, at least one unless ``timeout`` passes first."""
        try:
            first = await asyncio.wait_for(self.queue.get(), timeout)
        except asyncio.TimeoutError:
            return []
        batch = [first]
        while len(batch) < limit and not self.queue.empty():
            batch.append(self.queue.get_nowait())
        self.last_consumed = time.monotonic()
        return batch

    async def _run(self) -> None:
        failures = 0
        while not self.closed:
            try:
                async with connect(self.url, open_timeout=5, max_size=None, ping_interval=15, ping_timeout=15) as ws:
                    await ws.send(client_frame(MessageType.AUTH, self._auth_data()).decode())
                    first = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
                    self._push(first)
                    if first.get("type") != MessageType.AUTH_RESPONSE or not (first.get("data") or {}).get("success"):
                        log.warning("companion server refused %s's token", self.session.me)
                        self.closed = True
                        break
                    self._ws = ws
                    failures = 0
                    async for raw in ws:
                        self._push(orjson.loads(raw))
            except asyncio.CancelledError:
                raise
            except (OSError, ConnectionClosed, InvalidStatus, asyncio.TimeoutError, orjson.JSONDecodeError) as exc:
                log.info("bridge for %s lost its connection: %s", self.session.me, exc)
            except Exception:  # keep the session alive whatever happened
                log.exception("bridge for %s failed", self.session.me)
            finally:
                self._ws = None
            if self.closed:
                break
            failures += 1
            state = ConnectionState.DISCONNECTED if failures > DISCONNECTED_AFTER_FAILURES else ConnectionState.RECONNECTING
            self._push({"type": LOCAL_CONNECTION, "data": {"state": state}})
            delay = BACKOFF_SECONDS[min(failures - 1, len(BACKOFF_SECONDS) - 1)]
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay * random.uniform(0.8, 1.2))

    def _auth_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"userId": self.session.me, "token": self.token}
        if self.session.loaded and self.session.last_message_id is not None and not self.overflowed:
            data["lastMessageId"] = self.session.last_message_id
        return data

    def retry_now(self) -> None:
        """Skip the rest of the backoff (the user pressed "Retry")."""
        self._wake.set()


# --- registry ---------------------------------------------------------------------------

_bridges: dict[str, Bridge] = {}
_reaper: asyncio.Task[None] | None = None
_browser_connected: Callable[[str], bool] | None = None


def watch_browsers(probe: Callable[[str], bool] | None) -> None:
    """Tell the registry how to see whether a session's browser is connected to the app."""
    global _browser_connected
    _browser_connected = probe


def get_bridge(key: str) -> Bridge | None:
    bridge = _bridges.get(key)
    return bridge if bridge is not None and not bridge.closed else None


def open_bridge(
    key: str, url: str, me: str, role: str, token: str,
    shown: list[ChatMessage] | None = None, has_more: bool = False,
) -> Bridge:
    """The session's bridge, started if needed (a new user on the same tab gets a new one).

    ``shown`` is what the browser already displays (state survives a bridge: a worker restart,
    a reaped bridge, a new token after a role change): the new bridge resumes after it.
    """
    bridge = _bridges.get(key)
    if bridge is not None and not bridge.closed and bridge.session.me == me and bridge.token == token:
        return bridge
    if bridge is not None:
        asyncio.create_task(bridge.close())
    session = ChatSession(me, role)
    session.seed(shown or [], has_more)
    bridge = Bridge(key, url, session, token)
    _bridges[key] = bridge
    bridge.start()
    _ensure_reaper()
    return bridge


async def close_bridge(key: str) -> None:
    bridge = _bridges.pop(key, None)
    if bridge is not None:
        await bridge.close()


async def close_all() -> None:
    for key in list(_bridges):
        await close_bridge(key)


def _ensure_reaper() -> None:
    global _reaper
    if _reaper is None or _reaper.done():
        _reaper = asyncio.create_task(_reap(), name="agentchat-bridge-reaper")


async def _reap() -> None:
    """Close bridges whose browser is gone, so the person shows as offline."""
    while _bridges:
        await asyncio.sleep(REAP_EVERY_SECONDS)
        now = time.monotonic()
        for key, bridge in list(_bridges.items()):
            if _browser_connected is not None:
                try:
                    present = _browser_connected(key)
                except Exception:  # the probe is best effort
                    present = True
                if present:
                    bridge.gone_since = None
                elif bridge.gone_since is None:
                    bridge.gone_since = now
                elif now - bridge.gone_since > GONE_AFTER_SECONDS:
                    log.info("the browser of %s left: closing its bridge", bridge.session.me)
                    await close_bridge(key)
                    continue
            if bridge.consumers == 0 and now - bridge.last_consumed > ORPHAN_TIMEOUT_SECONDS:
                log.info("closing the idle bridge of %s", bridge.session.me)
                await close_bridge(key)
