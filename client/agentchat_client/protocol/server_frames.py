"""What a server sends: one typed shape per server→client frame.

The shapes are ``TypedDict``s: at run time a frame is a plain dict that ``orjson`` encodes with
no per-field cost (the broadcast path stays as fast as a hand-built dict), while mypy checks
every place that builds one, and pydantic validates received frames and generates the JSON
Schema (``docs/protocol.schema.json``) from the same definitions.

Build a frame with :func:`server_frame` (typed per frame type), or validate one received with
:data:`SERVER_FRAME` (``SERVER_FRAME.validate_python(frame)``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union, overload

from pydantic import Field, TypeAdapter
from typing_extensions import NotRequired, TypedDict

from .codec import encode
from .common import ErrorCode, MessageType, iso, utc_now

__all__ = [
    "AttachmentInfo",
    "ChatMessage",
    "AgentResponse",
    "AnswerUsage",
    "StoredMessage",
    "StoredEnvelope",
    "MessageFrame",
    "AgentResponseFrame",
    "MessageEnvelope",
    "MemberInfo",
    "AuthOk",
    "AuthFailed",
    "ErrorBody",
    "ErrorData",
    "PongData",
    "AgentStreamEvent",
    "StatusUpdate",
    "UserPresence",
    "HistoryPage",
    "RecoveryInfo",
    "SearchResults",
    "TypingNotice",
    "StopRequest",
    "AgentQuestion",
    "QuestionClosed",
    "RoomSummary",
    "RoomsList",
    "RoomChanged",
    "RoomRemoved",
    "RoomRead",
    "MessageUpdated",
    "AccountUpdated",
    "AgentEventEnvelope",
    "RunQueued",
    "ApprovalDecisionEntry",
    "ApprovalRequest",
    "ApprovalResolved",
    "SERVER_FRAME_SHAPES",
    "SERVER_FRAME",
    "ServerFrame",
    "server_frame",
    "server_envelope",
    "error_frame",
    "pong_frame",
]

ClientIdValue = Union[int, str, None]


# --- messages ---------------------------------------------------------------------------


class AttachmentInfo(TypedDict):
    """A shared file as it travels in messages: metadata only, the bytes stay on the server."""

    id: str
    name: str
    size: int
    type: str


class ChatMessage(TypedDict):
    """A person's message as everyone receives it (live, in history, search and recovery)."""

    id: int
    clientId: ClientIdValue
    text: str
    sender: str
    timestamp: str | None
    mentions: list[str]
    isCommand: bool
    replyTo: int | None
    attachments: list[AttachmentInfo]
    roomId: str
    threadId: int | None
    """The root of the thread this message replies in (None: the room's main timeline)."""
    replyCount: int
    """Replies in the thread this message is the root of."""
    lastReplyAt: str | None
    editedAt: str | None
    deleted: bool
    """A deleted message is a tombstone: its text is empty."""
    reactions: dict[str, list[str]]
    """Emoji -> the people who reacted with it, in the order they did."""


class AnswerUsage(TypedDict):
    """What the model calls behind one answer used and cost (names as in AG-UI's ``TokenUsage``;
    ``cachedInputTokens`` and ``reasoningTokens`` are parts of the input and output counts)."""

    inputTokens: int
    outputTokens: int
    totalTokens: int
    model: str
    costUsd: float
    """US dollars at the prices in the agents config (0 for a model without a price)."""
    cachedInputTokens: NotRequired[int]
    reasoningTokens: NotRequired[int]


class AgentResponse(TypedDict):
    """An agent's stored answer."""

    id: int
    clientId: ClientIdValue
    text: str
    sender: str
    timestamp: str | None
    mentions: list[str]
    replyTo: int | None
    attachments: list[AttachmentInfo]
    agentStatus: str | None
    streamId: str | None
    roomId: str
    threadId: int | None
    """The root of the thread this message replies in (None: the room's main timeline)."""
    replyCount: int
    """Replies in the thread this message is the root of."""
    lastReplyAt: str | None
    editedAt: str | None
    deleted: bool
    """A deleted message is a tombstone: its text is empty."""
    reactions: dict[str, list[str]]
    """Emoji -> the people who reacted with it, in the order they did."""
    runId: NotRequired[str]
    """The run this answer ends (its steps and tool calls: ``run_subscribe``)."""
    usage: NotRequired[AnswerUsage]
    """The tokens and cost of the model calls behind this answer (LLM agents)."""


