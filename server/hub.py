"""The chat hub: what the server does with each frame, independent of how sockets are served.

Per connection: authenticate, then dispatch each frame by type.  Accepted messages are
committed to the store, then published through the fan-out; ``deliver`` (called on every
process for every event) sends each event, encoded once, to the local connections and feeds
the in-process agents.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast
from websockets.exceptions import ConnectionClosed

from agentchat_client import protocol as p
from .accounts import CLOSE_ACCOUNT_DISABLED, CLOSE_SESSION_ENDED, AccountChange, AccountError, AccountService
from .accounts.errors import AccountDisabled
from .auth import Identity
from .fanout import Event, Fanout
from .presence import Presence
from agentchat_client.protocol import ErrorCode, MessageType, ProtocolError, Role
from .ratelimit import RateLimiter
from .roster import Member, Roster
from .serialize import attachment_meta, encode_client_id, message_envelope, status_data
from .settings import Settings
from .store import AgentStatusRow, Message, Store

__all__ = ["ChatHub", "Client", "AgentInfo", "Question"]

log = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 1008
USERS_LIMIT = 1000
TYPING_MIN_INTERVAL = 1.0
PUBLIC_EVENTS = frozenset(
    {
        MessageType.MESSAGE,
        MessageType.AGENT_RESPONSE,
        MessageType.AGENT_STREAM,
        MessageType.STATUS_UPDATE,
        MessageType.USER_PRESENCE,
        MessageType.TYPING,
        MessageType.AGENT_QUESTION,
        MessageType.QUESTION_CLOSED,
    }
)


@dataclass(eq=False, slots=True)
class Client:
    """One WebSocket connection (a user may hold many)."""

    ws: ServerConnection
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    session_id: str = field(default_factory=lambda: secrets.token_hex(8))
    identity: Identity | None = None
    syncing: bool = False
    pending: list[Event] = field(default_factory=list)
    last_typing: float = 0.0
    dropping: bool = False

    @property
    def user_id(self) -> str | None:
        return self.identity.user_id if self.identity else None


@dataclass(slots=True)
class AgentInfo:
    name: str
    description: str = ""
    in_process: bool = True


@dataclass(slots=True)
class Question:
    question_id: str
    agent: str
    to: str
    choices: list[str]
    text: str
    reply_to: int | None
    frame: bytes
    deadline: float


StopCallback = Callable[[str, str], None]
"""Called with (agent name, who stopped it) on the agent-hosting process."""
MessageListener = Callable[[Event], None]


class ChatHub:
    def __init__(
        self,
        settings: Settings,
        secret: str,
        store: Store,
        fanout: Fanout,
        presence: Presence,
        limiter: RateLimiter,
        *,
        accounts: AccountService,
    ) -> None:
        self.settings = settings
        self.accounts = accounts
        self.secret = secret
        self.store = store
        self.fanout = fanout
        self.presence = presence
        self.limiter = limiter
        self.clients: set[Client] = set()
        # Broadcast targets: authenticated, caught up and not being dropped.  Kept up to date
        # as clients come and go, so a broadcast is one ``websockets.broadcast`` call.
        self.live: dict[ServerConnection, Client] = {}
        self.syncing: set[Client] = set()
        self._sent_since_sweep = False
        self.by_user: dict[str, set[Client]] = {}
        self.agents: dict[str, AgentInfo] = {}
        self.statuses: dict[str, dict[str, Any]] = {}
        self.questions: dict[str, Question] = {}
        self.listeners: list[MessageListener] = []
        self.stop_callbacks: list[StopCallback] = []
        self.question_waiters: dict[str, asyncio.Future[str | None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        # In-memory views so that authenticating costs no database round trip.
        self.roster = Roster()
        self.last_id = 0
        self.recent: deque[dict[str, Any]] = deque(maxlen=settings.initial_history)
        self.recent_has_older = False
        self._history_frame: bytes | None = None

    # lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        for row in await self.store.agent_statuses():
            self.statuses[row.agent] = status_data(row)
        users = await self.store.list_users()
        self.roster.load(Member(u.name, u.role, u.is_agent, u.last_seen) for u in users)
        for user in users:
            if user.is_agent and user.name not in self.agents:
                self.agents[user.name] = AgentInfo(user.name, in_process=False)
        rows, self.recent_has_older = await self.store.history(None, self.settings.initial_history)
        self.recent.extend(message_envelope(r) for r in rows)
        self.last_id = await self.store.latest_id()
        await self.presence.start(self._presence_changed)
        await self.fanout.start(self.deliver)
        self.accounts.subscribe(self._account_changed)
        self.spawn(self._sweep_slow_clients(), name="slow-client-sweep")
        # Shared presence (Redis): other processes list our agents, online while we live.
        hosted = {name: info.description for name, info in self.agents.items() if info.in_process}
        for name in await self.presence.register_agents(hosted, hosted=True):
            self._publish_presence(name, "online")

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

    # connection handling ------------------------------------------------------------------
    async def handle(self, ws: ServerConnection) -> None:
        client = Client(ws)
        self.clients.add(client)
        try:
            async for raw in ws:
                await self._dispatch(client, raw)
        except ConnectionClosed:
            pass
        finally:
            self.clients.discard(client)
            self.live.pop(ws, None)
            self.syncing.discard(client)
            await self._forget(client)

    async def _send(self, client: Client, frame: bytes) -> None:
        try:
            await client.ws.send(frame, text=True)
        except ConnectionClosed:
            pass

    async def _dispatch(self, client: Client, raw: str | bytes) -> None:
        ref = None
        try:
            kind, payload = p.decode_frame(raw)
            ref = getattr(payload, "id", None) if kind is MessageType.MESSAGE else None
            if kind is MessageType.PING:
                await self._send(client, p.pong_frame())
                return
            if kind is MessageType.AUTH:
                await self._auth(client, payload)  # type: ignore[arg-type]
                return
            if client.identity is None:
                raise ProtocolError(ErrorCode.NOT_AUTHENTICATED, "Send auth first")
            handler = self._handlers[kind]
            await handler(self, client, payload)
        except ProtocolError as exc:
            if ref is not None and "ref" not in exc.extra:
                exc.extra["ref"] = ref
            await self._send(client, exc.to_frame())
        except ConnectionClosed:
            raise
        except Exception:
            log.exception("error handling a frame from %s", client.user_id or "unauthenticated client")
            await self._send(
                client, p.error_frame(ErrorCode.INTERNAL_ERROR, "Something went wrong on the server; please try again")
            )

    # auth ----------------------------------------------------------------------------------
    async def _auth_failed(self, client: Client, code: ErrorCode, message: str) -> None:
        data = {"success": False, "error": {"code": code.value, "message": message}}
        await self._send(client, p.server_frame(MessageType.AUTH_RESPONSE, data))
        await self._send(client, p.error_frame(code, message))

    async def _auth(self, client: Client, data: p.AuthData) -> None:
        if client.identity is not None:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, "This connection is already authenticated")
        if not data.userId:
            await self._auth_failed(client, ErrorCode.MISSING_USER_ID, "userId is required")
            return
        try:
            identity = await self.accounts.authenticate(data.token, data.userId)
        except AccountError as exc:
            await self._auth_failed(client, ErrorCode.AUTH_FAILED, exc.message)
            return
        is_agent = identity.role is Role.AGENT
        if identity.user_id not in self.roster:
            user = await self.store.ensure_user(identity.user_id, identity.role.value, is_agent=is_agent)
            self.roster.add(Member(user.name, user.role, user.is_agent, user.last_seen))
        if is_agent and identity.user_id not in self.agents:
            self.register_agent(identity.user_id, in_process=False)
            await self.presence.register_agents({identity.user_id: ""}, hosted=False)

        # From here on the client receives broadcasts, held back until its catch-up is sent.
        client.identity = identity
        client.syncing = True
        self.syncing.add(client)
        self.by_user.setdefault(identity.user_id, set()).add(client)
        came_online = await self.presence.connect(identity.user_id, client.id)
        try:
            await self._send(client, p.server_frame(MessageType.AUTH_RESPONSE, await self._welcome(client)))
            last_sent = await self._catch_up(client, data.lastMessageId)
            for status in list(self.statuses.values()):
                await self._send(client, p.server_frame(MessageType.STATUS_UPDATE, status))
            for question in list(self.questions.values()):
                if question.to == identity.user_id:
                    await self._send(client, question.frame)
            # A reordering fan-out may still hold messages the catch-up read: let them pass first.
            await self.fanout.wait_delivered(last_sent)
            # Flush what arrived meanwhile, skipping messages the catch-up already sent.
            while client.pending:
                held, client.pending = client.pending, []
                for event in held:
                    if event.message_id is not None and event.message_id <= last_sent:
                        continue
                    await self._send(client, event.frame)
        finally:
            client.syncing = False
            self.syncing.discard(client)
            if not client.dropping and client in self.clients:
                self.live[client.ws] = client
        if came_online:
            self._publish_presence(identity.user_id, "online")
        log.info("%s authenticated as %s (%s)", client.id[:8], identity.user_id, identity.role.value)

    async def _welcome(self, client: Client) -> dict[str, Any]:
        assert client.identity is not None
        online = await self.presence.online()
        shared_agents = await self.presence.agents()  # agents hosted by other processes (Redis)
        hosted = [name for name, info in self.agents.items() if info.in_process]
        everyone_online = online.union(hosted)
        if len(everyone_online) <= USERS_LIMIT:
            users = sorted(everyone_online)
        else:  # a very large crowd: a sample, and the count
            users = list(islice(everyone_online, USERS_LIMIT))
        return {
            "success": True,
            "userId": client.identity.user_id,
            "role": client.identity.role.value,
            "sessionId": client.session_id,
            "agents": sorted(self.agents.keys() | shared_agents.keys()),
            "users": users,
            "onlineCount": len(everyone_online),
            "members": self.roster.snapshot(online, hosted),
            "lastMessageId": self.last_id,
        }

    async def _catch_up(self, client: Client, last_message_id: int | None) -> int:
        """Send recent history or the missed messages; return the newest id sent."""
        if last_message_id is None:
            # The same recent page for every newcomer until the next message: encoded once.
            if self._history_frame is None:
                frame = {"beforeId": None, "messages": list(self.recent), "hasMore": self.recent_has_older}
                self._history_frame = p.server_frame(MessageType.HISTORY, frame)
            newest = self.recent[-1]["data"]["id"] if self.recent else 0
            await self._send(client, self._history_frame)
            return newest
        rows, truncated = await self.store.after(last_message_id, self.settings.recovery_cap)
        info: dict[str, Any] = {"lastMessageId": last_message_id, "count": len(rows), "truncated": truncated}
        if truncated and rows:
            info["oldestId"] = rows[0].id
        await self._send(client, p.server_frame(MessageType.RECOVERY, info))
        for row in rows:
            await self._send(client, p.encode(message_envelope(row)))
        return rows[-1].id if rows else last_message_id  # type: ignore[return-value]

    async def _forget(self, client: Client) -> None:
        user_id = client.user_id
        if user_id is None:
            return
        peers = self.by_user.get(user_id)
        if peers is not None:
            peers.discard(client)
            if not peers:
                del self.by_user[user_id]
        if await self.presence.disconnect(user_id, client.id):
            now = p.utc_now()
            self.roster.seen(user_id, now)
            self._publish_presence(user_id, "offline", now)
            try:
                await self.store.touch_users([user_id], now)
            except Exception:
                log.exception("could not record last seen for %s", user_id)

    def _presence_changed(self, users: list[str], status: str) -> None:
        """Shared presence saw users change without a local connection event (a process died)."""
        now = p.utc_now()
        for user_id in users:
            if status == "offline":
                self.roster.seen(user_id, now)
            self._publish_presence(user_id, status, now if status == "offline" else None)
        if status == "offline":
            self.spawn(self._touch_quietly(users, now))

    async def _touch_quietly(self, users: list[str], when: Any) -> None:
        try:
            await self.store.touch_users(users, when)
        except Exception:
            log.exception("could not record last seen for %s", ", ".join(users))

    def _note_presence(self, data: dict[str, Any]) -> None:
        """Keep the roster current with presence from other processes (scale-out)."""
        user_id = data["userId"]
        if user_id not in self.roster:  # first seen on another process
            if isinstance(data.get("role"), str):
                self.roster.add(Member(user_id, data["role"], bool(data.get("isAgent")), None))
            else:
                self.spawn(self._learn_member(user_id))
        elif data.get("status") == "offline" and data.get("lastSeen"):
            self.roster.seen(user_id, datetime.fromisoformat(data["lastSeen"].replace("Z", "+00:00")))

    async def _learn_member(self, user_id: str) -> None:
        try:
            user = await self.store.get_user(user_id)
        except Exception:
            log.exception("could not load %s into the roster", user_id)
            return
        if user is not None and user_id not in self.roster:
            self.roster.add(Member(user.name, user.role, user.is_agent, user.last_seen))

    def _publish_presence(self, user_id: str, status: str, when: Any = None) -> None:
        now = p.iso(p.utc_now())
        member = self.roster.get(user_id)
        data = {"userId": user_id, "status": status, "lastSeen": p.iso(when) if when else None, "timestamp": now,
                "role": member.role if member else None, "isAgent": member.is_agent if member else user_id in self.agents}
        self.publish(MessageType.USER_PRESENCE, data)

    # account changes: the one place the hub meets the accounts service after auth ---------------
    def _account_changed(self, change: AccountChange) -> None:
        """Accounts service callback: carry the change to every process through the fan-out."""
        data: Any = change.frame_data()
        self.publish(MessageType.ACCOUNT_UPDATED, data, target_user=change.user_id)

    def apply_account_change(self, data: dict[str, Any]) -> None:
        """On every process, before the frame goes out: apply a change to the user's connections.

        The role changes at once (the next frame is judged by it); a disabled account's sockets
        close with 4003.  Every other connection of the user is re-checked against the accounts
        service, so a revoked session or agent key closes with 4001 within a database read.
        """
        user_id, disabled = data["userId"], bool(data.get("disabled"))
        self.accounts.forget(user_id)  # the change may come from another process
        member = self.roster.get(user_id)
        if member is not None:
            member.role = data["role"]
        for client in list(self.by_user.get(user_id, ())):
            identity = client.identity
            if identity is None:
                continue
            if disabled:
                self.spawn(client.ws.close(CLOSE_ACCOUNT_DISABLED, "account disabled"))
                continue
            if identity.role is not Role.AGENT and data.get("role") in Role.__members__.values():
                client.identity = Identity(identity.user_id, Role(data["role"]), identity.session_id, identity.key_id)
            self.spawn(self._recheck(client))

    async def _recheck(self, client: Client) -> None:
        identity = client.identity
        if identity is None:
            return
        try:
            client.identity = await self.accounts.recheck(identity)
        except AccountDisabled:
            await client.ws.close(CLOSE_ACCOUNT_DISABLED, "account disabled")
        except AccountError:
            await client.ws.close(CLOSE_SESSION_ENDED, "session ended")
        except Exception:
            log.exception("could not re-check %s's connection", identity.user_id)

    # publishing and delivery ------------------------------------------------------------------
    def publish(
        self,
        kind: MessageType,
        data: dict[str, Any],
        *,
        exclude_user: str | None = None,
        target_user: str | None = None,
    ) -> None:
        frame = p.server_frame(kind, data)
        self.fanout.publish(Event(kind, frame, exclude_user=exclude_user, target_user=target_user, _data=data))

    def _publish_row(self, row: Message) -> None:
        env = message_envelope(row)
        self.fanout.publish(Event(MessageType(env["type"]), p.encode(env), message_id=row.id, _data=env["data"]))

    def deliver(self, event: Event) -> None:
        """Send one event to the local connections it concerns, and run local side effects."""
        kind = event.kind
        if kind is MessageType.STATUS_UPDATE:
            self.statuses[event.data["userId"]] = event.data
        elif kind is MessageType.AGENT_QUESTION:
            data = event.data
            self.questions[data["questionId"]] = Question(
                data["questionId"], data["agent"], data["to"], list(data["choices"]), data["text"],
                data.get("replyTo"), event.frame,
                time.monotonic() + float(data["timeoutSeconds"]),
            )
        elif kind is MessageType.QUESTION_CLOSED:
            data = event.data
            self.questions.pop(data["questionId"], None)
            waiter = self.question_waiters.pop(data["questionId"], None)
            if waiter is not None and not waiter.done():
                waiter.set_result(data.get("answer") if data.get("status") == "answered" else None)
        elif kind is MessageType.USER_PRESENCE:
            self._note_presence(event.data)
        elif kind is MessageType.ACCOUNT_UPDATED:
            self.apply_account_change(event.data)
        elif kind is MessageType.STOP_AGENT:
            agent, by = event.data["agent"], event.data.get("by", "")
            for callback in list(self.stop_callbacks):
                try:
                    callback(agent, by)
                except Exception:
                    log.exception("stop callback failed for %s", agent)

        if event.target_user is not None or kind in PUBLIC_EVENTS:
            self._broadcast(event)

        if kind in (MessageType.MESSAGE, MessageType.AGENT_RESPONSE):
            self._remember(event)
            for listener in list(self.listeners):
                try:
                    listener(event)
                except Exception:
                    log.exception("message listener failed")

    def _remember(self, event: Event) -> None:
        """Keep the newest page in memory for newcomers (events arrive in id order)."""
        message_id = event.message_id or event.data.get("id") or 0
        if message_id <= self.last_id and self.recent and message_id <= self.recent[-1]["data"]["id"]:
            return  # already known (a replay)
        self.last_id = max(self.last_id, message_id)
        if self.recent.maxlen and len(self.recent) == self.recent.maxlen:
            self.recent_has_older = True
        self.recent.append({"type": event.kind.value, "data": event.data})
        self._history_frame = None

    def _broadcast(self, event: Event) -> None:
        """Encoded once, written to every target without awaiting any of them."""
        if event.target_user is not None:
            targets = self.by_user.get(event.target_user, ())
            for client in targets:
                if client.syncing:
                    client.pending.append(event)
            connections: Any = [c.ws for c in targets if c.ws in self.live]
        else:
            exclude = event.exclude_user
            for client in self.syncing:
                if client.user_id != exclude:
                    client.pending.append(event)
            connections = self.live if exclude is None else [
                ws for ws, c in self.live.items() if c.user_id != exclude
            ]
        if connections:
            broadcast(connections, event.frame, text=True)
            self._sent_since_sweep = True

    async def _sweep_slow_clients(self, interval: float = 0.2) -> None:
        """Disconnect clients whose unsent backlog passed the limit (they stopped reading)."""
        limit = self.settings.max_send_buffer_bytes
        while True:
            await asyncio.sleep(interval)
            if not self._sent_since_sweep:
                continue
            self._sent_since_sweep = False
            for ws, client in list(self.live.items()):
                transport = ws.transport
                if transport is not None and transport.get_write_buffer_size() > limit:
                    self._drop_slow(client)

    def _drop_slow(self, client: Client) -> None:
        if client.dropping:
            return
        client.dropping = True
        self.live.pop(client.ws, None)
        log.warning("closing %s's connection: it fell too far behind", client.user_id)
        self.spawn(client.ws.close(CLOSE_TOO_SLOW, "client too slow"))
        transport = client.ws.transport
        # The close frame cannot get through a full buffer: abort after a grace period.
        asyncio.get_running_loop().call_later(2.0, transport.abort)
        # ``handle`` forgets the client (presence, by_user) when its connection ends.

    # frame handlers ----------------------------------------------------------------------------
    async def _on_message(self, client: Client, data: p.ChatMessageData) -> None:
        identity = client.identity
        assert identity is not None
        if not identity.role.can_post:
            raise ProtocolError(ErrorCode.FORBIDDEN, "Viewers may read but not post")
        await self.post(
            identity.user_id, data.text, MessageType.MESSAGE, client_id=data.id, mentions=data.mentions,
            reply_to=data.replyTo, attachment_ids=data.attachments, rate_limited=identity.role is not Role.AGENT,
        )

    async def post(
        self,
        sender: str,
        text: str,
        kind: MessageType = MessageType.MESSAGE,
        *,
        client_id: int | str | None = None,
        mentions: list[str] | tuple[str, ...] = (),
        reply_to: int | None = None,
        attachment_ids: list[str] | tuple[str, ...] = (),
        agent_status: str | None = None,
        stream_id: str | None = None,
        extra: dict[str, Any] | None = None,
        rate_limited: bool = False,
    ) -> Message:
        """Validate, store, then broadcast one chat message or agent response."""
        limit = self.settings.max_message_chars
        if len(text) > limit:
            raise ProtocolError(
                ErrorCode.MESSAGE_TOO_LONG, f"Message is {len(text)} characters; the limit is {limit}"
            )
        if not text.strip() and not attachment_ids:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, "text: a message needs text or an attachment")
        if reply_to is not None and not await self.store.message_exists(reply_to):
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"replyTo: there is no message {reply_to}")
        attachments = []
        if attachment_ids:
            found = await self.store.get_attachments(attachment_ids)
            missing = set(attachment_ids) - {a.id for a in found}
            if missing:
                raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"attachments: unknown file id {sorted(missing)[0]!r}")
            attachments = [attachment_meta(a) for a in found]
        if rate_limited:
            wait = await self.limiter.acquire(sender)
            if wait > 0:
                wait = round(wait + 0.0005, 3)
                raise ProtocolError(
                    ErrorCode.RATE_LIMITED, f"Too many messages; try again in {wait:g} s", retryAfter=wait
                )
        draft = Message(
            kind=kind.value,
            sender=sender,
            text=text,
            mentions=p.parse_mentions(text, list(mentions)),
            reply_to=reply_to,
            is_command=text.lstrip().startswith("/"),
            agent_status=agent_status,
            attachments=attachments,
            client_id=encode_client_id(client_id),
            stream_id=stream_id,
            extra=extra or {},
            created_at=p.utc_now(),  # explicit: no default factory to run per message
        )
        return await self.store.append(draft, on_commit=self._publish_row)

    def _require_agent(self, client: Client, what: str) -> str:
        identity = client.identity
        assert identity is not None
        if identity.role is not Role.AGENT:
            raise ProtocolError(ErrorCode.FORBIDDEN, f"Only agents may send {what}")
        return identity.user_id

    async def _on_agent_response(self, client: Client, data: p.AgentResponseData) -> None:
        agent = self._require_agent(client, "agent_response")
        await self.post(
            agent, data.text, MessageType.AGENT_RESPONSE, client_id=data.id, mentions=data.mentions,
            reply_to=data.replyTo, attachment_ids=data.attachments,
            agent_status=data.agentStatus.value if data.agentStatus else None, stream_id=data.streamId,
        )

    async def _on_agent_stream(self, client: Client, data: p.AgentStreamData) -> None:
        agent = self._require_agent(client, "agent_stream")
        self.stream(agent, data.streamId, data.delta, data.replyTo)

    def stream(self, agent: str, stream_id: str, delta: str, reply_to: int | None) -> None:
        payload = {"streamId": stream_id, "sender": agent, "replyTo": reply_to, "delta": delta,
                   "timestamp": p.iso(p.utc_now())}
        self.publish(MessageType.AGENT_STREAM, payload)

    async def _on_status_update(self, client: Client, data: p.StatusUpdateData) -> None:
        agent = self._require_agent(client, "status_update")
        if data.userId not in (None, agent):
            raise ProtocolError(ErrorCode.FORBIDDEN, "An agent may only report its own status")
        await self.set_status(agent, data.status.value, data.currentTask, data.progress)

    async def set_status(self, agent: str, status: str, current_task: str | None, progress: float | None) -> None:
        row = AgentStatusRow(agent=agent, status=status, current_task=current_task, progress=progress,
                             updated_at=p.utc_now())
        self.publish(MessageType.STATUS_UPDATE, status_data(row))
        try:
            await self.store.save_agent_status(row)
        except Exception:
            log.exception("could not save the status of %s", agent)

    async def _on_history(self, client: Client, data: p.HistoryData) -> None:
        rows, has_more = await self.store.history(data.beforeId, data.limit)
        frame = {"beforeId": data.beforeId, "messages": [message_envelope(r) for r in rows], "hasMore": has_more}
        await self._send(client, p.server_frame(MessageType.HISTORY, frame))

    async def _on_search(self, client: Client, data: p.SearchData) -> None:
        rows = await self.store.search(data.query, data.limit)
        frame = {"query": data.query, "messages": [message_envelope(r) for r in rows]}
        await self._send(client, p.server_frame(MessageType.SEARCH, frame))

    async def _on_typing(self, client: Client, data: p.TypingData) -> None:
        identity = client.identity
        assert identity is not None
        if not identity.role.can_post:
            return
        now = time.monotonic()
        if data.typing and now - client.last_typing < TYPING_MIN_INTERVAL:
            return
        client.last_typing = now if data.typing else 0.0
        payload = {"userId": identity.user_id, "typing": data.typing, "timestamp": p.iso(p.utc_now())}
        self.publish(MessageType.TYPING, payload, exclude_user=identity.user_id)

    async def _on_stop_agent(self, client: Client, data: p.StopAgentData) -> None:
        identity = client.identity
        assert identity is not None
        if not identity.role.can_post:
            raise ProtocolError(ErrorCode.FORBIDDEN, "Viewers may not stop agents")
        if data.agent not in self.agents and data.agent not in await self.presence.agents():
            raise ProtocolError(ErrorCode.NOT_FOUND, f"No agent named {data.agent!r}")
        self.publish(MessageType.STOP_AGENT, {"agent": data.agent, "by": identity.user_id}, target_user=data.agent)

    async def _on_agent_question(self, client: Client, data: p.AgentQuestionData) -> None:
        agent = self._require_agent(client, "agent_question")
        self.ask(agent, data.to, data.text, data.choices, float(data.timeoutSeconds), data.replyTo, data.questionId)

    def ask(
        self,
        agent: str,
        to: str,
        text: str,
        choices: list[str],
        timeout: float,
        reply_to: int | None = None,
        question_id: str | None = None,
    ) -> str:
        """Publish a question from ``agent`` to user ``to``; returns its id."""
        question_id = question_id or "q-" + secrets.token_hex(6)
        payload = {
            "questionId": question_id, "agent": agent, "to": to, "text": text, "choices": list(choices),
            "timeoutSeconds": timeout, "replyTo": reply_to, "timestamp": p.iso(p.utc_now()),
        }
        self.question_waiters.setdefault(question_id, asyncio.get_running_loop().create_future())
        self.publish(MessageType.AGENT_QUESTION, payload)
        self.spawn(self._expire_question(question_id, timeout), name=f"question-{question_id}")
        return question_id

    async def wait_answer(self, question_id: str) -> str | None:
        """The chosen answer, or None on timeout or cancel (for in-process agents)."""
        future = self.question_waiters.get(question_id)
        if future is None:
            return None  # already closed
        return await future

    async def _expire_question(self, question_id: str, timeout: float) -> None:
        await asyncio.sleep(timeout)
        question = self.questions.get(question_id)
        if question is None:
            return
        self.close_question(question_id, "timeout")
        minutes = f"{timeout / 60:g} min" if timeout >= 60 else f"{timeout:g} s"
        text = f"@{question.to} did not answer within {minutes}, so I went on without it: \"{question.text}\""
        try:
            await self.post(question.agent, text, MessageType.AGENT_RESPONSE, reply_to=question.reply_to)
        except Exception:
            log.exception("could not report the timeout of question %s", question_id)

    def close_question(self, question_id: str, status: str, answer: str | None = None, by: str | None = None) -> None:
        payload = {"questionId": question_id, "status": status, "answer": answer, "answeredBy": by,
                   "timestamp": p.iso(p.utc_now())}
        self.publish(MessageType.QUESTION_CLOSED, payload)

    async def _on_question_answer(self, client: Client, data: p.QuestionAnswerData) -> None:
        identity = client.identity
        assert identity is not None
        question = self.questions.get(data.questionId)
        if question is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, "That question is no longer open")
        if question.to != identity.user_id:
            raise ProtocolError(ErrorCode.FORBIDDEN, f"This question is for {question.to}")
        if data.answer not in question.choices:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"answer: choose one of {', '.join(question.choices)}")
        self.close_question(data.questionId, "answered", data.answer, identity.user_id)

    _handlers: dict[MessageType, Callable[..., Awaitable[None]]] = {
        MessageType.MESSAGE: _on_message,
        MessageType.AGENT_RESPONSE: _on_agent_response,
        MessageType.AGENT_STREAM: _on_agent_stream,
        MessageType.STATUS_UPDATE: _on_status_update,
        MessageType.HISTORY: _on_history,
        MessageType.SEARCH: _on_search,
        MessageType.TYPING: _on_typing,
        MessageType.STOP_AGENT: _on_stop_agent,
        MessageType.AGENT_QUESTION: _on_agent_question,
        MessageType.QUESTION_ANSWER: _on_question_answer,
    }

    # shutdown ------------------------------------------------------------------------------------
    async def close_all(self, code: int = 1001, reason: str = "server shutting down") -> None:
        await asyncio.gather(*(c.ws.close(code, reason) for c in list(self.clients)), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()

    def stats(self) -> dict[str, Any]:
        return {"connections": len(self.clients), "users": len(self.by_user), "agents": len(self.agents)}

