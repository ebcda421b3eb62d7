"""What a client may send: one pydantic model per client→server frame, and ``decode_frame``.

Unknown fields are ignored (clients written for the original design document send e.g. ``role``
or ``sender``); wrong types, out-of-range values and missing fields are ``INVALID_MESSAGE``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    ValidationError,
    model_validator,
)

from .agui import normalise_event
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
    "RUN_ID_PATTERN",
    "MAX_TOOL_ARGS_BYTES",
    "AgentEventData",
    "RunSubscribeData",
    "RunQueuedData",
    "ApproverUser",
    "ApproverRole",
    "ApproverUsers",
    "Approvers",
    "ApprovalRequestData",
    "ApprovalDecisionData",
    "CLIENT_MODELS",
    "decode_frame",
    "client_frame",
]


RUN_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
"""A run id: safe in a URL path (``/runs/{runId}/events``) and a database key."""
MAX_TOOL_ARGS_BYTES = 16 * 1024


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
RunId = Annotated[StrictStr, Field(pattern=RUN_ID_PATTERN)]
ToolCallId = Annotated[StrictStr, Field(min_length=1, max_length=128), AfterValidator(_no_nul)]
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
    runId: RunId | None = None
    """The run this answer ends (the agent's own run); stored with the message."""
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
    query: Annotated[StrictStr, Field(max_length=200), AfterValidator(_no_nul)]
    """The words to find (all must match); may be empty when ``sender`` or ``hasFile`` is given."""
    limit: StrictInt = Field(50, ge=1, le=200)
    sender: Name | None = None
    """Only messages of this person or agent, any case (the ``from:`` filter)."""
    hasFile: StrictBool = False
    """Only messages with attachments (the ``has:file`` filter)."""

    @model_validator(mode="after")
    def _something_to_find(self) -> SearchData:
        if not self.query and self.sender is None and not self.hasFile:
            raise ValueError("query: give words to find, or a filter (sender, hasFile)")
        return self


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
# --- runs and approvals ------------------------------------------------------------------


def _agui_event(value: dict[str, Any]) -> dict[str, Any]:
    return normalise_event(value)


class AgentEventData(ClientPayload):
    """One AG-UI event of the sender's own run.  ``RUN_STARTED`` opens a run (``replyTo`` names
    the message that started it); ``RUN_FINISHED`` / ``RUN_ERROR`` close it.  The server numbers
    the events (``seq``) and stamps their ``timestamp``."""

    runId: RunId
    replyTo: Id | None = None
    roomId: RoomId | None = None
    """With ``RUN_STARTED``: the room of the run (of ``replyTo``); omitted means ``general``."""
    threadId: Id | None = None
    """With ``RUN_STARTED``: the thread its answer goes to (the one ``replyTo`` is in)."""
    event: Annotated[dict[str, Any], AfterValidator(_agui_event)]


class RunSubscribeData(ClientPayload):
    """The events of a run after ``afterSeq`` (0: all of them), then live ones while it runs."""

    runId: RunId
    afterSeq: Annotated[StrictInt, Field(ge=0, le=MAX_SAFE_INT)] = 0


class RunQueuedData(ClientPayload):
    """An agent tells the room that a request waits its turn (``position`` 1 = next)."""

    runId: RunId
    replyTo: Id
    roomId: RoomId | None = None
    threadId: Id | None = None
    position: Annotated[StrictInt, Field(ge=1, le=10_000)] = 1


class _Approvers(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApproverUser(_Approvers):
    """One person decides."""

    user: Name


class ApproverRole(_Approvers):
    """``quorum`` different people with this role (or a higher one) decide."""

    role: Literal["developer", "admin"]
    quorum: Annotated[StrictInt, Field(ge=1, le=20)] = 1


class ApproverUsers(_Approvers):
    """``quorum`` different people among ``users`` decide."""

    users: list[Name] = Field(min_length=1, max_length=50)
    quorum: Annotated[StrictInt, Field(ge=1, le=50)] = 1

    @model_validator(mode="after")
    def _quorum_fits(self) -> ApproverUsers:
        if len(set(self.users)) != len(self.users):
            raise ValueError("users: each person once")
        if self.quorum > len(self.users):
            raise ValueError(f"quorum: {self.quorum} is more than the {len(self.users)} people named")
        return self


def _approvers_kind(value: Any) -> str | None:
    if isinstance(value, _Approvers):
        return {"ApproverUser": "user", "ApproverRole": "role", "ApproverUsers": "users"}[type(value).__name__]
    if isinstance(value, dict):
        for key in ("users", "user", "role"):
            if key in value:
                return key
    return None


Approvers = Annotated[
    Union[
        Annotated[ApproverUser, Tag("user")],
        Annotated[ApproverRole, Tag("role")],
        Annotated[ApproverUsers, Tag("users")],
    ],
    Discriminator(
        _approvers_kind,
        custom_error_type="approvers",
        custom_error_message='give {"user": name}, {"role": "developer" or "admin", "quorum": n} '
        'or {"users": [names], "quorum": n}',
    ),
]
"""Who decides an approval: one person, people with a role, or a quorum of named people."""


def _bounded_args(value: dict[str, Any]) -> dict[str, Any]:
    size = len(orjson.dumps(value))
    if size > MAX_TOOL_ARGS_BYTES:
        raise ValueError(f"the arguments are {size} bytes; the limit is {MAX_TOOL_ARGS_BYTES}")
    return value


class ApprovalRequestData(ClientPayload):
    """An agent asks before a tool call of its run; the server mints ``approvalId``."""

    runId: RunId
    toolCallId: ToolCallId
    tool: Name
    args: Annotated[dict[str, Any], AfterValidator(_bounded_args)] = Field(default_factory=dict)
    reason: Annotated[StrictStr, Field(max_length=1000), AfterValidator(_no_nul)] | None = None
    to: Approvers
    expiresInSeconds: Annotated[Number, Field(ge=1, le=7 * 86400)] = 600


class ApprovalDecisionData(ClientPayload):
    approvalId: Name
    decision: Literal["approve", "deny"]


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
    MessageType.AGENT_EVENT: AgentEventData,
    MessageType.RUN_SUBSCRIBE: RunSubscribeData,
    MessageType.RUN_QUEUED: RunQueuedData,
    MessageType.APPROVAL_REQUEST: ApprovalRequestData,
    MessageType.APPROVAL_DECISION: ApprovalDecisionData,
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
