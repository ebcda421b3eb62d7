"""The bridge: one WebSocket client connection per browser session to the companion server.

A ``Bridge`` runs a client ``Connection`` (``agentchat_client.connection``: connect,
authenticate with the user's JWT, reconnect with back-off, resume from the last message id seen,
so a server restart loses nothing on screen) and puts every frame it receives into a queue.
Bridges live in a module-level registry keyed by the Reflex client token: the connection is not
serialisable state.

The Reflex side (``ChatState.run_bridge``, a background event) drains the queue into the
session's ``ChatSession`` and copies what changed into state.  When no browser has
consumed a bridge for a while (the tab is gone), the bridge closes itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from agentchat_client.connection import Connection, NotConnected
from agentchat_client.protocol import MessageType
from agentchat_client.session import Backoff, ClientSession, LinkState

from .chat.models import ChatMessage
from .chat.session import LOCAL_CONNECTION, ChatSession, ConnectionState

__all__ = ["Bridge", "open_bridge", "get_bridge", "close_bridge", "close_all", "watch_browsers", "BACKOFF"]

log = logging.getLogger(__name__)

BACKOFF = Backoff(first=0.2, most=5.0, factor=2.0, jitter=0.2)
"""A person is waiting: retry quickly, never more than 5 s apart."""
DISCONNECTED_AFTER_FAILURES = 8
"""After this many failed attempts in a row the indicator says "Disconnected" (retries go on)."""
ORPHAN_TIMEOUT_SECONDS = 120.0
"""A bridge nobody reads for this long is closed."""
GONE_AFTER_SECONDS = 8.0
"""A bridge whose browser has had no socket to the app for this long is closed, so the
person shows as offline; a quick reconnect (a network blip, a reload) keeps it."""
REAP_EVERY_SECONDS = 2.0
QUEUE_LIMIT = 5000
ROOM_SCOPED = frozenset({MessageType.MESSAGE, MessageType.TYPING, MessageType.HISTORY})


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
        # What the browser already shows is where the first connect resumes.
        self.link = ClientSession(
            session.me, token, resume_from=session.last_message_id if session.loaded else None, backoff=BACKOFF
        )
        self.connection = Connection(
            url, self.link, self._push, on_state=self._on_link_state,
            open_timeout=5, ping_interval=15, ping_timeout=15,
        )

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        self.connection.start()

    async def close(self) -> None:
        self.closed = True
        await self.connection.close()
        self._push({"type": LOCAL_CONNECTION, "data": {"state": ConnectionState.DISCONNECTED}})

    @property
    def connected(self) -> bool:
        return self.link.is_live

    def _on_link_state(self, state: LinkState) -> None:
        if state is LinkState.AUTH_REJECTED:
            self.closed = True  # a refused auth_response already told the session why
            if "closeCode" in self.link.rejection:  # the server ended the session: no frame says so
                self._push({"type": "error", "data": dict(self.link.rejection)})
        elif state is LinkState.DISCONNECTED and not self.closed:
            shown = (ConnectionState.DISCONNECTED if self.link.failures > DISCONNECTED_AFTER_FAILURES
                     else ConnectionState.RECONNECTING)
            self._push({"type": LOCAL_CONNECTION, "data": {"state": shown}})

    # --- sending ------------------------------------------------------------------------
    async def send(self, message_type: MessageType, data: dict[str, Any]) -> bool:
        """Send one frame; False when not connected (the caller tells the user)."""
        if message_type in ROOM_SCOPED and "roomId" not in data:  # what is shown is the open room
            data = {**data, "roomId": self.session.room_id}
        try:
            await self.connection.send(message_type, data)
        except NotConnected:
            return False
        return True

    # --- receiving ----------------------------------------------------------------------
    def _push(self, frame: dict[str, Any]) -> None:
        if self.queue.qsize() >= QUEUE_LIMIT:
            # Nobody is reading (the tab is gone): forget the backlog, re-sync when one comes
            # (the next connect asks for a fresh page instead of resuming).
            self.overflowed = True
            self.link.lose_track()
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
