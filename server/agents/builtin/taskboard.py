"""The team task board in the database (the ``tasks`` table), without any chat concerns."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, col, func, select

from agentchat_client.protocol import utc_now
from ...store import Store, Task

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

    def __init__(self, store: Store) -> None:
        self.store = store

    async def add(self, title: str, created_by: str, assignee: str | None = None) -> Task:
        def work(s: Session) -> Task:
            task = Task(title=title, created_by=created_by, assignee=assignee, state=TaskState.TODO.value)
            s.add(task)
            s.flush()
            return task

        return await self.store.run(work)

    async def get(self, task_id: int) -> Task | None:
        return await self.store.run(lambda s: s.get(Task, task_id))

    async def update(self, task_id: int, *, state: TaskState | None = None, assignee: str | None = None) -> Task | None:
        def work(s: Session) -> Task | None:
            task = s.get(Task, task_id)
            if task is None:
                return None
            if state is not None:
                task.state = state.value
            if assignee is not None:
                task.assignee = assignee
            task.updated_at = utc_now()
            s.add(task)
            return task

        return await self.store.run(work)

    async def delete(self, task_id: int) -> Task | None:
        def work(s: Session) -> Task | None:
            task = s.get(Task, task_id)
            if task is not None:
                s.delete(task)
            return task

        return await self.store.run(work)

    async def clear_done(self) -> int:
        def work(s: Session) -> int:
            done = list(s.exec(select(Task).where(col(Task.state) == TaskState.DONE.value)))
            for task in done:
                s.delete(task)
            return len(done)

        return await self.store.run(work)

    async def list(self, include_done: bool = False, assignee: str | None = None) -> list[Task]:
        def work(s: Session) -> list[Task]:
            query = select(Task).order_by(col(Task.id))
            if not include_done:
                query = query.where(col(Task.state) != TaskState.DONE.value)
            if assignee is not None:
                query = query.where(col(Task.assignee) == assignee)
            return list(s.exec(query))

        return await self.store.run(work)

    async def summary(self) -> BoardSummary:
        def work(s: Session) -> BoardSummary:
            total = s.exec(select(func.count()).select_from(Task)).one()
            done = s.exec(select(func.count()).select_from(Task).where(col(Task.state) == TaskState.DONE.value)).one()
            return BoardSummary(int(total), int(done))

        return await self.store.run(work)
