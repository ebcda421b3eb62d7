"""The AgentChat wire protocol: the one place every message type and error code is spelled.

Frames are JSON text ``{"type": ..., "data": {...}}`` with the camelCase field names of the
original design document (section 2).  This module is pure: it parses and validates what a
client sends and builds what the server sends, with no sockets and no event loop, so the
server, the Reflex app, ``AgentClient`` and the tests all share it.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Literal, Union

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

__all__ = [
    "MessageType",
    "ErrorCode",
    "Role",
    "AgentState",
    "ProtocolError",
    "USERNAME_PATTERN",
    "MENTION_RE",
    "parse_mentions",
    "is_valid_username",
    "decode_frame",
    "encode",
    "envelope",
    "error",
    "utc_now",
    "iso",
    "CLIENT_MODELS",
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
    INTERNAL_ERROR = "INTERNAL_ERROR"


class Role(StrEnum):
    ADMIN = "admin"
    DEVELOPER = "developer"
    VIEWER = "viewer"
    AGENT = "agent"

    @property
    def can_post(self) -> bool:
        return self is not Role.VIEWER


class AgentState(StrEnum):
    IDLE = "idle"
    WORKING = "working"
    STUCK = "stuck"
    COMPLETED = "completed"


class ProtocolError(Exception):
    """A client mistake, answered with an ``error`` frame; the connection stays open."""

    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra

    def to_frame(self) -> bytes:
        return error(self.code, self.message, **self.extra)


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


# --- client -> server payloads -----------------------------------------------------------


class _Payload(BaseModel):
    # Unknown fields are ignored so that clients written for the design document
    # (which send e.g. ``role`` or ``sender``) keep working; wrong types are errors.
    model_config = ConfigDict(extra="ignore", frozen=True)


ClientId = Union[StrictInt, StrictStr, None]


class AuthData(_Payload):
    userId: StrictStr | None = None
    token: StrictStr | None = None
    role: Any = None  # ignored: the role comes from the token
    lastMessageId: StrictInt | None = Field(None, ge=0)


class ChatMessageData(_Payload):
    id: ClientId = None
    text: StrictStr = ""
    mentions: list[StrictStr] = Field(default_factory=list, max_length=100)
    replyTo: StrictInt | None = Field(None, ge=1)
    attachments: list[StrictStr] = Field(default_factory=list, max_length=20)
    sender: Any = None  # ignored: the sender is the authenticated user


class AgentResponseData(_Payload):
    id: ClientId = None
    text: StrictStr
    replyTo: StrictInt | None = Field(None, ge=1)
    agentStatus: AgentState | None = None
    mentions: list[StrictStr] = Field(default_factory=list, max_length=100)
    attachments: list[StrictStr] = Field(default_factory=list, max_length=20)
    streamId: StrictStr | None = Field(None, max_length=64)
    sender: Any = None


class AgentStreamData(_Payload):
    streamId: StrictStr = Field(min_length=1, max_length=64)
    delta: StrictStr = ""
    replyTo: StrictInt | None = Field(None, ge=1)
    sender: Any = None


class StatusUpdateData(_Payload):
    userId: StrictStr | None = None
    status: AgentState
    currentTask: StrictStr | None = Field(None, max_length=500)
    progress: int | float | None = Field(None, ge=0, le=100)


class HistoryData(_Payload):
    beforeId: StrictInt | None = Field(None, ge=1)
    limit: StrictInt = Field(50, ge=1, le=200)


class SearchData(_Payload):
    query: StrictStr = Field(min_length=1, max_length=200)
    limit: StrictInt = Field(50, ge=1, le=200)


class TypingData(_Payload):
    typing: StrictBool = True


class StopAgentData(_Payload):
    agent: StrictStr = Field(min_length=1, max_length=64)


class AgentQuestionData(_Payload):
    questionId: StrictStr | None = Field(None, max_length=64)
    to: StrictStr = Field(min_length=1, max_length=64)
    text: StrictStr = Field(min_length=1, max_length=2000)
    choices: list[StrictStr] = Field(min_length=1, max_length=10)
    timeoutSeconds: StrictInt | float = Field(300, gt=0, le=86400)
    replyTo: StrictInt | None = Field(None, ge=1)


class QuestionAnswerData(_Payload):
    questionId: StrictStr = Field(min_length=1, max_length=64)
    answer: StrictStr = Field(min_length=1, max_length=500)


class PingData(_Payload):
    pass


CLIENT_MODELS: dict[MessageType, type[_Payload]] = {
    MessageType.AUTH: AuthData,
    MessageType.MESSAGE: ChatMessageData,
    MessageType.AGENT_RESPONSE: AgentResponseData,
    MessageType.AGENT_STREAM: AgentStreamData,
    MessageType.STATUS_UPDATE: StatusUpdateData,
    MessageType.HISTORY: HistoryData,
    MessageType.SEARCH: SearchData,
    MessageType.TYPING: TypingData,
    MessageType.STOP_AGENT: StopAgentData,
    MessageType.AGENT_QUESTION: AgentQuestionData,
    MessageType.QUESTION_ANSWER: QuestionAnswerData,
    MessageType.PING: PingData,
}
"""What a client may send.  Server-only types (``auth_response``, ``error``...) are not here."""


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "data"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def decode_frame(raw: str | bytes) -> tuple[MessageType, _Payload]:
    """Parse one client frame, or raise :class:`ProtocolError` saying what is wrong."""
    try:
        frame = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ProtocolError(ErrorCode.INVALID_JSON, "Frame is not valid JSON") from None
    if not isinstance(frame, dict):
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, 'Frame must be an object {"type", "data"}')
    kind = frame.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, 'Frame needs a string "type"')
    try:
        message_type = MessageType(kind)
        model = CLIENT_MODELS[message_type]
    except (ValueError, KeyError):
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"Unknown message type {kind[:40]!r}") from None
    data = frame.get("data", {})
    if data is None and message_type is MessageType.PING:
        data = {}
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, '"data" must be an object')
    try:
        return message_type, model.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, _describe(exc)) from None


# --- server -> client frames -------------------------------------------------------------


def encode(payload: dict[str, Any]) -> bytes:
    """JSON as UTF-8 bytes (send them as a text frame)."""
    return orjson.dumps(payload)


def envelope(message_type: MessageType, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": message_type.value, "data": data}


def error(code: ErrorCode, message: str, **extra: Any) -> bytes:
    data: dict[str, Any] = {"code": code.value, "message": message, "timestamp": iso(utc_now())}
    data.update({k: v for k, v in extra.items() if v is not None})
    return encode(envelope(MessageType.ERROR, data))


PresenceStatus = Literal["online", "offline"]
