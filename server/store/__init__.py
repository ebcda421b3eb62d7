"""Persistence: the ``Store`` interface in plain records, in memory or in SQL."""

from .base import FileStore, MessageStore, RoomStore, StatusStore, Store, TaskStore, UserStore
from .memory import MemoryStore
from .records import UPDATE_KIND, AgentStatus, Attachment, Message, Page, RoomRecord, Task, UnreadCount, User

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
    "MemoryStore",
    "SqlStore",
    "open_store",
    "Message",
    "User",
    "AgentStatus",
    "Attachment",
    "Task",
    "Page",
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
