"""SQLModel tables, private to ``store/sql``.  The schema itself is owned by the Alembic migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, DateTime, Float, Index, Integer, PrimaryKeyConstraint, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from agentchat_client.protocol import utc_now

__all__ = ["UserRow", "MessageRow", "AgentStatusRow", "AttachmentRow", "TaskRow", "RoomRow", "RoomMemberRow", "ReadPositionRow",
           "RunRow", "RunEventRow", "ApprovalRow", "ApprovalAuditRow", "UsageRow"]

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for a long life.
_BigId = BigInteger().with_variant(Integer(), "sqlite")


class UserRow(SQLModel, table=True):
    __tablename__ = "users"

    name: str = Field(primary_key=True, max_length=32)
    name_key: Optional[str] = Field(default=None, max_length=64)
    """Case-insensitive unique form of ``name`` (``server.core.names.name_key``)."""
    disabled: bool = Field(default=False)
    password_hash: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    role: str = Field(default="developer", max_length=16)
    is_agent: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False))
    last_seen: Optional[datetime] = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class MessageRow(SQLModel, table=True):
    """A chat message or an agent response; ``id`` is the authoritative, increasing id."""

    __tablename__ = "messages"

    id: Optional[int] = Field(default=None, sa_column=Column(_BigId, primary_key=True, autoincrement=True))
    kind: str = Field(default="message", max_length=20)
    sender: str = Field(max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False))
    mentions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reply_to: Optional[int] = Field(default=None, sa_column=Column(_BigId, nullable=True))
    is_command: bool = Field(default=False)
    agent_status: Optional[str] = Field(default=None, max_length=16)
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    client_id: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    stream_id: Optional[str] = Field(default=None, max_length=64)
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False))
    room_id: str = Field(default="general", max_length=64)
    thread_id: Optional[int] = Field(default=None, sa_column=Column(_BigId, nullable=True))
    reply_count: int = Field(default=0)
    last_reply_at: Optional[datetime] = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    edited_at: Optional[datetime] = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    deleted: bool = Field(default=False)
    reactions: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    target_id: Optional[int] = Field(default=None, sa_column=Column(_BigId, nullable=True))


class RoomRow(SQLModel, table=True):
    __tablename__ = "rooms"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=80)
    kind: str = Field(max_length=16)
    created_by: Optional[str] = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False))


class RoomMemberRow(SQLModel, table=True):
    __tablename__ = "room_members"

    room_id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(primary_key=True, max_length=32)
    agent_mode: Optional[str] = Field(default=None, max_length=16)
    joined_at: datetime = Field(default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False))


class ReadPositionRow(SQLModel, table=True):
    __tablename__ = "read_positions"

    user_id: str = Field(primary_key=True, max_length=32)
    room_id: str = Field(primary_key=True, max_length=64)
    last_read_id: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class AgentStatusRow(SQLModel, table=True):
    __tablename__ = "agent_status"

    agent: str = Field(primary_key=True, max_length=32)
    status: str = Field(default="idle", max_length=16)
    current_task: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    progress: Optional[float] = None
    updated_at: datetime = Field(default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False))


class AttachmentRow(SQLModel, table=True):
    """An uploaded file; ``stored_name`` is generated, never the user's filename."""

    __tablename__ = "attachments"

    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=255)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    content_type: str = Field(max_length=128)
    stored_name: str = Field(max_length=64)
    uploader: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False))


class TaskRow(SQLModel, table=True):
    """The team task board kept by the built-in ``tasks`` agent."""

    __tablename__ = "tasks"

    id: Optional[int] = Field(default=None, sa_column=Column(_BigId, primary_key=True, autoincrement=True))
    title: str = Field(sa_column=Column(Text, nullable=False))
    assignee: Optional[str] = Field(default=None, max_length=32)
    state: str = Field(default="todo", max_length=16)  # todo | doing | done
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False))


