"""Names shared by both directions: frame types, error codes, roles, agent states, user names,
mentions and timestamps.

Pure: no sockets, no event loop.  Everything else in the protocol package builds on this.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

__all__ = [
    "MessageType",
    "ErrorCode",
    "Role",
    "AgentState",
    "RoomKind",
    "AgentMode",
    "GENERAL",
    "ProtocolError",
    "CloseCode",
    "ApprovalOutcome",
    "USERNAME_PATTERN",
    "MENTION_RE",
    "parse_mentions",
    "is_valid_username",
    "utc_now",
    "iso",
]


class MessageType(StrEnum):
    """Every ``type`` that travels over the socket, in either direction."""

    AUTH = "auth"
    AUTH_RESPONSE = "auth_response"
    MESSAGE = "message"
    AGENT_RESPONSE = "agent_response"
    AGENT_STREAM = "agent_stream"
    STATUS_UPDATE = "status_update"
    USER_PRESENCE = "user_presence"
    ERROR = "error"
    PING = "ping"
    PONG = "pong"
    HISTORY = "history"
    RECOVERY = "recovery"
    SEARCH = "search"
    TYPING = "typing"
    STOP_AGENT = "stop_agent"
    AGENT_QUESTION = "agent_question"
    QUESTION_ANSWER = "question_answer"
    QUESTION_CLOSED = "question_closed"
    # rooms, threads, edits
    ROOMS = "rooms"
    ROOM = "room"
    ROOM_REMOVED = "room_removed"
    ROOM_CREATE = "room_create"
    ROOM_JOIN = "room_join"
    ROOM_LEAVE = "room_leave"
    ROOM_INVITE = "room_invite"
    ROOM_AGENT_MODE = "room_agent_mode"
    DM_OPEN = "dm_open"
    ROOM_READ = "room_read"
    MESSAGE_EDIT = "message_edit"
    MESSAGE_DELETE = "message_delete"
    REACTION = "reaction"
    MESSAGE_UPDATED = "message_updated"
    ACCOUNT_UPDATED = "account_updated"
    # agent runs and approvals
    AGENT_EVENT = "agent_event"
    RUN_SUBSCRIBE = "run_subscribe"
    RUN_QUEUED = "run_queued"
    APPROVAL_REQUEST = "approval_request"
    APPROVAL_DECISION = "approval_decision"
    APPROVAL_RESOLVED = "approval_resolved"


class CloseCode:
    """WebSocket close codes the server uses beyond the standard ones."""

    TOO_BIG = 1009
    POLICY = 1008
    """Too slow, too many connections, or no authentication in time (the reason says which)."""
    SESSION_ENDED = 4001
    """The session or agent key behind this connection was revoked or expired: sign in again."""
    ACCOUNT_DISABLED = 4003
    """An admin disabled the account."""
    FINAL = frozenset({SESSION_ENDED, ACCOUNT_DISABLED})
    """Reconnecting with the same credentials would not help."""


class ErrorCode(StrEnum):
    INVALID_JSON = "INVALID_JSON"
    UNKNOWN_TYPE = "UNKNOWN_TYPE"
    INVALID_MESSAGE = "INVALID_MESSAGE"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    AUTH_FAILED = "AUTH_FAILED"
    MISSING_USER_ID = "MISSING_USER_ID"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    MESSAGE_TOO_LONG = "MESSAGE_TOO_LONG"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    """The thing exists but its state forbids this now: an approval already decided or closed."""
    BUDGET_EXCEEDED = "BUDGET_EXCEEDED"
    """A daily budget (the asker's or the agent's) is spent: the model was not called; ``retryAfter``
    is the seconds until it resets (00:00 UTC)."""
    INTERNAL_ERROR = "INTERNAL_ERROR"


class Role(StrEnum):
    ADMIN = "admin"
    DEVELOPER = "developer"
    VIEWER = "viewer"
    AGENT = "agent"

    @property
    def can_post(self) -> bool:
        return self is not Role.VIEWER


class RoomKind(StrEnum):
    PUBLIC = "public"
    """Anyone may join."""
    PRIVATE = "private"
    """Members only, joined by invitation."""
    DM = "dm"
    """Two people, or a person and an agent."""


class AgentMode(StrEnum):
    """When an agent answers in a room."""

    MENTION = "mention"
    ALL = "all"
    OFF = "off"


GENERAL = "general"
"""The room everyone is in; a frame without ``roomId`` means this room."""


class AgentState(StrEnum):
    IDLE = "idle"
    WORKING = "working"
    STUCK = "stuck"
    COMPLETED = "completed"


class ApprovalOutcome(StrEnum):
    """How an approval request closed."""

    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    """Its agent was stopped (or its run ended) before anyone decided."""


class ProtocolError(Exception):
    """A client mistake, answered with an ``error`` frame; the connection stays open."""

    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra

    def to_frame(self) -> bytes:
        from .server_frames import error_frame

        return error_frame(self.code, self.message, **self.extra)


# --- names and mentions -----------------------------------------------------------------

USERNAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,31}$"
_USERNAME_RE = re.compile(USERNAME_PATTERN)
# "@bob" mentions bob; "me@example.com" mentions no one (a word character before the @).
MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_][A-Za-z0-9_-]{0,31})")


def is_valid_username(name: str) -> bool:
    return bool(_USERNAME_RE.match(name))


def parse_mentions(text: str, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Names mentioned in ``text`` merged with ``extra``: first-seen order, no repeats."""
    seen: dict[str, None] = {}
    for name in MENTION_RE.findall(text):
        seen.setdefault(name.rstrip("-"), None)
    for name in extra:
        if is_valid_username(name):
            seen.setdefault(name, None)
    return list(seen)


# --- time --------------------------------------------------------------------------------


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, as the design document writes timestamps."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


