"""Persistence: the ``Store`` interface and its SQLModel implementation."""

from .base import Page, Store
from .models import AgentStatusRow, Attachment, Message, Task, User
from .sql import SqlStore, make_engine, migrate

__all__ = ["Store", "Page", "SqlStore", "make_engine", "migrate", "Message", "User", "AgentStatusRow", "Attachment", "Task"]


def open_store(url: str) -> Store:
    """The store for a database URL (SQLite file or PostgreSQL)."""
    return SqlStore(url)