class RunRow(SQLModel, table=True):
    """One agent turn (``status`` is ``running`` until its terminal event)."""

    __tablename__ = "runs"

    run_id: str = Field(primary_key=True, max_length=64)
    room_id: str = Field(default="general", max_length=64)
    agent: str = Field(max_length=32)
    reply_to: Optional[int] = Field(default=None, sa_column=Column(_BigId, nullable=True))
    thread_id: Optional[int] = Field(default=None, sa_column=Column(_BigId, nullable=True))
    status: str = Field(default="running", max_length=16)
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    finished_at: Optional[datetime] = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    last_seq: int = Field(default=0)


class RunEventRow(SQLModel, table=True):
    """One AG-UI event of a run, its JSON as sent (text: any JSON, NUL escapes included)."""

    __tablename__ = "run_events"
    __table_args__ = (PrimaryKeyConstraint("run_id", "seq"),)

    run_id: str = Field(sa_column=Column(String(64), nullable=False))
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    type: str = Field(max_length=40)
    event: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ApprovalRow(SQLModel, table=True):
    """An approval request; ``version`` increases with every change (compare-and-set)."""

    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("run_id", "tool_call_id", name="uq_approvals_tool_call"),)

    approval_id: str = Field(primary_key=True, max_length=32)
    run_id: str = Field(max_length=64)
    tool_call_id: str = Field(max_length=128)
    room_id: str = Field(default="general", max_length=64)
    agent: str = Field(max_length=32)
    tool: str = Field(max_length=64)
    args: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reply_to: Optional[int] = Field(default=None, sa_column=Column(_BigId, nullable=True))
    status: str = Field(default="pending", max_length=16)
    decisions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    requested_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    resolved_at: Optional[datetime] = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    resolved_by: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    version: int = Field(default=0)


class ApprovalAuditRow(SQLModel, table=True):
    """The audit log of approvals: every request, decision and outcome (admins read it)."""

    __tablename__ = "approval_audit"

    id: Optional[int] = Field(default=None, sa_column=Column(_BigId, primary_key=True, autoincrement=True))
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    action: str = Field(max_length=16)
    actor: str = Field(max_length=32)
    approval_id: str = Field(max_length=32)
    run_id: str = Field(max_length=64)
    room_id: str = Field(default="general", max_length=64)
    agent: str = Field(max_length=32)
    tool: str = Field(max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class UsageRow(SQLModel, table=True):
    """The usage ledger: one model call (``day`` is its UTC day, for the daily sums)."""

    __tablename__ = "usage_ledger"

    id: Optional[int] = Field(default=None, sa_column=Column(_BigId, primary_key=True, autoincrement=True))
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    day: str = Field(max_length=10)
    run_id: str = Field(max_length=64)
    agent: str = Field(max_length=32)
    person: Optional[str] = Field(default=None, max_length=32)
    room_id: str = Field(default="general", max_length=64)
    model: str = Field(max_length=128)
    input_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    output_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cached_input_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    reasoning_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cost_usd: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    first_token_ms: Optional[int] = Field(default=None, sa_column=Column(Integer, nullable=True))
    duration_ms: int = Field(default=0, sa_column=Column(Integer, nullable=False))


_messages = MessageRow.__table__  # type: ignore[attr-defined]
Index("ix_messages_reply_to", _messages.c.reply_to)
Index("ix_messages_room_id", _messages.c.room_id, _messages.c.id)
Index("ix_messages_thread_id", _messages.c.thread_id, _messages.c.id)
Index("ix_runs_status", RunRow.__table__.c.status)  # type: ignore[attr-defined]
Index("ix_approvals_status", ApprovalRow.__table__.c.status)  # type: ignore[attr-defined]
Index("ix_approval_audit_approval", ApprovalAuditRow.__table__.c.approval_id)  # type: ignore[attr-defined]
Index("ix_usage_ledger_day_agent", UsageRow.__table__.c.day, UsageRow.__table__.c.agent)  # type: ignore[attr-defined]
Index("ix_usage_ledger_day_person", UsageRow.__table__.c.day, UsageRow.__table__.c.person)  # type: ignore[attr-defined]
Index("ix_usage_ledger_run", UsageRow.__table__.c.run_id)  # type: ignore[attr-defined]
