"""The open connections, indexed for delivery, and the sweep that drops the ones that fell behind.

Indexes mirror ``core.routing.accepts_event``: ``live`` (every connection receiving frames
directly), ``catching_up`` (they hold frames until their catch-up is written) and ``by_user``.
A broadcast encodes nothing (the event's frame is encoded once where it was made, its WebSocket
frame once here) and awaits nothing: ``FrameWriter`` writes to every target's buffer, one write per
socket per commit batch; a target whose buffer grows past the limit is closed by the sweep, so one
slow reader never delays anyone else.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sys
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from agentchat_client.protocol import GENERAL

from ..core.connection import CLOSE_POLICY, CloseDecision, ConnectionCore, ConnectionLimits, ConnState
from ..core.events import Event
from ..core.identity import Identity
from ..core.rooms import RoomDirectory
from ..core.routing import PUBLIC_EVENTS
from .frames_out import FrameWriter, text_frame

__all__ = ["Conn", "Connections"]

log = logging.getLogger(__name__)
ABORT_GRACE_SECONDS = 2.0
_HANDSHAKE_DONE = Response(101, "Switching Protocols", Headers())


@lru_cache(maxsize=16)
def _handshake_done(path: str) -> Request:
    return Request(path, Headers())


def release_handshake(ws: ServerConnection) -> None:
    """Let go of the opening handshake's request and response once the connection is open.

    websockets keeps both on the connection for its whole life: every header the client sent
    (a browser's cookies and user agent included) and the response's: 1.7 KB of memory per idle
    connection with the benchmark's client, more with a browser's. Nothing reads them after
    the handshake (origin and path are checked before it), so each connection points at shared
    stand-ins that keep only the path; websockets needs ``request`` to stay set (None would
    mean "handshake still to come").
    """
    request = getattr(ws, "request", None)
    if isinstance(request, Request):
        ws.request = _handshake_done(urlsplit(request.path).path)
    if isinstance(getattr(ws, "response", None), Response):
        ws.response = _HANDSHAKE_DONE


@dataclass(eq=False, slots=True)
class Conn:
    """A socket and its state machine."""

    ws: ServerConnection
    core: ConnectionCore
    address: str | None = None
    in_flight: deque[asyncio.Future[Any]] | None = None
    """Its messages accepted but not committed yet (``pipeline``); None while there are none."""

    @property
    def session_id(self) -> str:
        """This connection's id, as the client is told it (``sessionId`` of ``auth_response``)."""
        return self.core.id

    @property
    def state(self) -> ConnState:
        return self.core.state

    @property
    def user_id(self) -> str | None:
        return self.core.user_id

    @property
    def identity(self) -> Identity | None:
        return self.core.identity


class Connections:
    def __init__(self, limits: ConnectionLimits, max_send_buffer: int, rooms: RoomDirectory | None = None) -> None:
        self.limits = limits
        self.rooms = rooms if rooms is not None else RoomDirectory()
        self.max_send_buffer = max_send_buffer
        self.all: set[Conn] = set()
        self.connecting: set[Conn] = set()
        self.catching_up: set[Conn] = set()
        self.live: dict[ServerConnection, Conn] = {}
        self.by_user: dict[str, dict[Conn, None]] = {}
        """Each person's connections (dicts as ordered sets: half a set's memory per connection)."""
        self.by_address: Counter[str] = Counter()
        self._sent_since_sweep = False
        self._closing: set[asyncio.Task[None]] = set()
        self.writer = FrameWriter()
        self.batch = self.writer.batch
        """Announce a commit batch inside this: each socket gets its share of it in one write."""

    # membership --------------------------------------------------------------------------
    def open(self, ws: ServerConnection, now: float) -> Conn:
        release_handshake(ws)
        remote = ws.remote_address
        # Interned: thousands of connections from one address share one string.
        address = sys.intern(str(remote[0])) if isinstance(remote, tuple) and remote else None
        # 64 random bits: unique across processes (presence counts connections by id).
        conn = Conn(ws, ConnectionCore(secrets.token_hex(8), now, self.limits), address)
        self.all.add(conn)
        self.connecting.add(conn)
        if address is not None:
            self.by_address[address] += 1
        return conn

    def authenticated(self, conn: Conn, identity: Identity) -> None:
        peers = self.by_user.setdefault(identity.user_id, {})
        for peer in peers:  # the same person in another tab: one Identity object for both
            same = peer.identity
            if same is not None and same == identity:
                identity = same
            break
        conn.core.authenticated(identity)
        self.connecting.discard(conn)
        peers[conn] = None

    def start_catch_up(self, conn: Conn, now: float) -> None:
        conn.core.start_catch_up(now)
        self.catching_up.add(conn)

    def went_live(self, conn: Conn) -> None:
        self.catching_up.discard(conn)
        if conn.state is ConnState.LIVE and conn in self.all:
            self.live[conn.ws] = conn

    def forget(self, conn: Conn) -> None:
        """Drop every trace of a closed connection."""
        if conn not in self.all:
            return
        self.all.discard(conn)
        self.connecting.discard(conn)
        self.catching_up.discard(conn)
        self.live.pop(conn.ws, None)
        if conn.address is not None:
            self.by_address[conn.address] -= 1
            if self.by_address[conn.address] <= 0:
                del self.by_address[conn.address]
        user = conn.user_id
        peers = self.by_user.get(user) if user is not None else None
        if peers is not None:
            peers.pop(conn, None)
            if not peers:
                del self.by_user[user]  # type: ignore[arg-type]

    def of_user(self, user_id: str) -> list[Conn]:
        return list(self.by_user.get(user_id, ()))

    # delivery ----------------------------------------------------------------------------
    def route(self, event: Event) -> tuple[list[Conn], Iterable[ServerConnection]]:
        """Who gets ``event``: connections catching up (to hold it) and sockets to write it to now.

        The indexes' answer to ``core.routing.accepts_event`` for every connection (tested equal);
        a room's event costs in proportion to its members, not to every connection.
        """
        if event.target_user is not None:
            targets = self.by_user.get(event.target_user, ())
            hold = [c for c in targets if c.state is ConnState.CATCHING_UP]
            return hold, [c.ws for c in targets if c.state is ConnState.LIVE]
        if event.kind not in PUBLIC_EVENTS:
            return [], ()
        exclude = event.exclude_user
        if event.room is not None and event.room != GENERAL:
            members = self.rooms.members_of(event.room)
            if not members:
                return [], ()
            conns = [c for user in members if user != exclude for c in self.by_user.get(user, ())]
            return ([c for c in conns if c.state is ConnState.CATCHING_UP],
                    [c.ws for c in conns if c.state is ConnState.LIVE])
        hold = [c for c in self.catching_up if c.user_id != exclude]
        if exclude is None:
            return hold, self.live
        return hold, [ws for ws, c in self.live.items() if c.user_id != exclude]

    def deliver(self, event: Event) -> None:
        """Write ``event`` to every connection that accepts it, holding it for those catching up."""
        hold, sockets = self.route(event)
        for conn in hold:
            self._hold(conn, event)
        if sockets:
            self.writer.write(sockets, event.frame, text_frame(event.frame))
            self._sent_since_sweep = True

    def _hold(self, conn: Conn, event: Event) -> None:
        decision = conn.core.hold(event)
        if decision is not None:
            self.drop(conn, decision)

    # closing -----------------------------------------------------------------------------
    def retire(self, conn: Conn) -> bool:
        """Stop delivering to ``conn`` (it is closing); False if it already was."""
        self.live.pop(conn.ws, None)
        self.catching_up.discard(conn)
        if conn.state is ConnState.CLOSING:
            return False
        conn.core.closing()
        return True

    def drop(self, conn: Conn, decision: CloseDecision) -> None:
        """Close ``conn`` now with ``decision``'s code; abort it if the close cannot get through."""
        if not self.retire(conn):
            return
        log.warning("closing %s's connection: %s", conn.user_id or "an unauthenticated client", decision.reason)
        task = asyncio.ensure_future(conn.ws.close(decision.code, decision.reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        transport = conn.ws.transport
        if transport is not None:
            # A full buffer never lets the close frame through: abort after a grace period.
            asyncio.get_running_loop().call_later(ABORT_GRACE_SECONDS, transport.abort)

    def sweep(self, now: float) -> None:
        """Close what fell behind: full send buffers, overdue catch-ups, sockets that never authenticated."""
        for conn in list(self.connecting):
            decision = conn.core.auth_overdue(now)
            if decision is not None:
                self.drop(conn, decision)
        for conn in list(self.catching_up):
            decision = conn.core.catch_up_overdue(now) or self._buffer_check(conn)
            if decision is not None:
                self.drop(conn, decision)
        if not self._sent_since_sweep:
            return
        self._sent_since_sweep = False
        for conn in list(self.live.values()):
            decision = self._buffer_check(conn)
            if decision is not None:
                self.drop(conn, decision)

    def _buffer_check(self, conn: Conn) -> CloseDecision | None:
        transport = conn.ws.transport
        if transport is not None and transport.get_write_buffer_size() > self.max_send_buffer:
            return ConnectionCore.too_slow()
        return None

    async def close_all(self, code: int, reason: str) -> None:
        await asyncio.gather(*(c.ws.close(code, reason) for c in list(self.all)), return_exceptions=True)

    def too_many(self, conn: Conn, limit_per_user: int) -> CloseDecision | None:
        user = conn.user_id
        if user is not None and len(self.by_user.get(user, ())) > limit_per_user:
            return CloseDecision(CLOSE_POLICY, f"too many connections for {user} (limit {limit_per_user})")
        return None
