"""What a client may send: one pydantic model per client→server frame, and ``decode_frame``.

Unknown fields are ignored (clients written for the original design document send e.g. ``role``
or ``sender``); wrong types, out-of-range values and missing fields are ``INVALID_MESSAGE``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

from .codec import encode
from .common import AgentMode, AgentState, ErrorCode, MessageType, ProtocolError

__all__ = [
    "ClientPayload",
    "ClientId",
    "MAX_SAFE_INT",
    "MAX_CLIENT_ID_CHARS",
    "AuthData",
    "ChatMessageData",
    "AgentResponseData",
    "AgentStreamData",
    "StatusUpdateData",
    "HistoryData",
    "SearchData",
    "TypingData",
    "StopAgentData",
    "AgentQuestionData",
    "QuestionAnswerData",
    "PingData",
    "RoomId",
    "RoomCreateData",
    "RoomRef",
    "RoomInviteData",
    "RoomAgentModeData",
    "DmOpenData",
    "RoomReadData",
    "MessageEditData",
    "MessageDeleteData",
    "ReactionData",
    "CLIENT_MODELS",
    "decode_frame",
    "client_frame",
]


class ClientPayload(BaseModel):
    # Unknown fields are ignored so that clients written for the design document
    # (which send e.g. ``role`` or ``sender``) keep working; wrong types are errors.
    model_config = ConfigDict(extra="ignore", frozen=True)


MAX_SAFE_INT = 2**53 - 1
"""Every integer a client sends is at most this (JavaScript's safe range; ids fit in BIGINT)."""
MAX_CLIENT_ID_CHARS = 64


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text, and no person types one: refused everywhere.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[StrictStr, AfterValidator(_no_nul)]
"""A string without NUL characters."""
Id = Annotated[StrictInt, Field(ge=1, le=MAX_SAFE_INT)]
"""A message id (or the id of anything in the message sequence)."""
Name = Annotated[StrictStr, Field(min_length=1, max_length=64), AfterValidator(_no_nul)]
Number = Union[StrictInt, StrictFloat]
RoomId = Annotated[StrictStr, Field(min_length=1, max_length=64), AfterValidator(_no_nul)]
"""A room's id; omitted (or null) means ``general``, so clients of the original protocol keep working."""
Emoji = Annotated[StrictStr, Field(min_length=1, max_length=32), AfterValidator(_no_nul)]
ClientId = Union[
    Annotated[StrictInt, Field(ge=-MAX_SAFE_INT, le=MAX_SAFE_INT)],
    Annotated[StrictStr, Field(max_length=MAX_CLIENT_ID_CHARS), AfterValidator(_no_nul)],
    None,
]
"""The client's own id for a message, echoed back as ``clientId``: a number or a short string."""


class AuthData(ClientPayload):
    userId: Annotated[StrictStr, Field(max_length=64), AfterValidator(_no_nul)] | None = None
    token: Annotated[StrictStr, Field(max_length=8192), AfterValidator(_no_nul)] | None = None
    role: Any = None  # ignored: the role comes from the account
    lastMessageId: Annotated[StrictInt, Field(ge=0, le=MAX_SAFE_INT)] | None = None


class ChatMessageData(ClientPayload):
    id: ClientId = None
    roomId: RoomId | None = None
    threadId: Id | None = None
    """The root message of the thread this message replies in."""
    text: Text = ""
    mentions: list[Name] = Field(default_factory=list, max_length=100)
    replyTo: Id | None = None
    attachments: list[Name] = Field(default_factory=list, max_length=20)
    sender: Any = None  # ignored: the sender is the authenticated user


class AgentResponseData(ClientPayload):
    id: ClientId = None
    roomId: RoomId | None = None
    threadId: Id | None = None
    text: Text
    replyTo: Id | None = None
    agentStatus: AgentState | None = None
    mentions: list[Name] = Field(default_factory=list, max_length=100)
    attachments: list[Name] = Field(default_factory=list, max_length=20)
    streamId: Name | None = None
    sender: Any = None


class AgentStreamData(ClientPayload):
    streamId: Name
    roomId: RoomId | None = None
    threadId: Id | None = None
    delta: Annotated[StrictStr, Field(max_length=32_000), AfterValidator(_no_nul)] = ""
    replyTo: Id | None = None
    sender: Any = None


class StatusUpdateData(ClientPayload):
    userId: Name | None = None
    status: AgentState
    currentTask: Annotated[StrictStr, Field(max_length=500), AfterValidator(_no_nul)] | None = None
    progress: Annotated[Number, Field(ge=0, le=100)] | None = None


class HistoryData(ClientPayload):
    roomId: RoomId | None = None
    threadId: Id | None = None
    """Page this thread (its replies, oldest first) instead of the room's timeline."""
    beforeId: Id | None = None
    limit: StrictInt = Field(50, ge=1, le=200)


class SearchData(ClientPayload):
    roomId: RoomId | None = None
    """Only this room (the ``in:`` filter); omitted: every room the person can read."""
    query: Annotated[StrictStr, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
    limit: StrictInt = Field(50, ge=1, le=200)


class TypingData(ClientPayload):
    roomId: RoomId | None = None
    threadId: Id | None = None
    typing: StrictBool = True


class StopAgentData(ClientPayload):
    agent: Name


class AgentQuestionData(ClientPayload):
    """``ref`` (or, from older agents, ``questionId``) is the agent's own name for the question;
    the server mints the real ``questionId`` and echoes ``ref`` back."""

    ref: Name | None = None
    questionId: Name | None = None
    roomId: RoomId | None = None
    to: Name
    text: Annotated[StrictStr, Field(min_length=1, max_length=2000), AfterValidator(_no_nul)]
    choices: list[Annotated[StrictStr, Field(min_length=1, max_length=100), AfterValidator(_no_nul)]] = Field(
        min_length=1, max_length=10
    )
    timeoutSeconds: Annotated[Number, Field(gt=0, le=86400)] = 300
    replyTo: Id | None = None


class QuestionAnswerData(ClientPayload):
    questionId: Name
    answer: Annotated[StrictStr, Field(min_length=1, max_length=500), AfterValidator(_no_nul)]


class PingData(ClientPayload):
    pass


# --- rooms, threads, edits ---------------------------------------------------------------


class RoomCreateData(ClientPayload):
    name: Annotated[StrictStr, Field(min_length=1, max_length=80), AfterValidator(_no_nul)]
    kind: Literal["public", "private"] = "public"
    members: list[Name] = Field(default_factory=list, max_length=200)
    """People and agents to add besides the creator."""


class RoomRef(ClientPayload):
    roomId: RoomId


class RoomInviteData(ClientPayload):
    roomId: RoomId
    userId: Name


class RoomAgentModeData(ClientPayload):
    roomId: RoomId
    agent: Name
    mode: AgentMode


class DmOpenData(ClientPayload):
    userId: Name


class RoomReadData(ClientPayload):
    roomId: RoomId | None = None
    lastReadId: Annotated[StrictInt, Field(ge=0, le=MAX_SAFE_INT)]


class MessageEditData(ClientPayload):
    id: Id
    text: Text


class MessageDeleteData(ClientPayload):
    id: Id


class ReactionData(ClientPayload):
    id: Id
    emoji: Emoji
    op: Literal["add", "remove"] = "add"


CLIENT_MODELS: dict[MessageType, type[ClientPayload]] = {
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
    MessageType.ROOM_CREATE: RoomCreateData,
    MessageType.ROOM_JOIN: RoomRef,
    MessageType.ROOM_LEAVE: RoomRef,
    MessageType.ROOM_INVITE: RoomInviteData,
    MessageType.ROOM_AGENT_MODE: RoomAgentModeData,
    MessageType.DM_OPEN: DmOpenData,
    MessageType.ROOM_READ: RoomReadData,
    MessageType.MESSAGE_EDIT: MessageEditData,
    MessageType.MESSAGE_DELETE: MessageDeleteData,
    MessageType.REACTION: ReactionData,
}
"""What a client may send.  Server-only types (``auth_response``, ``error``...) are not here."""


_TYPE_TAGS = frozenset({"int", "float", "str", "bool", "list", "dict", "none"})


def _field_path(loc: tuple[int | str, ...]) -> str:
    # pydantic adds the union member tried ("constrained-int", "function-after[...]") to the
    # location; a person wants the field.
    parts = [str(p) for p in loc if isinstance(p, int) or ("-" not in p and "[" not in p and p not in _TYPE_TAGS)]
    return ".".join(parts) or "data"


def _describe(exc: ValidationError) -> str:
    by_field: dict[str, list[str]] = {}
    for err in exc.errors():
        message = err["msg"].removeprefix("Value error, ")
        found = by_field.setdefault(_field_path(err["loc"]), [])
        if message not in found:
            found.append(message)
    return "; ".join(f"{where}: {' or '.join(msgs)}" for where, msgs in list(by_field.items())[:3])


def decode_frame(raw: str | bytes) -> tuple[MessageType, ClientPayload]:
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


def client_frame(kind: MessageType, data: ClientPayload | Mapping[str, Any] | None = None) -> bytes:
    """Encode a client→server frame; a model is sent without the fields left at their defaults."""
    if isinstance(data, ClientPayload):
        data = data.model_dump(exclude_unset=True, mode="json")
    return encode({"type": kind.value, "data": dict(data or {})})
