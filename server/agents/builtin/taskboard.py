"""The team task board in the database (the ``tasks`` table), without any chat concerns."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ...store import Task, TaskStore

__all__ = ["BoardSummary", "TaskBoard", "TaskState"]


class TaskState(StrEnum):
    TODO = "todo"
    DOING = "doing"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class BoardSummary:
    total: int
    done: int

    @property
    def progress(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    def describe(self) -> str:
        if not self.total:
            return "No tasks on the board"
        if self.done == self.total:
            return f"All {self.total} tasks done"
        return f"{self.done} of {self.total} tasks done"


class TaskBoard:
    """Add, assign, move and remove tasks; every call is one short transaction."""

    def __init__(self, store: TaskStore) -> None:
        self.store = store

    async def add(self, title: str, created_by: str, assignee: str | None = None) -> Task:
        return await self.store.add_task(Task(title, created_by, assignee, TaskState.TODO.value))

    async def get(self, task_id: int) -> Task | None:
        return await self.store.get_task(task_id)

    async def update(self, task_id: int, *, state: TaskState | None = None, assignee: str | None = None) -> Task | None:
        return await self.store.update_task(task_id, state=state.value if state else None, assignee=assignee)

    async def delete(self, task_id: int) -> Task | None:
        return await self.store.delete_task(task_id)

    async def clear_done(self) -> int:
        return await self.store.delete_tasks_in_state(TaskState.DONE.value)

    async def list(self, include_done: bool = False, assignee: str | None = None) -> list[Task]:
        return await self.store.list_tasks(
            exclude_state=None if include_done else TaskState.DONE.value, assignee=assignee
        )

    async def summary(self) -> BoardSummary:
        return BoardSummary(await self.store.count_tasks(), await self.store.count_tasks(TaskState.DONE.value))
