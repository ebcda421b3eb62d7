"""The whole store in memory: for the core's tests and for a throw-away chat.

Same behaviour as the SQL store where the hub can tell: ids increase in commit order,
``on_commit`` runs before ``append`` returns, the first human account becomes admin, search
matches every word.  Nothing survives the process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from bisect import bisect_left
from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from agentchat_client.protocol import utc_now

from agentchat_client.protocol import TERMINAL_EVENTS

from ..core.approvals import Approval
from ..core.budgets import Spent, usage_day
from ..core.runs import run_outcome
from ..core.edits import Change, MessageState, apply
from .base import OnCommit, OnEventCommit, Store
from .records import (
    RUN_RUNNING,
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

__all__ = ["MemoryStore"]

T = TypeVar("T")


def _copy(record: T) -> T:
    return dataclasses.replace(record)  # type: ignore[type-var]


class MemoryStore(Store):
    def __init__(self) -> None:
        self._messages: list[Message] = []
        self._ids: list[int] = []
        self._users: dict[str, User] = {}
        self._statuses: dict[str, AgentStatus] = {}
        self._files: dict[str, Attachment] = {}
        self._tasks: dict[int, Task] = {}
        self._rooms: dict[str, RoomRecord] = {}
        self._read: dict[str, dict[str, int]] = {}
        self._next_task = 1
        self._runs: dict[str, Run] = {}
        self._run_events: dict[str, list[RunEvent]] = {}
        self._approvals: dict[str, Approval] = {}
        self._audit: list[AuditEntry] = []
        self._usage: list[UsageRecord] = []

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    # messages ----------------------------------------------------------------------------
    def _next_id(self) -> int:
        return (self._ids[-1] if self._ids else 0) + 1

    def _insert(self, row: Message) -> Message:
        row.id = self._next_id()
        self._messages.append(_copy(row))
        self._ids.append(row.id)
        return row

    def _row(self, message_id: int) -> Message | None:
        index = bisect_left(self._ids, message_id)
        if index < len(self._ids) and self._ids[index] == message_id:
            return self._messages[index]
        return None

    def _change(self, target_id: int, change: Change) -> Message | None:
        row = self._row(target_id)
        if row is None or row.is_update:
            return None
        state = MessageState(
            target_id, row.room_id, row.sender, row.text, row.thread_id, row.edited_at, row.deleted,
            {k: list(v) for k, v in row.reactions.items()}, row.reply_count, row.last_reply_at, row.attachments,
        )
        if not apply(state, change):
            return None
        row.text, row.edited_at, row.deleted, row.reactions = state.text, state.edited_at, state.deleted, state.reactions
        row.attachments, row.reply_count, row.last_reply_at = state.attachments, state.reply_count, state.last_reply_at
        return self._insert(Message(
            sender=change.by, text=state.text, kind=UPDATE_KIND, created_at=change.at, room_id=state.room_id,
            thread_id=state.thread_id, reply_count=state.reply_count, last_reply_at=state.last_reply_at,
            edited_at=state.edited_at, deleted=state.deleted, reactions=state.reactions, target_id=target_id,
        ))

    @staticmethod
    def _committed(rows: list[Message], on_commit: OnCommit | None) -> None:
        if on_commit is not None:
            for row in rows:
                on_commit(row)

    async def append(self, draft: Message, on_commit: OnCommit | None = None) -> Message:
        return self._append(draft, on_commit)

    def submit(self, draft: Message, on_commit: OnCommit | None = None) -> asyncio.Future[Message]:
        """Stored at once, so nothing written later can overtake it."""
        done: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        done.set_result(self._append(draft, on_commit))
        return done

    def _append(self, draft: Message, on_commit: OnCommit | None) -> Message:
        rows = [self._insert(draft)]
        if draft.thread_id is not None:
            bump = self._change(draft.thread_id, Change("reply", draft.sender, draft.created_at))
            if bump is not None:
                rows.append(bump)
        self._committed(rows, on_commit)
        return draft

    async def update_message(self, target_id: int, change: Change, on_commit: OnCommit | None = None) -> Message | None:
        row = self._change(target_id, change)
        self._committed([row] if row else [], on_commit)
        return _copy(row) if row else None

    async def message_exists(self, message_id: int) -> bool:
        row = self._row(message_id)
        return row is not None and not row.is_update

    async def get_message(self, message_id: int) -> Message | None:
        row = self._row(message_id)
        return _copy(row) if row is not None and not row.is_update else None

    async def get_messages(self, ids: Iterable[int]) -> list[Message]:
        return [_copy(row) for i in sorted(set(ids)) if (row := self._row(i)) is not None]

    async def history(
        self, before_id: int | None, limit: int, room_id: str = "general", thread_id: int | None = None
    ) -> Page:
        end = len(self._ids) if before_id is None else bisect_left(self._ids, before_id)
        rows = [
            m for m in self._messages[:end]
            if not m.is_update and m.room_id == room_id and m.thread_id == thread_id
        ]
        return [_copy(m) for m in rows[-limit:]], len(rows) > limit

    async def after(self, after_id: int, cap: int, rooms: set[str] | None = None) -> Page:
        start = bisect_left(self._ids, after_id + 1)
        rows = [m for m in self._messages[start:] if rooms is None or m.room_id in rooms]
        return [_copy(m) for m in rows[-cap:]], len(rows) > cap

    async def search(self, query: str, limit: int, rooms: set[str] | None = None, sender: str | None = None,
                     has_file: bool = False) -> list[Message]:
        words = [w.lower() for w in re.findall(r"\w+", query)]
        if not words and sender is None and not has_file:
            return []
        found = []
        for message in reversed(self._messages):
            if message.is_update or message.deleted or (rooms is not None and message.room_id not in rooms):
                continue
            if (sender is not None and message.sender.lower() != sender.lower()) or (has_file and not message.attachments):
                continue
            text = set(re.findall(r"\w+", message.text.lower()))
            if all(w in text for w in words):
                found.append(_copy(message))
                if len(found) >= limit:
                    break
        return found

    async def latest_id(self) -> int:
        return self._ids[-1] if self._ids else 0

    async def unread_counts(self, user_id: str, read_positions: dict[str, int]) -> dict[str, UnreadCount]:
        counts = {}
        for room_id, last_read in read_positions.items():
            timeline = [m for m in self._messages if m.room_id == room_id and not m.is_update]
            newer = [m for m in timeline if (m.id or 0) > last_read and m.thread_id is None and not m.deleted
                     and m.sender != user_id][:999]
            last = max((m.id or 0 for m in timeline), default=0)
            counts[room_id] = UnreadCount(len(newer), sum(1 for m in newer if user_id in m.mentions), last)
        return counts

    # rooms -------------------------------------------------------------------------------
    async def list_rooms(self) -> list[RoomRecord]:
        return [_copy(r) for r in self._rooms.values()]

    async def save_room(self, room: RoomRecord) -> None:
        self._rooms[room.room_id] = RoomRecord(
            room.room_id, room.name, room.kind, room.created_by, list(room.members), dict(room.agent_modes),
            room.created_at,
        )

    async def read_positions(self, user_id: str) -> dict[str, int]:
        return dict(self._read.get(user_id, {}))

    async def set_read_position(self, user_id: str, room_id: str, last_read_id: int) -> int:
        mine = self._read.setdefault(user_id, {})
        mine[room_id] = max(mine.get(room_id, 0), last_read_id)
        return mine[room_id]

    # users -------------------------------------------------------------------------------
    async def get_user(self, name: str) -> User | None:
        user = self._users.get(name)
        return _copy(user) if user else None

    async def create_user(self, name: str, password_hash: str | None, role: str, is_agent: bool = False) -> User:
        if name in self._users:
            raise ValueError(f"user {name!r} already exists")
        first_human = not is_agent and not any(not u.is_agent for u in self._users.values())
        user = User(name, "admin" if first_human else role, is_agent, password_hash)
        self._users[name] = user
        return _copy(user)

    async def ensure_user(self, name: str, role: str, is_agent: bool = False) -> User:
        user = self._users.get(name)
        if user is None:
            user = self._users[name] = User(name, role, is_agent)
        elif is_agent and not user.is_agent:
            user.is_agent = True
        return _copy(user)

    async def list_users(self) -> list[User]:
        return [_copy(u) for _, u in sorted(self._users.items())]

    async def set_role(self, name: str, role: str) -> User | None:
        user = self._users.get(name)
        if user is None:
            return None
        user.role = role
        return _copy(user)

    async def touch_users(self, names: Iterable[str], when: datetime) -> None:
        for name in names:
            if name in self._users:
                self._users[name].last_seen = when

    # agent statuses ----------------------------------------------------------------------
    async def save_agent_status(self, status: AgentStatus) -> None:
        self._statuses[status.agent] = _copy(status)

    async def agent_statuses(self) -> list[AgentStatus]:
        return [_copy(s) for _, s in sorted(self._statuses.items())]

    # files -------------------------------------------------------------------------------
    async def add_attachment(self, attachment: Attachment) -> Attachment:
        self._files[attachment.id] = _copy(attachment)
        return attachment

    async def get_attachments(self, ids: Iterable[str]) -> list[Attachment]:
        return [_copy(self._files[i]) for i in dict.fromkeys(ids) if i in self._files]

    # tasks -------------------------------------------------------------------------------
    async def add_task(self, task: Task) -> Task:
        task.id = self._next_task
        self._next_task += 1
        self._tasks[task.id] = _copy(task)
        return task

    async def get_task(self, task_id: int) -> Task | None:
        task = self._tasks.get(task_id)
        return _copy(task) if task else None

    async def update_task(self, task_id: int, *, state: str | None = None, assignee: str | None = None) -> Task | None:
        task = self._tasks.get(task_id)
        if task is None:
            return None
        if state is not None:
            task.state = state
        if assignee is not None:
            task.assignee = assignee
        task.updated_at = utc_now()
        return _copy(task)

    async def delete_task(self, task_id: int) -> Task | None:
        return self._tasks.pop(task_id, None)

    async def delete_tasks_in_state(self, state: str) -> int:
        doomed = [i for i, t in self._tasks.items() if t.state == state]
        for task_id in doomed:
            del self._tasks[task_id]
        return len(doomed)

    async def list_tasks(self, *, exclude_state: str | None = None, assignee: str | None = None) -> list[Task]:
        return [
            _copy(t) for _, t in sorted(self._tasks.items())
            if (exclude_state is None or t.state != exclude_state) and (assignee is None or t.assignee == assignee)
        ]

    async def count_tasks(self, state: str | None = None) -> int:
        return sum(1 for t in self._tasks.values() if state is None or t.state == state)

    # runs --------------------------------------------------------------------------------
    def queue_run_event(self, run: Run, event: RunEvent, on_commit: OnEventCommit | None = None) -> asyncio.Future[bool]:
        stored = self._runs.get(run.run_id)
        if stored is None:
            stored = self._runs[run.run_id] = _copy(run)
            self._run_events[run.run_id] = []
        self._run_events[run.run_id].append(_copy(event))
        stored.last_seq = event.seq
        if event.type in TERMINAL_EVENTS:
            stored.status = run_outcome(event.event)
            stored.finished_at = event.created_at
        if on_commit is not None:
            on_commit(_copy(stored), event)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        future.set_result(True)
        return future

    async def get_run(self, run_id: str) -> Run | None:
        run = self._runs.get(run_id)
        return _copy(run) if run else None

    async def run_events(self, run_id: str, after_seq: int = 0, limit: int | None = None) -> list[RunEvent]:
        events = [_copy(e) for e in self._run_events.get(run_id, ()) if e.seq > after_seq]
        return events[:limit] if limit is not None else events

    async def runs_in_progress(self) -> list[Run]:
        return [_copy(r) for r in self._runs.values() if r.status == RUN_RUNNING]

    # approvals ---------------------------------------------------------------------------
    async def add_approval(self, approval: Approval, audit: AuditEntry) -> Approval:
        for existing in self._approvals.values():
            if existing.run_id == approval.run_id and existing.tool_call_id == approval.tool_call_id:
                return existing
        self._approvals[approval.approval_id] = approval
        self._add_audit(audit)
        return approval

    async def get_approval(self, approval_id: str) -> Approval | None:
        return self._approvals.get(approval_id)

    async def update_approval(self, approval: Approval, expected_version: int, audit: Iterable[AuditEntry]) -> bool:
        current = self._approvals.get(approval.approval_id)
        if current is None or current.version != expected_version:
            return False
        self._approvals[approval.approval_id] = approval
        for entry in audit:
            self._add_audit(entry)
        return True

    async def pending_approvals(self) -> list[Approval]:
        return sorted((a for a in self._approvals.values() if a.pending), key=lambda a: a.requested_at)

    def _add_audit(self, entry: AuditEntry) -> None:
        entry = _copy(entry)
        entry.id = len(self._audit) + 1
        self._audit.append(entry)

    async def audit_log(self, limit: int = 100, before_id: int | None = None) -> list[AuditEntry]:
        entries = [e for e in reversed(self._audit) if before_id is None or (e.id or 0) < before_id]
        return [_copy(e) for e in entries[:limit]]

    # usage ledger ------------------------------------------------------------------------
    async def add_usage(self, record: UsageRecord) -> UsageRecord:
        record.day = record.day or usage_day(record.at)
        record.id = len(self._usage) + 1
        self._usage.append(_copy(record))
        return record

    async def usage_spent(self, day: str, *, agent: str | None = None, person: str | None = None) -> Spent:
        rows = [r for r in self._usage if r.day == day and agent in (None, r.agent) and person in (None, r.person)]
        return Spent(sum(r.cost_usd for r in rows), sum(r.total_tokens for r in rows))

    async def usage_totals(self, first_day: str, last_day: str) -> list[UsageTotal]:
        groups: dict[tuple[str, str, str], list[UsageRecord]] = {}
        for r in self._usage:
            if first_day <= r.day <= last_day:
                groups.setdefault((r.day, r.agent, r.person or ""), []).append(r)
        return [
            UsageTotal(day, agent, person or None, len(rows), sum(r.input_tokens for r in rows),
                       sum(r.output_tokens for r in rows), sum(r.cached_input_tokens for r in rows),
                       sum(r.reasoning_tokens for r in rows), sum(r.cost_usd for r in rows))
            for (day, agent, person), rows in sorted(groups.items())
        ]

    async def run_usage(self, run_id: str) -> list[UsageRecord]:
        return [_copy(r) for r in self._usage if r.run_id == run_id]
