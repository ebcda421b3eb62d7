"""Persistence: the ``Store`` interface in plain records, in memory or in SQL."""

from .base import ApprovalStore, FileStore, MessageStore, RoomStore, RunStore, StatusStore, Store, TaskStore, UsageStore, UserStore
from .memory import MemoryStore
from .records import (
    UPDATE_KIND,
    AgentStatus,
    Attachment,
    AuditEntry,
    Message,
    Page,
    RoomRecord,
    Run,
    RunEvent,
    Task,
    UnreadCount,
    UsageRecord,
    UsageTotal,
    User,
)

__all__ = [
    "Store",
    "MessageStore",
    "RoomStore",
    "RoomRecord",
    "UnreadCount",
    "UPDATE_KIND",
    "UserStore",
    "StatusStore",
    "FileStore",
    "TaskStore",
    "RunStore",
    "ApprovalStore",
    "UsageStore",
    "UsageRecord",
    "UsageTotal",
    "MemoryStore",
    "SqlStore",
    "open_store",
    "Message",
    "User",
    "AgentStatus",
    "Attachment",
    "Task",
    "Page",
    "Run",
    "RunEvent",
    "AuditEntry",
]


def open_store(url: str) -> Store:
    """The store for a database URL (SQLite file or PostgreSQL); ``memory://`` keeps nothing."""
    if url.startswith("memory:"):
        return MemoryStore()
    from .sql import SqlStore

    return SqlStore(url)


def __getattr__(name: str) -> object:
    # ``SqlStore`` pulls in SQLAlchemy; import it only when asked for.
    if name == "SqlStore":
        from .sql import SqlStore

        return SqlStore
    raise AttributeError(name)
