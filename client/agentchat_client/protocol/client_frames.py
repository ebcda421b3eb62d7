"""What a client may send: one pydantic model per client→server frame, and ``decode_frame``.

Unknown fields are ignored (clients written for the original design document send e.g. ``role``
or ``sender``); wrong types, out-of-range values and missing fields are ``INVALID_MESSAGE``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Union

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from .codec import encode
from .common import AgentState, ErrorCode, MessageType, ProtocolError

__all__ = [
    "ClientPayload",
    "ClientId",
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
    "CLIENT_MODELS",
    "decode_frame",
    "client_frame",
]


class ClientPayload(BaseModel):
    # Unknown fields are ignored so that clients written for the design document
    # (which send e.g. ``role`` or ``sender``) keep working; wrong types are errors.
    model_config = ConfigDict(extra="ignore", frozen=True)


ClientId = Union[StrictInt, StrictStr, None]


class AuthData(ClientPayload):
    userId: StrictStr | None = None
    token: StrictStr | None = None
    role: Any = None  # ignored: the role comes from the token
    lastMessageId: StrictInt | None = Field(None, ge=0)


class ChatMessageData(ClientPayload):
    id: ClientId = None
    text: StrictStr = ""
    mentions: list[StrictStr] = Field(default_factory=list, max_length=100)
    replyTo: StrictInt | None = Field(None, ge=1)
    attachments: list[StrictStr] = Field(default_factory=list, max_length=20)
    sender: Any = None  # ignored: the sender is the authenticated user


class AgentResponseData(ClientPayload):
    id: ClientId = None
    text: StrictStr
    replyTo: StrictInt | None = Field(None, ge=1)
    agentStatus: AgentState | None = None
    mentions: list[StrictStr] = Field(default_factory=list, max_length=100)
    attachments: list[StrictStr] = Field(default_factory=list, max_length=20)
    streamId: StrictStr | None = Field(None, max_length=64)
    sender: Any = None


class AgentStreamData(ClientPayload):
    streamId: StrictStr = Field(min_length=1, max_length=64)
    delta: StrictStr = ""
    replyTo: StrictInt | None = Field(None, ge=1)
    sender: Any = None


class StatusUpdateData(ClientPayload):
    userId: StrictStr | None = None
    status: AgentState
    currentTask: StrictStr | None = Field(None, max_length=500)
    progress: int | float | None = Field(None, ge=0, le=100)


class HistoryData(ClientPayload):
    beforeId: StrictInt | None = Field(None, ge=1)
    limit: StrictInt = Field(50, ge=1, le=200)


class SearchData(ClientPayload):
    query: StrictStr = Field(min_length=1, max_length=200)
    limit: StrictInt = Field(50, ge=1, le=200)


class TypingData(ClientPayload):
    typing: StrictBool = True


class StopAgentData(ClientPayload):
    agent: StrictStr = Field(min_length=1, max_length=64)


class AgentQuestionData(ClientPayload):
    questionId: StrictStr | None = Field(None, max_length=64)
    to: StrictStr = Field(min_length=1, max_length=64)
    text: StrictStr = Field(min_length=1, max_length=2000)
    choices: list[StrictStr] = Field(min_length=1, max_length=10)
    timeoutSeconds: StrictInt | float = Field(300, gt=0, le=86400)
    replyTo: StrictInt | None = Field(None, ge=1)


class QuestionAnswerData(ClientPayload):
    questionId: StrictStr = Field(min_length=1, max_length=64)
    answer: StrictStr = Field(min_length=1, max_length=500)


class PingData(ClientPayload):
    pass


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
}
"""What a client may send.  Server-only types (``auth_response``, ``error``...) are not here."""


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "data"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


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
