"""The storage interface the server talks to; ``sql.SqlStore`` implements it.

Kept small on purpose (Chainlit's data-layer idea): the hub never writes SQL, and a
different backend only has to provide these calls.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import Session

from .models import AgentStatusRow, Attachment, Message, User

__all__ = ["Store", "Page"]

T = TypeVar("T")
Page = tuple[list[Message], bool]
"""Messages oldest first, and whether more exist beyond them."""


class Store(ABC):
    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    async def flush(self) -> None:  # noqa: B027 - stores without a write queue have nothing to do
        """Wait until every accepted write is committed."""

    # messages
    @abstractmethod
    async def append(self, draft: Message, on_commit: Callable[[Message], None] | None = None) -> Message:
        """Persist ``draft``; ``on_commit`` runs after the commit, in id order across callers."""

    @abstractmethod
    async def message_exists(self, message_id: int) -> bool: ...

    @abstractmethod
    async def get_messages(self, ids: Iterable[int]) -> list[Message]: ...

    @abstractmethod
    async def history(self, before_id: int | None, limit: int) -> Page: ...

    @abstractmethod
    async def after(self, after_id: int, cap: int) -> Page:
        """Messages with id > after_id, oldest first; the newest ``cap`` if there are more."""

    @abstractmethod
    async def search(self, query: str, limit: int) -> list[Message]:
        """Newest first."""

    @abstractmethod
    async def latest_id(self) -> int: ...

    # users
    @abstractmethod
    async def get_user(self, name: str) -> User | None: ...

    @abstractmethod
    async def create_user(self, name: str, password_hash: str | None, role: str, is_agent: bool = False) -> User:
        """Create a user; the very first human account becomes admin whatever ``role`` says."""

    @abstractmethod
    async def ensure_user(self, name: str, role: str, is_agent: bool = False) -> User: ...

    @abstractmethod
    async def list_users(self) -> list[User]: ...

    @abstractmethod
    async def set_role(self, name: str, role: str) -> User | None: ...

    @abstractmethod
    async def touch_users(self, names: Iterable[str], when: datetime) -> None: ...

    # agents
    @abstractmethod
    async def save_agent_status(self, row: AgentStatusRow) -> None: ...

    @abstractmethod
    async def agent_statuses(self) -> list[AgentStatusRow]: ...

    # files
    @abstractmethod
    async def add_attachment(self, attachment: Attachment) -> Attachment: ...

    @abstractmethod
    async def get_attachments(self, ids: Iterable[str]) -> list[Attachment]: ...

    # escape hatch for features with their own tables (the tasks agent)
    @abstractmethod
    async def run(self, work: Callable[[Session], T]) -> T: ...

    def describe(self) -> dict[str, Any]:
        return {"backend": type(self).__name__}
