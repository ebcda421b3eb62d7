"""The store on SQLite (default) or PostgreSQL, through SQLModel/SQLAlchemy and Alembic."""

from __future__ import annotations

import asyncio
from typing import Any

from ..base import Store
from .database import Database, make_engine, migrate
from .messages import SqlMessages
from .people import SqlPeople
from .rooms import SqlRooms
from .runs import SqlRuns
from .tasks import SqlTasks
from .usage import SqlUsage

__all__ = ["SqlStore", "Database", "make_engine", "migrate"]


class SqlStore(SqlMessages, SqlRooms, SqlPeople, SqlTasks, SqlRuns, SqlUsage, Store):
    def __init__(self, url: str) -> None:
        self.url = url
        self.db = Database(url)
        self._writer: asyncio.Task[None] | None = None
        self._pending = []
        self._wakeup = None
        self._in_flight = False
        self._fast = None
        self._inline_commits = 0
        self._checkpoint = None
        self._run_writer: asyncio.Task[None] | None = None
        self._run_queue = []
        self._run_wakeup = None
        self._run_in_flight = False

    @property
    def dialect(self) -> str:
        return self.db.dialect

    @property
    def engine(self) -> Any:
        return self.db.engine

    async def start(self) -> None:
        await self.db.migrate()
        self._writer = self._start_writer()
        self._run_writer = self._start_run_writer()

    async def flush(self) -> None:
        await super().flush()
        await self._flush_runs()

    async def close(self) -> None:
        if self._writer is not None:
            await self.flush()
        for task in (self._writer, self._run_writer):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        self._writer = self._run_writer = None
        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)
        if self._fast is not None:
            self._fast.close()
            self._fast = None
        self.db.close()

    def describe(self) -> dict[str, str]:
        return {"backend": self.dialect}