class MessageFrame(TypedDict):
    type: Literal["message"]
    data: ChatMessage


class AgentResponseFrame(TypedDict):
    type: Literal["agent_response"]
    data: AgentResponse


StoredMessage = Union[ChatMessage, AgentResponse]
StoredEnvelope = Union[MessageFrame, AgentResponseFrame]
"""A stored message in its envelope (the type for code that builds one)."""
MessageEnvelope = Annotated[Union[MessageFrame, AgentResponseFrame], Field(discriminator="type")]
"""A stored message in its envelope, exactly as it is broadcast live (history and search hold these)."""


# --- connecting -------------------------------------------------------------------------


class MemberInfo(TypedDict):
    userId: str
    role: str
    isAgent: bool
    status: Literal["online", "offline"]
    lastSeen: str | None


class AuthOk(TypedDict):
    """``agents``: everyone online, agents included (the design document's meaning);
    ``users`` / ``members``: the richer lists our own clients use."""

    success: Literal[True]
    userId: str
    role: str
    sessionId: str
    agents: list[str]
    users: list[str]
    onlineCount: int
    members: list[MemberInfo]
    lastMessageId: int


class ErrorBody(TypedDict):
    code: str
    message: str


class AuthFailed(TypedDict):
    success: Literal[False]
    error: ErrorBody


class AuthResponseFrame(TypedDict):
    type: Literal["auth_response"]
    data: Annotated[Union[AuthOk, AuthFailed], Field(discriminator="success")]


class ErrorData(TypedDict):
    code: str
    message: str
    timestamp: str | None
    retryAfter: NotRequired[float]
    ref: NotRequired[ClientIdValue]


class ErrorFrame(TypedDict):
    type: Literal["error"]
    data: ErrorData


class PongData(TypedDict):
    timestamp: str | None


class PongFrame(TypedDict):
    type: Literal["pong"]
    data: PongData


# --- live chat --------------------------------------------------------------------------


class AgentStreamEvent(TypedDict):
    streamId: str
    roomId: str
    threadId: int | None
    sender: str
    replyTo: int | None
    delta: str
    timestamp: str | None


class AgentStreamFrame(TypedDict):
    type: Literal["agent_stream"]
    data: AgentStreamEvent


class StatusUpdate(TypedDict):
    userId: str
    status: str
    currentTask: str | None
    progress: int | float | None
    timestamp: str | None


class StatusUpdateFrame(TypedDict):
    type: Literal["status_update"]
    data: StatusUpdate


class UserPresence(TypedDict):
    userId: str
    status: Literal["online", "offline"]
    lastSeen: str | None
    timestamp: str | None
    role: str | None
    isAgent: bool


class UserPresenceFrame(TypedDict):
    type: Literal["user_presence"]
    data: UserPresence


class TypingNotice(TypedDict):
    userId: str
    roomId: str
    threadId: int | None
    typing: bool
    timestamp: str | None


class TypingFrame(TypedDict):
    type: Literal["typing"]
    data: TypingNotice


# --- history ----------------------------------------------------------------------------


class HistoryPage(TypedDict):
    roomId: str
    threadId: int | None
    """Set when this page is a thread's replies (oldest first)."""
    beforeId: int | None
    messages: list[MessageEnvelope]
    hasMore: bool


class HistoryFrame(TypedDict):
    type: Literal["history"]
    data: HistoryPage


class RecoveryInfo(TypedDict):
    lastMessageId: int
    count: int
    truncated: bool
    oldestId: NotRequired[int]


class RecoveryFrame(TypedDict):
    type: Literal["recovery"]
    data: RecoveryInfo


class SearchResults(TypedDict):
    query: str
    messages: list[MessageEnvelope]
    roomId: NotRequired[str | None]
    """The filters of the search it answers (so a client can drop answers to older searches)."""
    sender: NotRequired[str | None]
    hasFile: NotRequired[bool]


class SearchFrame(TypedDict):
    type: Literal["search"]
    data: SearchResults


