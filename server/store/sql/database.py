"""The database connection: engine, migrations, and the threads that talk to it.

Reads run on a small pool of threads; writes are serialised by one lock, so ids are assigned in
commit order (the Redis fan-out's gap repair relies on it).  Writes run on one writer thread,
except new messages on SQLite (``try_write_inline``): committing to a WAL without fsync takes
less time than two thread hand-offs, so when no other write holds the lock they commit on the
event loop.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

__all__ = ["Database", "make_engine", "migrate", "MIGRATIONS"]

T = TypeVar("T")
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
MIGRATION_LOCK = 7431001
"""PostgreSQL advisory lock held while migrating (several processes may start at once)."""


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # WAL + NORMAL: a committed transaction survives the process being killed.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Apply Alembic migrations up to head."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Database:
    """An engine plus the reader pool and the single writer thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        self.writer_pool = ThreadPoolExecutor(1, thread_name_prefix="store-writer")
        self.reader_pool = ThreadPoolExecutor(4, thread_name_prefix="store-reader")
        self.write_lock = threading.Lock()
        # Not when several worker processes share the file (AGENTCHAT_WORKERS): another process's
        # write would make the loop wait in SQLite's busy handler.
        self.inline_writes = self.dialect == "sqlite" and "AGENTCHAT_WORKER_INDEX" not in os.environ

    async def migrate(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self.writer_pool, migrate, self.engine)

    async def read(self, work: Callable[[Session], T]) -> T:
        def job() -> T:
            with Session(self.engine, expire_on_commit=False) as session:
                return work(session)

        return await asyncio.get_running_loop().run_in_executor(self.reader_pool, job)

    async def write(self, work: Callable[[Session], T]) -> T:
        """``work`` in one transaction on the writer thread, committed before this returns."""

        def job() -> T:
            with self.write_lock, Session(self.engine, expire_on_commit=False) as session:
                result = work(session)
                session.commit()
                return result

        return await asyncio.get_running_loop().run_in_executor(self.writer_pool, job)

    def try_write_inline(self, work: Callable[[], None]) -> bool:
        """Run ``work`` (which commits on a connection of its own) now, on the calling event-loop
        thread — no thread hop, no wake-up — if this database allows it (SQLite, one process) and
        no other write holds the lock; else do nothing and return False (the caller takes
        :meth:`write`).  It never makes the loop wait for another write."""
        if not self.inline_writes or not self.write_lock.acquire(blocking=False):
            return False
        try:
            work()
        finally:
            self.write_lock.release()
        return True

    async def checkpoint(self) -> None:
        """Copy SQLite's write-ahead log into the database file, on a reader thread (SQLite lets
        writers go on meanwhile; the driver releases the GIL), so that no commit on the event loop
        does it (see ``FastInsert``)."""

        def job() -> None:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

        await asyncio.get_running_loop().run_in_executor(self.reader_pool, job)

    def close(self) -> None:
        self.writer_pool.shutdown(wait=True)
        self.reader_pool.shutdown(wait=True)
        self.engine.dispose()
