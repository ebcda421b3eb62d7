"""``Hub``: the asyncio shell around the core — it reads frames, asks the core, and pumps.

Per connection: decode each frame, let the connection's state machine say whether it may be
sent now, and hand it to its handler (``handlers.py``).  Authentication moves the connection
through CATCHING_UP (history or recovery written, live frames held) to LIVE.  ``deliver`` runs on
every process for every event coming out of the fan-out: it updates what this process knows
(``core.view``, the roster) and writes the event to the local connections that accept it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection, broadcast
from websockets.exceptions import ConnectionClosed

from agentchat_client.protocol import (
    AgentMode,
    AuthFailed,
    ErrorCode,
    MessageType,
    ProtocolError,
    RecoveryInfo,
    Role,
    RoomKind,
    decode_frame,
    error_frame,
    pong_frame,
    server_frame,
)

from ..core.connection import CLOSE_POLICY, CloseDecision, ConnectionLimits
from ..core.events import Event
from ..core.policy import Limits
from ..core.rooms import Room, RoomDirectory, room_from_summary
from ..core.view import ChatView
from ..core.roster import Member, Roster
from ..core.welcome import welcome
from ..backends import AgentDirectory, Fanout, Presence, RateLimiter
from ..serialize import message_envelope, message_event, status_data
from ..settings import Settings
from ..store import Store
from .connections import Conn, Connections
from .account_changes import AccountChanges
from .handlers import HANDLERS
from .people import People
from .rooms import RoomService
from .runs import RunService
from .service import ChatService
from .usage import UsageService
from .tokens import Authenticator, AuthRefused

if TYPE_CHECKING:
    from ..accounts import AccountService

__all__ = ["Hub", "AgentInfo", "StopCallback", "MessageListener"]

log = logging.getLogger(__name__)

SWEEP_SECONDS = 0.2
_REF_FIELDS = {
    MessageType.MESSAGE: "id",
    MessageType.AGENT_EVENT: "runId",
    MessageType.RUN_QUEUED: "runId",
    MessageType.APPROVAL_REQUEST: "toolCallId",
    MessageType.APPROVAL_DECISION: "approvalId",
}
"""An error about one of these frames carries this field as ``ref``, so the sender knows which."""
_RUN_KINDS = frozenset({MessageType.AGENT_EVENT, MessageType.RUN_QUEUED, MessageType.APPROVAL_REQUEST,
                        MessageType.APPROVAL_RESOLVED})

StopCallback = Callable[[str, str], None]
"""Called with (agent name, who stopped it) on the agent-hosting process."""
MessageListener = Callable[[Event], None]


@dataclass(slots=True)
class AgentInfo:
    name: str
    description: str = ""
    in_process: bool = True


def limits_from(settings: Settings) -> tuple[Limits, ConnectionLimits]:
    return (
        Limits(
            max_message_chars=settings.max_message_chars,
            max_connections_per_user=settings.max_connections_per_user,
            max_connections_per_address=settings.max_connections_per_address,
        ),
        ConnectionLimits(
            auth_timeout=settings.auth_timeout_seconds,
            catch_up_timeout=settings.catch_up_timeout_seconds,
            catch_up_hold_bytes=settings.max_send_buffer_bytes,
        ),
    )


class Hub:
    def __init__(
        self,
        settings: Settings,
        authenticate: Authenticator,
        store: Store,
        fanout: Fanout,
        presence: Presence,
        limiter: RateLimiter,
        directory: AgentDirectory,
        *,
        accounts: AccountService | None = None,
    ) -> None:
        self.settings = settings
        self.authenticate = authenticate
        self.store = store
        self.fanout = fanout
        self.presence = presence
        self.limiter = limiter
        self.directory = directory
        self.accounts = accounts
        self.limits, connection_limits = limits_from(settings)
        self.rooms = RoomDirectory()
        self.connections = Connections(connection_limits, settings.max_send_buffer_bytes, self.rooms)
        # A commit batch is announced as a whole: each socket gets its share in one write.
        store.announce_scope = self.connections.batch
        self.view = ChatView(settings.initial_history)
        self.roster = Roster()
        self.agents: dict[str, AgentInfo] = {}
        self.listeners: list[MessageListener] = []
        self.stop_callbacks: list[StopCallback] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self.service = ChatService(store, fanout, self.view, self.rooms, limiter, self.limits, self.spawn)
        self.room_service = RoomService(store, fanout, self.rooms, self.view, self.lookup_user)
        self.runs = RunService(store, self.rooms, self.service.publish, self.spawn, self.service.check_reply_to,
                               self.service.check_thread, self.service.stream)
        self.runs.online = self._online
        self.people = People(self.roster, presence, store, self.service.publish, self.spawn,
                             lambda name: name in self.agents)
        self.usage = UsageService(store, self.service.publish)
        self.account_changes = AccountChanges(accounts, self.connections, self.roster, self.service.publish, self.spawn)

    # lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self.view.load_statuses([status_data(row) for row in await self.store.agent_statuses()])
        users = await self.store.list_users()
        self.roster.load(Member(u.name, u.role, u.is_agent, u.last_seen) for u in users)
        for user in users:
            if user.is_agent and user.name not in self.agents:
                self.agents[user.name] = AgentInfo(user.name, in_process=False)
        self.rooms.load(
            Room(r.room_id, r.name, RoomKind(r.kind), r.created_by, frozenset(r.members),
                 tuple((a, AgentMode(m)) for a, m in sorted(r.agent_modes.items())))
            for r in await self.store.list_rooms()
        )
        rows, has_older = await self.store.history(None, self.settings.initial_history)
        self.view.load([message_envelope(r) for r in rows], has_older, await self.store.latest_id())
        await self.runs.load()
        await self.presence.start(self.people.changed)
        await self.fanout.start(self.deliver)
        # Runs left open by the last process: those of agents hosted here died with it.
        self.runs.watch_orphans({name for name, info in self.agents.items() if info.in_process})
        if self.accounts is not None:
            self.accounts.subscribe(self.account_changes.reported)
        self.spawn(self._sweep(), "connection-sweep")
        # Agents hosted here are known everywhere, and online exactly while this process lives.
        hosted = {name: info.description for name, info in self.agents.items() if info.in_process}
        await self.directory.register(hosted)
        for name in hosted:
            if await self.presence.connect(name, f"agent:{name}"):
                self.people.announce(name, "online")

    def spawn(self, coro: Awaitable[Any], name: str | None = None) -> asyncio.Task[Any]:
        """Run ``coro`` in the background, keeping a reference so it is not collected."""
        task = asyncio.ensure_future(coro)
        if name:
            task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def register_agent(self, name: str, description: str = "", in_process: bool = True) -> None:
        self.agents[name] = AgentInfo(name, description, in_process)

    async def close_all(self, code: int = 1001, reason: str = "server shutting down") -> None:
        await self.connections.close_all(code, reason)
        for task in list(self._tasks):
            task.cancel()

    def stats(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "connections": len(self.connections.all),
            "users": len(self.connections.by_user),
            "agents": len(self.agents),
        }

    @property
    def by_user(self) -> dict[str, dict[Conn, None]]:
        return self.connections.by_user

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            self.connections.sweep(time.monotonic())

    # one connection ----------------------------------------------------------------------
    async def handle(self, ws: ServerConnection) -> None:
        conn = self.connections.open(ws, time.monotonic())
        address = conn.address
        if address is not None and self.connections.by_address[address] > self.limits.max_connections_per_address:
            limit = self.limits.max_connections_per_address
            self.connections.drop(conn, CloseDecision(CLOSE_POLICY, f"too many connections from {address} (limit {limit})"))
        try:
            async for raw in ws:
                await self._dispatch(conn, raw)
        except ConnectionClosed:
            pass
        finally:
            conn.core.closing()
            self.connections.forget(conn)
            if conn.user_id is not None:
                await self._disconnected(conn)

    def write_now(self, conn: Conn, frames: list[bytes]) -> None:
        """Write ``frames`` to ``conn`` at once, in order, before any live frame that follows."""
        for frame in frames:
            broadcast([conn.ws], frame, text=True)

    async def send(self, conn: Conn, frame: bytes) -> None:
        try:
            await conn.ws.send(frame, text=True)
        except ConnectionClosed:
            pass

    async def _dispatch(self, conn: Conn, raw: str | bytes) -> None:
        ref = None
        try:
            kind, payload = decode_frame(raw)
            if kind in _REF_FIELDS:
                ref = getattr(payload, _REF_FIELDS[kind], None)
            conn.core.check_frame(kind)
            if kind is MessageType.PING:
                await self.send(conn, pong_frame())
            elif kind is MessageType.AUTH:
                await self._auth(conn, payload)  # type: ignore[arg-type]
            else:
                await HANDLERS[kind](self, conn, payload)
        except ProtocolError as exc:
            if ref is not None and "ref" not in exc.extra:
                exc.extra["ref"] = ref
            await self.send(conn, exc.to_frame())
        except ConnectionClosed:
            raise
        except Exception:
            log.exception("error handling a frame from %s", conn.user_id or "an unauthenticated client")
            await self.send(conn, error_frame(ErrorCode.INTERNAL_ERROR, "Something went wrong on the server; please try again"))

    # authentication and catch-up ---------------------------------------------------------
    async def _refuse(self, conn: Conn, code: ErrorCode, message: str) -> None:
        data: AuthFailed = {"success": False, "error": {"code": code.value, "message": message}}
        await self.send(conn, server_frame(MessageType.AUTH_RESPONSE, data))
        await self.send(conn, error_frame(code, message))

    async def _auth(self, conn: Conn, data: Any) -> None:
        if not data.userId:
            await self._refuse(conn, ErrorCode.MISSING_USER_ID, "userId is required")
            return
        try:
            identity = await self.authenticate(data.token, data.userId)
        except AuthRefused as exc:
            await self._refuse(conn, exc.code, exc.message)
            return
        user_id = identity.user_id
        limit = self.limits.max_connections_per_user
        if len(self.connections.by_user.get(user_id, ())) >= limit:
            message = f"Too many connections for {user_id} (limit {limit}); close another tab or client"
            await self._refuse(conn, ErrorCode.FORBIDDEN, message)
            self.connections.drop(conn, CloseDecision(CLOSE_POLICY, f"too many connections for {user_id}"))
            return
        if user_id not in self.roster:
            user = await self.store.get_user(user_id) if self.accounts is not None else None
            if user is None:  # no accounts service (tests), or a name only a token vouches for
                user = await self.store.ensure_user(user_id, identity.role.value, is_agent=identity.is_agent)
            self.roster.add(Member(user.name, user.role, user.is_agent, user.last_seen))
        if identity.is_agent and user_id not in self.agents:
            self.register_agent(user_id, in_process=False)
            await self.directory.register({user_id: ""})

        # From here on the connection receives events, held until its catch-up is written.
        self.connections.authenticated(conn, identity)
        self.connections.start_catch_up(conn, time.monotonic())
        # Runs in progress as of now (no await since): everything later is held for this connection.
        runs_so_far = self.runs.catch_up_frames()
        came_online = await self.presence.connect(user_id, conn.core.id)
        try:
            await self._welcome(conn)
            rooms = await self.room_service.list_for(user_id)
            await self.send(conn, server_frame(MessageType.ROOMS, {"rooms": rooms}))
            caught_up_to = await self._catch_up(conn, data.lastMessageId)
            for status in list(self.view.statuses.values()):
                await self.send(conn, server_frame(MessageType.STATUS_UPDATE, status))
            mine = self.rooms.member_room_ids(user_id)
            for question in self.view.questions.for_user(user_id):
                if question.room_id in mine:
                    await self.send(conn, question.frame)
            for frame in self.runs.visible_to(runs_so_far, mine):
                await self.send(conn, frame)
            # A reordering fan-out may still hold messages the catch-up read: let them pass first.
            await self.fanout.wait_delivered(caught_up_to)
            while frames := conn.core.take_held(caught_up_to):
                for frame in frames:
                    await self.send(conn, frame)
            conn.core.go_live()
        finally:
            self.connections.went_live(conn)
        if came_online:
            self.people.announce(user_id, "online")
        log.info("%s authenticated as %s (%s)", conn.core.id[:8], user_id, identity.role.value)

    async def _welcome(self, conn: Conn) -> None:
        assert conn.identity is not None
        hosted = [name for name, info in self.agents.items() if info.in_process]
        data = welcome(conn.identity, conn.session_id, await self.presence.online(), hosted, self.roster,
                       self.view.last_id)
        await self.send(conn, server_frame(MessageType.AUTH_RESPONSE, data))

    async def _catch_up(self, conn: Conn, last_message_id: int | None) -> int:
        """Send recent history or the missed messages; return the newest id sent."""
        if last_message_id is None:
            frame, newest = self.view.newest_page_frame()
            await self.send(conn, frame)
            return newest
        assert conn.user_id is not None
        rooms = self.rooms.member_room_ids(conn.user_id)
        rows, truncated = await self.store.after(last_message_id, self.settings.recovery_cap, rooms)
        info: RecoveryInfo = {"lastMessageId": last_message_id, "count": len(rows), "truncated": truncated}
        if truncated and rows:
            info["oldestId"] = rows[0].id  # type: ignore[typeddict-item]
        await self.send(conn, server_frame(MessageType.RECOVERY, info))
        for row in rows:
            await self.send(conn, message_event(row).frame)
        return rows[-1].id if rows and rows[-1].id is not None else last_message_id

    # delivery ------------------------------------------------------------------------------
    def deliver(self, event: Event) -> None:
        """One event out of the fan-out: update what this process knows, then write it out."""
        kind = event.kind
        if kind is MessageType.ROOM:
            self.rooms.put(room_from_summary(event.data["room"]))
        self.view.apply(event)
        if kind in _RUN_KINDS:
            self.runs.delivered(event)
        elif kind is MessageType.QUESTION_CLOSED:
            self.service.question_closed(event.data)
        elif kind is MessageType.USER_PRESENCE:
            self.people.noted(event.data)
        elif kind is MessageType.ACCOUNT_UPDATED:
            self.account_changes.apply(event.data)
        elif kind is MessageType.STOP_AGENT:
            agent, by = event.data["agent"], event.data.get("by", "")
            for callback in list(self.stop_callbacks):
                try:
                    callback(agent, by)
                except Exception:
                    log.exception("stop callback failed for %s", agent)
        self.connections.deliver(event)
        if kind in (MessageType.MESSAGE, MessageType.AGENT_RESPONSE):
            for listener in list(self.listeners):
                try:
                    listener(event)
                except Exception:
                    log.exception("message listener failed")

    async def _disconnected(self, conn: Conn) -> None:
        user_id = conn.user_id
        assert user_id is not None
        is_agent = conn.identity is not None and conn.identity.is_agent
        await self.people.disconnected(user_id, conn.core.id, (lambda: self.runs.agent_offline(user_id)) if is_agent else None)

    async def lookup_user(self, name: str) -> bool | None:
        """True for an agent, False for a person, None for nobody the chat knows."""
        member = self.roster.get(name)
        if member is not None:
            return member.is_agent
        if name in self.agents:
            return True
        user = await self.store.get_user(name)
        return None if user is None else user.is_agent
    async def _online(self, user_id: str) -> bool:
        return user_id in await self.presence.online()

    async def known_agent(self, name: str) -> bool:
        return name in self.agents or name in await self.directory.all()

    def role_of(self, conn: Conn) -> Role:
        assert conn.identity is not None
        return conn.identity.role