# --- people in control of agents --------------------------------------------------------


class StopRequest(TypedDict):
    """Sent to the agent that is asked to stop (and relayed between server processes)."""

    agent: str
    by: str


class StopAgentFrame(TypedDict):
    type: Literal["stop_agent"]
    data: StopRequest


class AgentQuestion(TypedDict):
    """``questionId`` is minted by the server; ``ref`` is the asking agent's own name for it."""

    questionId: str
    ref: NotRequired[str]
    roomId: str
    agent: str
    to: str
    text: str
    choices: list[str]
    timeoutSeconds: float
    replyTo: int | None
    timestamp: str | None


class AgentQuestionFrame(TypedDict):
    type: Literal["agent_question"]
    data: AgentQuestion


class QuestionClosed(TypedDict):
    questionId: str
    ref: NotRequired[str]
    status: Literal["answered", "timeout", "cancelled"]
    answer: str | None
    answeredBy: str | None
    timestamp: str | None


class QuestionClosedFrame(TypedDict):
    type: Literal["question_closed"]
    data: QuestionClosed


# --- rooms, threads, edits ----------------------------------------------------------------


class RoomSummary(TypedDict):
    """A room as the person sees it in their list: their unread and mention counts included."""

    roomId: str
    name: str
    kind: Literal["public", "private", "dm"]
    unread: int
    """Messages in the room's timeline after the person's read position, not their own."""
    mentions: int
    """Of those, the ones that mention them."""
    lastMessageId: int
    lastReadId: int
    members: list[str]
    """Everyone in the room (empty for ``general``, which everyone is in), at most 200."""
    memberCount: int
    agentModes: dict[str, str]
    """Agent -> ``mention`` | ``all`` | ``off`` for the agents in the room."""
    createdBy: str | None


class RoomsList(TypedDict):
    rooms: list[RoomSummary]


class RoomsFrame(TypedDict):
    type: Literal["rooms"]
    data: RoomsList


class RoomChanged(TypedDict):
    room: RoomSummary


class RoomFrame(TypedDict):
    type: Literal["room"]
    data: RoomChanged


class RoomRemoved(TypedDict):
    roomId: str
    reason: str


class RoomRemovedFrame(TypedDict):
    type: Literal["room_removed"]
    data: RoomRemoved


class RoomRead(TypedDict):
    roomId: str
    lastReadId: int


class RoomReadFrame(TypedDict):
    type: Literal["room_read"]
    data: RoomRead


class MessageUpdated(TypedDict):
    """A message's new state after an edit, a delete, a reaction or a thread reply.

    ``eventId`` comes from the same sequence as message ids: recovery after ``lastMessageId``
    replays these too, in order."""

    id: int
    eventId: int
    roomId: str
    threadId: int | None
    text: str
    editedAt: str | None
    deleted: bool
    reactions: dict[str, list[str]]
    replyCount: int
    lastReplyAt: str | None
    by: str
    timestamp: str | None


class MessageUpdatedFrame(TypedDict):
    type: Literal["message_updated"]
    data: MessageUpdated
# --- accounts ---------------------------------------------------------------------------


class AccountUpdated(TypedDict):
    """Sent to a user's own connections when an admin (or the user) changed the account."""

    userId: str
    role: Literal["admin", "developer", "viewer", "agent"]
    disabled: bool


class AccountUpdatedFrame(TypedDict):
    type: Literal["account_updated"]
    data: AccountUpdated
# --- runs and approvals -----------------------------------------------------------------


class AgentEventEnvelope(TypedDict):
    """One AG-UI event of a run.  ``seq`` counts from 1 within the run with no gaps; ``event`` is
    the event exactly as ``ag-ui-protocol``'s models serialise it (validate it with
    ``agentchat_client.protocol.agui.AGUI_EVENT``)."""

    runId: str
    agent: str
    seq: int
    roomId: str
    threadId: int | None
    replyTo: int | None
    event: dict[str, Any]


class AgentEventFrame(TypedDict):
    type: Literal["agent_event"]
    data: AgentEventEnvelope


class RunQueued(TypedDict):
    """A request waits for its agent to finish the runs before it (``position`` 1 = next)."""

    runId: str
    agent: str
    roomId: str
    threadId: int | None
    replyTo: int | None
    position: int
    timestamp: str | None


