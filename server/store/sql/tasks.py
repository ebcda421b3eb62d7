"""The task board's table in SQL (the built-in ``tasks`` agent's only storage)."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from agentchat_client.protocol import utc_now

from ..base import TaskStore
from ..records import Task
from ..tables import TaskRow
from .database import Database

__all__ = ["SqlTasks"]


def _task(row: TaskRow) -> Task:
    return Task(row.title, row.created_by, row.assignee, row.state, row.created_at, row.updated_at, row.id)


class SqlTasks(TaskStore):
    db: Database

    async def add_task(self, task: Task) -> Task:
        def work(s: Session) -> Task:
            row = TaskRow(title=task.title, created_by=task.created_by, assignee=task.assignee, state=task.state,
                          created_at=task.created_at, updated_at=task.updated_at)
            s.add(row)
            s.flush()
            task.id = row.id
            return task

        return await self.db.write(work)

    async def get_task(self, task_id: int) -> Task | None:
        def work(s: Session) -> Task | None:
            row = s.get(TaskRow, task_id)
            return _task(row) if row is not None else None

        return await self.db.read(work)

    async def update_task(self, task_id: int, *, state: str | None = None, assignee: str | None = None) -> Task | None:
        def work(s: Session) -> Task | None:
            row = s.get(TaskRow, task_id)
            if row is None:
                return None
            if state is not None:
                row.state = state
            if assignee is not None:
                row.assignee = assignee
            row.updated_at = utc_now()
            return _task(row)

        return await self.db.write(work)

    async def delete_task(self, task_id: int) -> Task | None:
        def work(s: Session) -> Task | None:
            row = s.get(TaskRow, task_id)
            if row is None:
                return None
            s.delete(row)
            return _task(row)

        return await self.db.write(work)

    async def delete_tasks_in_state(self, state: str) -> int:
        def work(s: Session) -> int:
            rows = list(s.exec(select(TaskRow).where(col(TaskRow.state) == state)))
            for row in rows:
                s.delete(row)
            return len(rows)

        return await self.db.write(work)

    async def list_tasks(self, *, exclude_state: str | None = None, assignee: str | None = None) -> list[Task]:
        query = select(TaskRow).order_by(col(TaskRow.id))
        if exclude_state is not None:
            query = query.where(col(TaskRow.state) != exclude_state)
        if assignee is not None:
            query = query.where(col(TaskRow.assignee) == assignee)
        return await self.db.read(lambda s: [_task(r) for r in s.exec(query)])

    async def count_tasks(self, state: str | None = None) -> int:
        query = select(func.count()).select_from(TaskRow)
        if state is not None:
            query = query.where(col(TaskRow.state) == state)
        return await self.db.read(lambda s: int(s.exec(query).one()))
