"""One signed-in browser session's view of the chat, driven by protocol frames.

``ChatSession.apply(frame)`` is pure (no sockets, no Reflex): it updates the model and
returns which display fields changed plus side effects (toasts, a draft to restore).  The
Reflex state copies only the changed fields, so a presence update does not re-send the
message list.  The session object lives in the bridge registry, outside serialisable state.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from agentchat_client.protocol import AgentState, ErrorCode, MessageType

from .convert import excerpt, last_seen_label, to_member, to_message, to_question
from .errors import friendly_error, rate_limit_text
from .models import ChatMessage, Member, Question
from .banner import LinkBanner
from .outbox import Outbox
from .search import SearchBox
from .room_session import RoomSession
from .runs import RunBoard
from .updates import room_of, thread_of, with_state
from .window import DEFAULT_CAP

__all__ = ["ChatSession", "Changes", "ConnectionState", "LOCAL_CONNECTION", "Notice", "TYPING_TTL_SECONDS"]

TYPING_TTL_SECONDS = 6.0
MAX_QUESTIONS = 20
RATE_NOTICE_MIN_SECONDS = 2.5
"""A rate-limit notice stays at least this long, even when the wait itself is shorter."""
PRESENCE_UNKNOWN = "status unknown while reconnecting"
LOCAL_CONNECTION = "_connection"
"""Not a wire type: the bridge reports its own connection state with it."""


class ConnectionState:
    CONNECTING = "Connecting"
    CONNECTED = "Connected"
    RECONNECTING = "Reconnecting"
    DISCONNECTED = "Disconnected"


@dataclasses.dataclass(frozen=True)
class Notice:
    """A mention or a direct message elsewhere: what a desktop notification says."""

    title: str
    body: str
    tag: str


@dataclasses.dataclass
class Changes:
    fields: set[str] = dataclasses.field(default_factory=set)
    toasts: list[str] = dataclasses.field(default_factory=list)
    notices: list[Notice] = dataclasses.field(default_factory=list)
    """Desktop notifications for news in rooms that are not open (the open room's messages are
    noticed on the page itself, by ``assets/agentchat_notify.js``)."""
    restore_draft: str = ""
    auth_failed: bool = False

    def merge(self, other: Changes) -> None:
        self.fields |= other.fields
        self.toasts += other.toasts
        self.notices += other.notices
        self.restore_draft = other.restore_draft or self.restore_draft
        self.auth_failed = self.auth_failed or other.auth_failed


class ChatSession(RoomSession):
    def __init__(self, me: str, role: str, cap: int = DEFAULT_CAP, clock: Callable[[], float] = time.monotonic) -> None:
        self.me = me
        self.role = role
        self.runs = RunBoard(me, lambda: self.role)
        """Agent runs and approvals (``chat/runs.py``)."""
        self.ended_streams: dict[str, None] = {}
        """Streams whose final answer arrived: a late delta must not open them again."""
        self.clock = clock
        self._init_rooms(cap)
        """Rooms, one window per room, the open thread (``room_session.py``)."""
        self.members: dict[str, Member] = {}
        self.agents: set[str] = set()
        self.typing: dict[str, float] = {}
        self.questions: list[Question] = []
        self.connection = ConnectionState.CONNECTING
        self.error = ""
        self.rate_limited_until = 0.0
        self.rate_notice_until = 0.0
        self.last_message_id: int | None = None
        self.pending_sends: dict[int, str] = {}
        self.outbox = Outbox(me)
        """My messages not confirmed yet (``chat/outbox.py``): shown as "pending"."""
        self.banner = LinkBanner()
        """"Reconnecting…", then "Back online" (``chat/banner.py``)."""
        self.search = SearchBox()
        """The header's search: the newest question and its results (``chat/search.py``)."""
        self.jump_before: int | None = None
        """A search result not on screen: the history page before this id (the result and a few
        after it) replaces the window."""
        self.loaded = False
        """The first history page arrived: later messages are live (they may notify)."""
        self.loading_earlier = False

    def seed(self, shown: list[ChatMessage], has_more: bool) -> None:
        """Start from what the browser already shows, so the first connect asks for an exact
        replay after its newest message (``lastMessageId``) instead of a fresh page."""
        if not shown:
            return
        self.rooms.current = shown[-1].room_id
        self.loaded_rooms.add(self.rooms.current)
        self.window.reset(list(shown), has_more)
        ids = [m.id for m in shown if m.id]
        if ids:
            self.last_message_id = max(ids)
            self.loaded = True

    # --- outgoing bookkeeping ---------------------------------------------------------------
    def new_client_id(self, text: str) -> int:
        client_id = time.time_ns() // 1000
        while client_id in self.pending_sends:
            client_id += 1
        self.pending_sends[client_id] = text
        if len(self.pending_sends) > 50:
            self.pending_sends.pop(next(iter(self.pending_sends)))
        return client_id

    # --- display values ---------------------------------------------------------------------
    def member_list(self) -> list[Member]:
        """Agents first, then people online, then everyone else; alphabetical within.  While the
        link is down nobody's presence is known: nobody is shown online (``PRESENCE_UNKNOWN``)."""
        members = list(self.members.values())
        if self.connection != ConnectionState.CONNECTED:
            members = [dataclasses.replace(m, online=False, last_seen=PRESENCE_UNKNOWN) for m in members]
        return sorted(members, key=lambda m: (not m.is_agent, not m.online, m.user_id.lower()))

    def typing_text(self) -> str:
        names = sorted(self.typing)
        if not names:
            return ""
        if len(names) == 1:
            return f"{names[0]} is typing…"
        if len(names) == 2:
            return f"{names[0]} and {names[1]} are typing…"
        return f"{names[0]}, {names[1]} and {len(names) - 2} more are typing…"

    @property
    def needs_tick(self) -> bool:
        return bool(self.typing) or self.rate_limited_until > 0 or self.banner.needs_tick

    def tick(self) -> Changes:
        """Expire typing indicators and count the rate-limit message down."""
        changes = Changes()
        now = self.clock()
        expired = [name for name, until in self.typing.items() if until <= now]
        for name in expired:
            del self.typing[name]
        if expired:
            changes.fields.add("typing")
        if self.banner.tick(now):
            changes.fields.add("banner")
        if self.rate_limited_until:
            left = self.rate_limited_until - now
            if left > 0:
                self.error = rate_limit_text(left)
            elif now < self.rate_notice_until:
                self.error = rate_limit_text(0)  # "...send again now", kept long enough to read
            else:
                self.rate_limited_until = 0.0
                self.error = ""
            changes.fields.add("error")
        return changes

    # --- incoming frames --------------------------------------------------------------------
    def apply(self, frame: dict[str, Any]) -> Changes:
        kind = frame.get("type")
        data = frame.get("data")
        if not isinstance(data, dict):
            data = {}
        handler = self._handlers().get(kind)  # type: ignore[arg-type]
        if handler is None:
            return Changes()
        return handler(data)

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], Changes]]:
        return {
            LOCAL_CONNECTION: self._on_connection,
            MessageType.AUTH_RESPONSE.value: self._on_auth,
            MessageType.HISTORY.value: self._on_history,
            MessageType.RECOVERY.value: self._on_recovery,
            MessageType.MESSAGE.value: lambda d: self._on_message(d, agent=False),
            MessageType.AGENT_RESPONSE.value: self._on_agent_response,
            MessageType.AGENT_STREAM.value: self._on_stream,
            MessageType.STATUS_UPDATE.value: self._on_status,
            MessageType.USER_PRESENCE.value: self._on_presence,
            MessageType.TYPING.value: self._on_typing,
            MessageType.AGENT_QUESTION.value: self._on_question,
            MessageType.QUESTION_CLOSED.value: self._on_question_closed,
            MessageType.ERROR.value: self._on_error,
            MessageType.SEARCH.value: lambda d: Changes(fields={"search"}) if self.search.on_results(d) else Changes(),
            MessageType.ACCOUNT_UPDATED.value: self._on_account_updated,
            MessageType.AGENT_EVENT.value: lambda d: self._runs_changed(self.runs.on_event(d)),
            MessageType.RUN_QUEUED.value: lambda d: self._runs_changed(self.runs.on_queued(d)),
            MessageType.APPROVAL_REQUEST.value: self._on_approval_request,
            MessageType.APPROVAL_RESOLVED.value: lambda d: self._runs_changed(self.runs.on_resolved(d), approvals=True),
            MessageType.ROOMS.value: self._on_rooms,
            MessageType.ROOM.value: self._on_room,
            MessageType.ROOM_REMOVED.value: self._on_room_removed,
            MessageType.ROOM_READ.value: self._on_room_read,
            MessageType.MESSAGE_UPDATED.value: self._on_message_updated,
        }

    # --- runs and approvals (the board is ``chat/runs.py``) ----------------------------------
    @staticmethod
    def _runs_changed(changed: bool, approvals: bool = False) -> Changes:
        if not changed:
            return Changes()
        return Changes(fields={"runs", "approvals"} if approvals else {"runs"})

    def _on_agent_response(self, data: dict[str, Any]) -> Changes:
        changes = self._on_message(data, agent=True)
        changes.merge(self._runs_changed(self.runs.on_answer(data)))
        return changes

    def _on_approval_request(self, data: dict[str, Any]) -> Changes:
        changes = self._runs_changed(self.runs.on_approval(data), approvals=True)
        mine = next((a for a in self.runs.approvals() if a.approval_id == data.get("approvalId")), None)
        if self.loaded and mine is not None and mine.can_decide and not data.get("approvedBy"):
            changes.toasts.append(f"{mine.requested_by} asks for approval: {mine.tool}")
        return changes

    def _on_connection(self, data: dict[str, Any]) -> Changes:
        state = str(data.get("state") or ConnectionState.RECONNECTING)
        changes = Changes(fields={"connection"})
        self.connection = state
        if state != ConnectionState.CONNECTED:
            self.typing.clear()
            self.outbox.disconnected()
            self.banner.lost()
            changes.fields |= {"typing", "pending", "members", "banner"}
        return changes

    def _on_auth(self, data: dict[str, Any]) -> Changes:
        if not data.get("success"):
            self.connection = ConnectionState.DISCONNECTED
            error = data.get("error") if isinstance(data.get("error"), dict) else {}
            self.error = friendly_error(error or {"code": ErrorCode.AUTH_FAILED.value})
            return Changes(fields={"connection", "error"}, auth_failed=True)
        self.connection = ConnectionState.CONNECTED
        self.outbox.connected()
        self.banner.connected(self.clock())
        if isinstance(data.get("role"), str):
            self.role = data["role"]
        # ``agents`` means "everyone online" (the design document's meaning): who is an agent
        # comes from ``members``.
        self.agents = {
            m["userId"] for m in data.get("members") or []
            if isinstance(m, dict) and m.get("isAgent") and isinstance(m.get("userId"), str)
        }
        members: dict[str, Member] = {}
        for item in data.get("members") or []:
            if isinstance(item, dict) and item.get("userId"):
                member = to_member(item, self.me)
                old = self.members.get(member.user_id)
                if old is not None:  # keep live agent status across a reconnect
                    member = dataclasses.replace(
                        member, status=old.status, current_task=old.current_task,
                        progress=old.progress, has_progress=old.has_progress,
                    )
                members[member.user_id] = member
        for name in self.agents:
            members.setdefault(name, Member(user_id=name, role="agent", is_agent=True, online=True))
        for name in data.get("users") or []:
            if isinstance(name, str):
                member = members.setdefault(name, Member(user_id=name, is_me=name == self.me))
                member.online = True
        self.members = members
        changes = Changes(fields={"connection", "members", "role", "pending", "banner"})
        if self.window.streams:  # answers cut off by the reconnect will not finish streaming
            self.window.streams = []
            changes.fields.add("streams")
        return changes

    def _on_account_updated(self, data: dict[str, Any]) -> Changes:
        """An admin changed my account: the new role applies now (a viewer's composer turns read-only)."""
        if data.get("userId") != self.me or not isinstance(data.get("role"), str):
            return Changes()
        if data.get("disabled"):  # the server closes the socket next; leave the chat now
            self.connection = ConnectionState.DISCONNECTED
            self.error = "An admin disabled this account."
            return Changes(fields={"connection", "error"}, auth_failed=True)
        self.role = data["role"]
        changes = Changes(fields={"role"})
        member = self.members.get(self.me)
        if member is not None and member.role != self.role:
            self.members[self.me] = dataclasses.replace(member, role=self.role)
            changes.fields.add("members")
        return changes

    def _message_from(self, data: dict[str, Any], agent: bool) -> ChatMessage:
        reply_to = data.get("replyTo")
        quoted = self.window.by_id(reply_to) if isinstance(reply_to, int) else None
        message = to_message(data, me=self.me, agents=self.agents, is_agent_response=agent, quoted=quoted)
        return with_state(message, data, self.me)

    def _remember_id(self, message_id: Any) -> None:
        if isinstance(message_id, int) and (self.last_message_id is None or message_id > self.last_message_id):
            self.last_message_id = message_id

    def _on_history(self, data: dict[str, Any]) -> Changes:
        page: list[ChatMessage] = []
        for item in data.get("messages") or []:
            if not isinstance(item, dict) or not isinstance(item.get("data"), dict):
                continue
            inner = item["data"]
            message = self._message_from(inner, item.get("type") == MessageType.AGENT_RESPONSE.value)
            page.append(message)
        # Quotes of messages in the same page: resolve now that all are known.
        by_id = {m.id: m for m in page}
        for index, message in enumerate(page):
            if message.reply_to and not message.reply_sender and message.reply_to in by_id:
                quoted = by_id[message.reply_to]
                page[index] = dataclasses.replace(
                    message, reply_sender=quoted.sender, reply_excerpt=excerpt(quoted.text),
                    mentions_me=message.mentions_me and not (message.is_agent and quoted.sender == self.me),
                )
        has_more = bool(data.get("hasMore"))
        window = self._history_window(data)
        if window is None:
            return Changes()
        if data.get("beforeId") is None:
            window.reset(page, has_more)
            for message in page:
                self._remember_id(message.id)
            self.loaded = True
        elif self.jump_before is not None and data.get("beforeId") == self.jump_before:
            window.reset(page, has_more)
            window.detached = True  # newer messages exist: "Jump to latest" returns
            self.jump_before = None
        else:
            window.add_earlier(page, has_more)
            self.loading_earlier = False
        return Changes(fields={self._field_of(window)} - {""})

    def _on_recovery(self, data: dict[str, Any]) -> Changes:
        if data.get("truncated"):
            # More was missed than the server replays: start the window at what it sends.
            self.window.messages = []
            self.window.has_more = True
            self.window.detached = False
            self.windows = {self.rooms.current: self.window}
            self.loaded_rooms &= {self.rooms.current}
            return Changes(fields={"messages"})
        return Changes()

    def _on_message(self, data: dict[str, Any], agent: bool) -> Changes:
        message = self._message_from(data, agent)
        changes = Changes()
        client_id = data.get("clientId")
        if isinstance(client_id, int):
            self.pending_sends.pop(client_id, None)
            if data.get("sender") == self.me and self.outbox.confirmed(client_id):
                changes.fields.add("pending")  # the real message takes its place, in the same update
        if message.stream_id:
            self.ended_streams[message.stream_id] = None
            while len(self.ended_streams) > 200:
                del self.ended_streams[next(iter(self.ended_streams))]
        had_stream = bool(message.stream_id) and any(m.stream_id == message.stream_id for m in self.window.streams)
        if had_stream:
            changes.fields.add("streams")
        window = self._window_for(data)
        added = window is not None and window.add(message)
        if added:
            changes.fields.add(self._field_of(window) or "rooms")
        if (added or window is None) and self.loaded and message.mentions_me and (
            self.last_message_id is None or message.id > self.last_message_id
        ):
            changes.toasts.append(f"{message.sender} mentioned you{self.rooms.where(message.room_id)}")
        changes.notices += self._notice_for(message)
        changes.merge(self._room_news(message))
        self._remember_id(message.id)
        if message.sender in self.typing:
            del self.typing[message.sender]
            changes.fields.add("typing")
        return changes

    def _notice_for(self, message: ChatMessage) -> list[Notice]:
        """A new mention or direct message from someone else, in a room that is not open."""
        if (not self.loaded or message.sender == self.me or message.room_id == self.rooms.current
                or (self.last_message_id is not None and message.id <= self.last_message_id)):
            return []
        room = self.rooms.rooms.get(message.room_id)
        if message.mentions_me:
            title = f"{message.sender} mentioned you{self.rooms.where(message.room_id)}"
        elif room is not None and room.kind == "dm":
            title = f"{message.sender} (direct message)"
        else:
            return []
        return [Notice(title, " ".join(message.text.split())[:140], f"msg-{message.id}")]

    def _on_stream(self, data: dict[str, Any]) -> Changes:
        stream_id = data.get("streamId")
        if not isinstance(stream_id, str) or not stream_id or stream_id in self.ended_streams:
            return Changes()
        if room_of(data) != self.rooms.current or thread_of(data):  # shown when its answer lands
            return Changes()
        template = to_message(
            {"sender": data.get("sender"), "timestamp": data.get("timestamp"), "replyTo": data.get("replyTo")},
            me=self.me, agents=self.agents, is_agent_response=True,
            quoted=self.window.by_id(data["replyTo"]) if isinstance(data.get("replyTo"), int) else None,
        )
        self.window.stream_delta(stream_id, str(data.get("delta") or ""), template)
        return Changes(fields={"streams"})

    def _on_status(self, data: dict[str, Any]) -> Changes:
        name = data.get("userId")
        if not isinstance(name, str) or not name:
            return Changes()
        member = self.members.get(name) or Member(user_id=name, role="agent", is_agent=True, online=True)
        progress = data.get("progress")
        status = str(data.get("status") or "")
        self.members[name] = dataclasses.replace(
            member,
            is_agent=True,
            status=status,
            current_task=str(data.get("currentTask") or ""),
            progress=int(round(progress)) if isinstance(progress, (int, float)) else 0,
            # A bar only while there is work to show: an idle agent's 0 % is noise.
            has_progress=status in (AgentState.WORKING.value, AgentState.STUCK.value),
        )
        self.agents.add(name)
        return Changes(fields={"members"})

    def _on_presence(self, data: dict[str, Any]) -> Changes:
        name = data.get("userId")
        if not isinstance(name, str) or not name:
            return Changes()
        member = self.members.get(name) or Member(user_id=name, is_me=name == self.me)
        online = data.get("status") == "online"
        extra: dict[str, Any] = {}
        if isinstance(data.get("role"), str):  # someone new: the presence frame says who they are
            extra["role"] = data["role"]
        if isinstance(data.get("isAgent"), bool):
            extra["is_agent"] = member.is_agent or data["isAgent"]
        self.members[name] = dataclasses.replace(
            member, online=online, last_seen="" if online else last_seen_label(data.get("lastSeen") or data.get("timestamp")),
            **extra,
        )
        changes = Changes(fields={"members"})
        if not online and name in self.typing:
            del self.typing[name]
            changes.fields.add("typing")
        return changes

    def _on_typing(self, data: dict[str, Any]) -> Changes:
        name = data.get("userId")
        if not isinstance(name, str) or name == self.me or room_of(data) != self.rooms.current:
            return Changes()
        if data.get("typing", True):
            fresh = name not in self.typing
            self.typing[name] = self.clock() + TYPING_TTL_SECONDS
            return Changes(fields={"typing"} if fresh else set())
        if self.typing.pop(name, None) is not None:
            return Changes(fields={"typing"})
        return Changes()

    def _on_question(self, data: dict[str, Any]) -> Changes:
        question = to_question(data, self.me)
        if not question.question_id:
            return Changes()
        self.questions = [q for q in self.questions if q.question_id != question.question_id]
        self.questions.append(question)
        self.questions = self.questions[-MAX_QUESTIONS:]
        changes = Changes(fields={"questions"})
        if question.for_me and self.loaded:
            changes.toasts.append(f"{question.agent} asks you: {question.text}")
        return changes

    def _on_question_closed(self, data: dict[str, Any]) -> Changes:
        qid = data.get("questionId")
        for index, question in enumerate(self.questions):
            if question.question_id == qid:
                self.questions[index] = dataclasses.replace(
                    question,
                    state=str(data.get("status") or "answered"),
                    answer=str(data.get("answer") or ""),
                    answered_by=str(data.get("answeredBy") or ""),
                )
                return Changes(fields={"questions"})
        return Changes()

    def _on_error(self, data: dict[str, Any]) -> Changes:
        changes = Changes(fields={"error"})
        self.error = friendly_error(data)
        if data.get("code") == ErrorCode.RATE_LIMITED:
            retry = data.get("retryAfter")
            self.rate_limited_until = self.clock() + (float(retry) if isinstance(retry, (int, float)) else 1.0)
            self.rate_notice_until = self.clock() + RATE_NOTICE_MIN_SECONDS
        ref = data.get("ref")
        if isinstance(ref, int) and ref in self.pending_sends:
            changes.restore_draft = self.pending_sends.pop(ref)
        if self.outbox.refused(ref, self.error) is not None:
            changes.fields.add("pending")
        if data.get("code") in (ErrorCode.AUTH_FAILED, ErrorCode.NOT_AUTHENTICATED):
            changes.auth_failed = True
        return changes