class RunQueuedFrame(TypedDict):
    type: Literal["run_queued"]
    data: RunQueued


class ApprovalDecisionEntry(TypedDict):
    by: str
    decision: Literal["approve", "deny"]
    at: str | None


class ApprovalRequest(TypedDict):
    """A pending approval as everyone sees it; sent again whenever someone approves (``approvedBy``
    grows until the quorum is reached).  ``to`` is one of ``{"user"}``, ``{"role", "quorum"}``,
    ``{"users", "quorum"}``."""

    approvalId: str
    runId: str
    roomId: str
    toolCallId: str
    tool: str
    args: dict[str, Any]
    reason: str | None
    to: dict[str, Any]
    requestedBy: str
    replyTo: int | None
    expiresAt: str | None
    expiresInSeconds: float
    status: Literal["pending"]
    approvedBy: list[str]
    decisions: list[ApprovalDecisionEntry]
    timestamp: str | None


class ApprovalRequestFrame(TypedDict):
    type: Literal["approval_request"]
    data: ApprovalRequest


class ApprovalResolved(TypedDict):
    """``by``: who approved (approved), who denied (denied), who stopped the agent (cancelled)."""

    approvalId: str
    runId: str
    roomId: str
    toolCallId: str
    outcome: Literal["approved", "denied", "expired", "cancelled"]
    by: list[str]
    timestamp: str | None


class ApprovalResolvedFrame(TypedDict):
    type: Literal["approval_resolved"]
    data: ApprovalResolved


# --- the whole set ----------------------------------------------------------------------

SERVER_FRAME_SHAPES: dict[MessageType, type] = {
    MessageType.AUTH_RESPONSE: AuthResponseFrame,
    MessageType.MESSAGE: MessageFrame,
    MessageType.AGENT_RESPONSE: AgentResponseFrame,
    MessageType.AGENT_STREAM: AgentStreamFrame,
    MessageType.STATUS_UPDATE: StatusUpdateFrame,
    MessageType.USER_PRESENCE: UserPresenceFrame,
    MessageType.ERROR: ErrorFrame,
    MessageType.PONG: PongFrame,
    MessageType.HISTORY: HistoryFrame,
    MessageType.RECOVERY: RecoveryFrame,
    MessageType.SEARCH: SearchFrame,
    MessageType.TYPING: TypingFrame,
    MessageType.STOP_AGENT: StopAgentFrame,
    MessageType.AGENT_QUESTION: AgentQuestionFrame,
    MessageType.QUESTION_CLOSED: QuestionClosedFrame,
    MessageType.ROOMS: RoomsFrame,
    MessageType.ROOM: RoomFrame,
    MessageType.ROOM_REMOVED: RoomRemovedFrame,
    MessageType.ROOM_READ: RoomReadFrame,
    MessageType.MESSAGE_UPDATED: MessageUpdatedFrame,
    MessageType.ACCOUNT_UPDATED: AccountUpdatedFrame,
    MessageType.AGENT_EVENT: AgentEventFrame,
    MessageType.RUN_QUEUED: RunQueuedFrame,
    MessageType.APPROVAL_REQUEST: ApprovalRequestFrame,
    MessageType.APPROVAL_RESOLVED: ApprovalResolvedFrame,
}
"""Every frame a server sends, by type."""

ServerFrame = Annotated[
    Union[
        AuthResponseFrame,
        MessageFrame,
        AgentResponseFrame,
        AgentStreamFrame,
        StatusUpdateFrame,
        UserPresenceFrame,
        ErrorFrame,
        PongFrame,
        HistoryFrame,
        RecoveryFrame,
        SearchFrame,
        TypingFrame,
        StopAgentFrame,
        AgentQuestionFrame,
        QuestionClosedFrame,
        RoomsFrame,
        RoomFrame,
        RoomRemovedFrame,
        RoomReadFrame,
        MessageUpdatedFrame,
        AccountUpdatedFrame,
        AgentEventFrame,
        RunQueuedFrame,
        ApprovalRequestFrame,
        ApprovalResolvedFrame,
    ],
    Field(discriminator="type"),
]
SERVER_FRAME: TypeAdapter[Any] = TypeAdapter(ServerFrame)
"""Validates a decoded server frame (tests, careful clients); the JSON Schema comes from it too."""


