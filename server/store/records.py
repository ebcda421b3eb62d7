"""What the store hands out and takes in: plain dataclasses, no ORM session attached.

The hub, the agents and the tests speak in these; only ``store/sql`` knows about tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentchat_client.protocol import utc_now

__all__ = ["Message", "User", "AgentStatus", "Attachment", "Task", "Page", "RoomRecord", "UnreadCount", "UPDATE_KIND",
           "Run", "RunEvent", "AuditEntry", "RUN_RUNNING", "UsageRecord", "UsageTotal"]

UPDATE_KIND = "update"
"""``kind`` of a row that records a change to another message (its ``target_id``): edits,
deletes, reactions and reply counts take ids from the same sequence as messages."""

RUN_RUNNING = "running"
"""A run's status until its terminal event; then ``success``, ``interrupt``, ``cancelled`` or ``error``."""


@dataclass(slots=True)
class Message:
    """A chat message or an agent answer; ``id`` is the authoritative, increasing id (None until stored)."""

    sender: str
    text: str
    kind: str = "message"
    mentions: list[str] = field(default_factory=list)
    reply_to: int | None = None
    is_command: bool = False
    agent_status: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    client_id: str | None = None
    stream_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    created_at: datetime = field(default_factory=utc_now)
    id: int | None = None
    room_id: str = "general"
    thread_id: int | None = None
    """The root of the thread this message replies in."""
    reply_count: int = 0
    last_reply_at: datetime | None = None
    edited_at: datetime | None = None
    deleted: bool = False
    reactions: dict[str, list[str]] = field(default_factory=dict)
    target_id: int | None = None
    """For an update row (``kind == "update"``): the message it changed; its other fields hold
    that message's new state, ``sender`` who changed it and ``created_at`` when."""

    @property
    def is_update(self) -> bool:
        return self.kind == UPDATE_KIND


@dataclass(slots=True)
class RoomRecord:
    room_id: str
    name: str
    kind: str
    created_by: str | None = None
    members: list[str] = field(default_factory=list)
    agent_modes: dict[str, str] = field(default_factory=dict)
    created_at: datetime = field(default_factory=utc_now)


@dataclass(frozen=True, slots=True)
class UnreadCount:
    unread: int
    mentions: int
    last_message_id: int


@dataclass(slots=True)
class User:
    name: str
    role: str = "developer"
    is_agent: bool = False
    password_hash: str | None = None
    created_at: datetime = field(default_factory=utc_now)
    last_seen: datetime | None = None


@dataclass(slots=True)
class AgentStatus:
    agent: str
    status: str = "idle"
    current_task: str | None = None
    progress: float | None = None
    updated_at: datetime = field(default_factory=utc_now)


@dataclass(slots=True)
class Attachment:
    """An uploaded file; ``stored_name`` is generated, never the user's filename."""

    id: str
    name: str
    size: int
    content_type: str
    stored_name: str
    uploader: str
    created_at: datetime = field(default_factory=utc_now)


@dataclass(slots=True)
class Task:
    """A card on the team task board kept by the built-in ``tasks`` agent."""

    title: str
    created_by: str
    assignee: str | None = None
    state: str = "todo"
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)
    id: int | None = None


Page = tuple[list[Message], bool]
"""Messages oldest first, and whether more exist beyond them."""


@dataclass(slots=True)
class Run:
    """One agent turn; its events are :class:`RunEvent` rows numbered from 1."""

    run_id: str
    agent: str
    room_id: str = "general"
    reply_to: int | None = None
    thread_id: int | None = None
    status: str = RUN_RUNNING
    started_at: datetime = field(default_factory=utc_now)
    finished_at: datetime | None = None
    last_seq: int = 0


@dataclass(slots=True)
class RunEvent:
    """One AG-UI event of a run, as it was sent (camelCase dict)."""

    run_id: str
    seq: int
    event: dict[str, Any]
    created_at: datetime = field(default_factory=utc_now)

    @property
    def type(self) -> str:
        return str(self.event.get("type"))


@dataclass(slots=True)
class AuditEntry:
    """One line of the approvals audit log: a request, a decision, or how it closed."""

    action: str
    """``requested``, ``approve``, ``deny``, then ``approved``, ``denied``, ``expired`` or ``cancelled``."""
    actor: str
    approval_id: str
    run_id: str
    agent: str
    tool: str
    room_id: str = "general"
    detail: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=utc_now)
    id: int | None = None


@dataclass(slots=True)
class UsageRecord:
    """One model call in the usage ledger: its tokens (AG-UI ``TokenUsage`` accounting: cached and
    reasoning tokens are parts of input and output), its cost at the prices of the time, and how
    long it took."""

    run_id: str
    agent: str
    person: str | None
    """Who asked (the run's requester)."""
    room_id: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float = 0.0
    first_token_ms: int | None = None
    duration_ms: int = 0
    at: datetime = field(default_factory=utc_now)
    day: str = ""
    """The UTC day it counts on, ``YYYY-MM-DD`` (set from ``at`` when empty)."""
    id: int | None = None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class UsageTotal:
    """The ledger summed for one day, agent and person."""

    day: str
    agent: str
    person: str | None
    calls: int
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    reasoning_tokens: int
    cost_usd: float

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens
