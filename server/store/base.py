"""The storage interface, one small part per concern; ``sql`` and ``memory`` implement it.

Kept small on purpose (Chainlit's data-layer idea): the hub never writes SQL, it speaks in the
plain records of ``records.py``, and a different back end only has to provide these calls.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from ..core.approvals import Approval
from ..core.budgets import Spent
from ..core.edits import Change
from .records import AgentStatus, Attachment, AuditEntry, Message, Page, RoomRecord, Run, RunEvent, Task, UnreadCount, User
from .records import UsageRecord, UsageTotal

__all__ = ["Store", "MessageStore", "RoomStore", "UserStore", "StatusStore", "FileStore", "TaskStore", "RunStore",
           "ApprovalStore", "UsageStore", "OnCommit", "OnEventCommit"]

OnCommit = Callable[[Message], None]
"""Called once per row a write commits (a thread reply also commits its root's update row), in id order."""
OnEventCommit = Callable[[Run, RunEvent], None]


class AnnouncesCommits:
    """A store whose writes are broadcast from ``on_commit`` (messages, run events)."""

    announce_scope: Callable[[], AbstractContextManager[object]] = nullcontext
    """Wraps the ``on_commit`` calls of one commit batch (the hub sets it: one write per socket per batch)."""


class MessageStore(AnnouncesCommits, ABC):

    @abstractmethod
    async def append(self, draft: Message, on_commit: OnCommit | None = None) -> Message:
        """Persist ``draft`` (its ``id`` is set); ``on_commit`` runs after the commit, in id order.

        A reply in a thread (``thread_id``) also bumps its root's reply count, as an update row."""

    def submit(self, draft: Message, on_commit: OnCommit | None = None) -> asyncio.Future[Message]:
        """Accept ``draft`` now, in order with every write accepted before and after it; the
        future completes at its commit (as ``append`` would return).

        Lets a connection read its next frame while this one is stored, so one busy sender's
        messages share a commit.  The default runs ``append`` in a task; a store with a write
        queue puts the draft on it at once."""
        return asyncio.ensure_future(self.append(draft, on_commit))

    @abstractmethod
    async def update_message(self, target_id: int, change: Change, on_commit: OnCommit | None = None) -> Message | None:
        """Apply ``change`` (``core.edits.apply``) to a stored message and record it as an update
        row; the update row, or None when the change changed nothing."""

    @abstractmethod
    async def message_exists(self, message_id: int) -> bool:
        """True for a stored message (not an update row)."""

    @abstractmethod
    async def get_message(self, message_id: int) -> Message | None:
        """A stored message in its current state (None for an update row or an unknown id)."""

    @abstractmethod
    async def get_messages(self, ids: Iterable[int]) -> list[Message]:
        """The stored rows among ``ids`` (messages and update rows), in id order."""

    @abstractmethod
    async def history(
        self, before_id: int | None, limit: int, room_id: str = "general", thread_id: int | None = None
    ) -> Page:
        """The ``limit`` messages before ``before_id`` (the newest when None), oldest first, in their
        current state: the room's timeline, or a thread's replies when ``thread_id`` is given."""

    @abstractmethod
    async def after(self, after_id: int, cap: int, rooms: set[str] | None = None) -> Page:
        """Rows (messages and updates) with id > after_id in ``rooms`` (all when None), oldest
        first; the newest ``cap`` if there are more."""

    @abstractmethod
    async def search(self, query: str, limit: int, rooms: set[str] | None = None, sender: str | None = None,
                     has_file: bool = False) -> list[Message]:
        """Messages in ``rooms`` containing every word of ``query``, newest first (no tombstones);
        only ``sender``'s (any case) and only those with attachments when asked.  A query without
        words with a filter: the newest messages that pass it."""

    @abstractmethod
    async def latest_id(self) -> int: ...

    @abstractmethod
    async def unread_counts(self, user_id: str, read_positions: dict[str, int]) -> dict[str, UnreadCount]:
        """Per room: messages in its timeline after the read position not sent by ``user_id``, and
        of those the ones mentioning them (each count capped at 999)."""


class RoomStore(ABC):
    @abstractmethod
    async def list_rooms(self) -> list[RoomRecord]:
        """Every room but ``general``, with members and agent modes."""

    @abstractmethod
    async def save_room(self, room: RoomRecord) -> None:
        """Create or replace a room, its members and its agent modes."""

    @abstractmethod
    async def read_positions(self, user_id: str) -> dict[str, int]: ...

    @abstractmethod
    async def set_read_position(self, user_id: str, room_id: str, last_read_id: int) -> int:
        """Move the read position forward (never back); the position now."""


class UserStore(ABC):
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


class StatusStore(ABC):
    @abstractmethod
    async def save_agent_status(self, status: AgentStatus) -> None: ...

    @abstractmethod
    async def agent_statuses(self) -> list[AgentStatus]: ...


class FileStore(ABC):
    @abstractmethod
    async def add_attachment(self, attachment: Attachment) -> Attachment: ...

    @abstractmethod
    async def get_attachments(self, ids: Iterable[str]) -> list[Attachment]:
        """The known attachments among ``ids``, in the order asked."""


class TaskStore(ABC):
    @abstractmethod
    async def add_task(self, task: Task) -> Task: ...

    @abstractmethod
    async def get_task(self, task_id: int) -> Task | None: ...

    @abstractmethod
    async def update_task(self, task_id: int, *, state: str | None = None, assignee: str | None = None) -> Task | None:
        """Change what is given (and ``updated_at``); None when there is no such task."""

    @abstractmethod
    async def delete_task(self, task_id: int) -> Task | None: ...

    @abstractmethod
    async def delete_tasks_in_state(self, state: str) -> int: ...

    @abstractmethod
    async def list_tasks(self, *, exclude_state: str | None = None, assignee: str | None = None) -> list[Task]:
        """Oldest first."""

    @abstractmethod
    async def count_tasks(self, state: str | None = None) -> int: ...


class RunStore(AnnouncesCommits, ABC):
    """Runs and every event of every run (the replay of ``run_subscribe`` and ``/runs/{id}/events``)."""

    @abstractmethod
    def queue_run_event(self, run: Run, event: RunEvent, on_commit: OnEventCommit | None = None) -> asyncio.Future[bool]:
        """Store ``event`` of ``run`` without waiting: writes are batched, in the order queued.

        ``seq`` 1 creates the run; a terminal event records its status.  ``on_commit`` runs after
        the commit, in order (broadcast there: nobody sees an event that is not stored).  The
        future says whether it was stored; nobody has to await it."""

    @abstractmethod
    async def get_run(self, run_id: str) -> Run | None: ...

    @abstractmethod
    async def run_events(self, run_id: str, after_seq: int = 0, limit: int | None = None) -> list[RunEvent]:
        """The events of ``run_id`` with ``seq > after_seq``, in order."""

    @abstractmethod
    async def runs_in_progress(self) -> list[Run]:
        """Runs without a terminal event, oldest first."""


class ApprovalStore(ABC):
    """Approval requests and the audit log; every change of an approval is a compare-and-set."""

    @abstractmethod
    async def add_approval(self, approval: Approval, audit: AuditEntry) -> Approval:
        """Store a new request; the one already stored for its run and tool call if there is one."""

    @abstractmethod
    async def get_approval(self, approval_id: str) -> Approval | None: ...

    @abstractmethod
    async def update_approval(self, approval: Approval, expected_version: int, audit: Iterable[AuditEntry]) -> bool:
        """Replace the stored approval if its version is still ``expected_version`` (with the audit
        lines, in one transaction); False when someone else changed it first."""

    @abstractmethod
    async def pending_approvals(self) -> list[Approval]: ...

    @abstractmethod
    async def audit_log(self, limit: int = 100, before_id: int | None = None) -> list[AuditEntry]:
        """The newest lines first."""


class UsageStore(ABC):
    """The usage ledger: one row per model call, summed per day for budgets and the admin page."""

    @abstractmethod
    async def add_usage(self, record: UsageRecord) -> UsageRecord:
        """Store one call (its ``id`` is set)."""

    @abstractmethod
    async def usage_spent(self, day: str, *, agent: str | None = None, person: str | None = None) -> Spent:
        """Dollars and tokens spent on ``day`` by ``agent`` and/or for ``person`` (both None: everything)."""

    @abstractmethod
    async def usage_totals(self, first_day: str, last_day: str) -> list[UsageTotal]:
        """The ledger summed per day, agent and person for the days from ``first_day`` to
        ``last_day`` (inclusive), ordered by day, agent, person."""

    @abstractmethod
    async def run_usage(self, run_id: str) -> list[UsageRecord]:
        """The calls of one run, in the order made."""


class Store(MessageStore, RoomStore, UserStore, StatusStore, FileStore, TaskStore, RunStore, ApprovalStore, UsageStore,
            ABC):
    """Everything the server keeps."""

    @abstractmethod
    async def start(self) -> None:
        """Open (and, for a database, migrate)."""

    @abstractmethod
    async def close(self) -> None: ...

    async def flush(self) -> None:  # noqa: B027 - stores without a write queue have nothing to do
        """Wait until every accepted write is committed."""

    def describe(self) -> dict[str, Any]:
        return {"backend": type(self).__name__}