# --- building frames --------------------------------------------------------------------


@overload
def server_envelope(kind: Literal[MessageType.AUTH_RESPONSE], data: AuthOk | AuthFailed) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.MESSAGE], data: ChatMessage) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.AGENT_RESPONSE], data: AgentResponse) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.AGENT_STREAM], data: AgentStreamEvent) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.STATUS_UPDATE], data: StatusUpdate) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.USER_PRESENCE], data: UserPresence) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.ERROR], data: ErrorData) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.PONG], data: PongData) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.HISTORY], data: HistoryPage) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.RECOVERY], data: RecoveryInfo) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.SEARCH], data: SearchResults) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.TYPING], data: TypingNotice) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.STOP_AGENT], data: StopRequest) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.AGENT_QUESTION], data: AgentQuestion) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.QUESTION_CLOSED], data: QuestionClosed) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.ROOMS], data: RoomsList) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.ROOM], data: RoomChanged) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.ROOM_REMOVED], data: RoomRemoved) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.ROOM_READ], data: RoomRead) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.MESSAGE_UPDATED], data: MessageUpdated) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.ACCOUNT_UPDATED], data: AccountUpdated) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.AGENT_EVENT], data: AgentEventEnvelope) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.RUN_QUEUED], data: RunQueued) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.APPROVAL_REQUEST], data: ApprovalRequest) -> dict[str, Any]: ...
@overload
def server_envelope(kind: Literal[MessageType.APPROVAL_RESOLVED], data: ApprovalResolved) -> dict[str, Any]: ...
def server_envelope(kind: MessageType, data: Any) -> dict[str, Any]:
    """``{"type": kind, "data": data}``, with ``data`` checked (by mypy) against ``kind``'s shape."""
    return {"type": kind.value, "data": data}


@overload
def server_frame(kind: Literal[MessageType.AUTH_RESPONSE], data: AuthOk | AuthFailed) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.MESSAGE], data: ChatMessage) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.AGENT_RESPONSE], data: AgentResponse) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.AGENT_STREAM], data: AgentStreamEvent) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.STATUS_UPDATE], data: StatusUpdate) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.USER_PRESENCE], data: UserPresence) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.ERROR], data: ErrorData) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.PONG], data: PongData) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.HISTORY], data: HistoryPage) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.RECOVERY], data: RecoveryInfo) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.SEARCH], data: SearchResults) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.TYPING], data: TypingNotice) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.STOP_AGENT], data: StopRequest) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.AGENT_QUESTION], data: AgentQuestion) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.QUESTION_CLOSED], data: QuestionClosed) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.ROOMS], data: RoomsList) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.ROOM], data: RoomChanged) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.ROOM_REMOVED], data: RoomRemoved) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.ROOM_READ], data: RoomRead) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.MESSAGE_UPDATED], data: MessageUpdated) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.ACCOUNT_UPDATED], data: AccountUpdated) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.AGENT_EVENT], data: AgentEventEnvelope) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.RUN_QUEUED], data: RunQueued) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.APPROVAL_REQUEST], data: ApprovalRequest) -> bytes: ...
@overload
def server_frame(kind: Literal[MessageType.APPROVAL_RESOLVED], data: ApprovalResolved) -> bytes: ...
def server_frame(kind: MessageType, data: Any) -> bytes:
    """The encoded frame (UTF-8 JSON; send it as a text frame)."""
    return encode({"type": kind.value, "data": data})


def error_frame(code: ErrorCode, message: str, **extra: Any) -> bytes:
    """An ``error`` frame; ``extra`` adds ``retryAfter`` / ``ref`` (None values are left out)."""
    data: ErrorData = {"code": code.value, "message": message, "timestamp": iso(utc_now())}
    for key, value in extra.items():
        if value is not None:
            data[key] = value  # type: ignore[literal-required]
    return server_frame(MessageType.ERROR, data)


def pong_frame() -> bytes:
    return server_frame(MessageType.PONG, {"timestamp": iso(utc_now())})
