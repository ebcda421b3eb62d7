"""SQLModel storage on SQLite (default) or PostgreSQL.

Writes go through one writer task that commits in small groups: a burst of messages
costs one transaction, and ids come out in the order they were committed.  Nothing is
broadcast before its commit (``on_commit`` runs after it).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event, func, insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, create_engine, select

from ..accounts.names import name_key
from .base import Page, Store
from .models import AgentStatusRow, Attachment, Message, User

__all__ = ["SqlStore", "migrate", "make_engine"]

log = logging.getLogger(__name__)
T = TypeVar("T")
MIGRATIONS = Path(__file__).with_name("migrations")
BATCH_MAX = 512
_MESSAGE_COLUMNS = tuple(c.name for c in Message.__table__.columns if c.name != "id")
MESSAGE_ORDER_LOCK = 7431002
"""PostgreSQL advisory lock held by each message insert transaction (7431001 guards migrations)."""


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
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
    """Apply Alembic migrations up to head (several processes may start at once)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(7431001)"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _fts_query(query: str) -> str:
    """User words as quoted FTS5 terms (so quotes or operators in them are not syntax)."""
    words = re.findall(r"\w+", query)
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


class SqlStore(Store):
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        self._writer_pool = ThreadPoolExecutor(1, thread_name_prefix="store-writer")
        self._reader_pool = ThreadPoolExecutor(4, thread_name_prefix="store-reader")
        self._pending: list[tuple[Message, Callable[[Message], None] | None, asyncio.Future[Message]]] = []
        self._wakeup: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        self._in_flight = False

    # lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer_pool, migrate, self.engine)
        self._wakeup = asyncio.Event()
        self._writer = asyncio.create_task(self._write_loop(), name="store-writer")

    async def flush(self) -> None:
        while self._pending or self._in_flight:  # nothing accepted is dropped
            await asyncio.sleep(0.005)

    async def close(self) -> None:
        if self._writer is not None:
            await self.flush()
            self._writer.cancel()
            try:
                await self._writer
            except asyncio.CancelledError:
                pass
            self._writer = None
        self._writer_pool.shutdown(wait=True)
        self._reader_pool.shutdown(wait=True)
        self.engine.dispose()

    def describe(self) -> dict[str, str]:
        return {"backend": self.dialect}

    async def _read(self, work: Callable[[Session], T]) -> T:
        def job() -> T:
            with Session(self.engine, expire_on_commit=False) as session:
                return work(session)

        return await asyncio.get_running_loop().run_in_executor(self._reader_pool, job)

    async def _write(self, work: Callable[[Session], T]) -> T:
        def job() -> T:
            with Session(self.engine, expire_on_commit=False) as session:
                result = work(session)
                session.commit()
                return result

        return await asyncio.get_running_loop().run_in_executor(self._writer_pool, job)

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` on the writer thread and commit (features with their own tables)."""
        return await self._write(work)

    async def read(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` on a reader thread, without committing."""
        return await self._read(work)

    # messages ----------------------------------------------------------------------------
    async def append(self, draft: Message, on_commit: Callable[[Message], None] | None = None) -> Message:
        if self._wakeup is None:
            raise RuntimeError("store is not started")
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending.append((draft, on_commit, future))
        self._wakeup.set()
        return await future

    async def _write_loop(self) -> None:
        assert self._wakeup is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch, self._pending = self._pending[:BATCH_MAX], self._pending[BATCH_MAX:]
                drafts = [item[0] for item in batch]
                self._in_flight = True
                try:
                    rows = await self._write(lambda s: self._insert(s, drafts))
                except Exception as exc:  # the batch failed as a whole: tell every sender
                    self._in_flight = False
                    log.exception("could not store %d messages", len(batch))
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                self._in_flight = False
                for row, (_, on_commit, future) in zip(rows, batch):
                    if on_commit is not None:
                        try:
                            on_commit(row)
                        except Exception:
                            log.exception("on_commit callback failed")
                    if not future.done():
                        future.set_result(row)

    @staticmethod
    def _insert(session: Session, drafts: list[Message]) -> list[Message]:
        if session.get_bind().dialect.name == "postgresql":
            # Several server processes: one inserting batch at a time, so ids are taken and
            # committed in the same order and a reader that sees id N sees every id below it
            # (the Redis fan-out repairs its order from the database on that promise).
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MESSAGE_ORDER_LOCK})
        # One multi-row INSERT ... RETURNING for the batch (Core, not the ORM unit of work):
        # ids come back in the order of the drafts.
        statement = insert(Message).returning(Message.__table__.c.id, sort_by_parameter_order=True)
        rows = [{name: getattr(draft, name) for name in _MESSAGE_COLUMNS} for draft in drafts]
        ids = session.execute(statement, rows).scalars().all()
        for draft, message_id in zip(drafts, ids):
            draft.id = message_id
        return drafts

    async def message_exists(self, message_id: int) -> bool:
        return await self._read(lambda s: s.get(Message, message_id) is not None)

    async def get_messages(self, ids: Iterable[int]) -> list[Message]:
        wanted = sorted(set(ids))
        if not wanted:
            return []
        return await self._read(
            lambda s: list(s.exec(select(Message).where(col(Message.id).in_(wanted)).order_by(col(Message.id))))
        )

    async def history(self, before_id: int | None, limit: int) -> Page:
        def work(s: Session) -> Page:
            query = select(Message).order_by(col(Message.id).desc()).limit(limit + 1)
            if before_id is not None:
                query = query.where(col(Message.id) < before_id)
            rows = list(s.exec(query))
            return list(reversed(rows[:limit])), len(rows) > limit

        return await self._read(work)

    async def after(self, after_id: int, cap: int) -> Page:
        def work(s: Session) -> Page:
            query = (
                select(Message).where(col(Message.id) > after_id).order_by(col(Message.id).desc()).limit(cap + 1)
            )
            rows = list(s.exec(query))
            return list(reversed(rows[:cap])), len(rows) > cap

        return await self._read(work)

    async def search(self, query: str, limit: int) -> list[Message]:
        def work(s: Session) -> list[Message]:
            if self.dialect == "sqlite":
                terms = _fts_query(query)
                if not terms:
                    return []
                ids = s.execute(
                    text("SELECT rowid FROM messages_fts WHERE messages_fts MATCH :q ORDER BY rowid DESC LIMIT :n"),
                    {"q": terms, "n": limit},
                ).scalars().all()
                found = {m.id: m for m in s.exec(select(Message).where(col(Message.id).in_(ids)))}
                return [found[i] for i in ids if i in found]
            if self.dialect == "postgresql":
                condition = func.to_tsvector("simple", Message.text).op("@@")(
                    func.websearch_to_tsquery("simple", query)
                )
            else:
                condition = col(Message.text).ilike(f"%{query}%")
            return list(s.exec(select(Message).where(condition).order_by(col(Message.id).desc()).limit(limit)))

        return await self._read(work)

    async def latest_id(self) -> int:
        return await self._read(lambda s: s.exec(select(func.max(Message.id))).one() or 0)

    # users -------------------------------------------------------------------------------
    async def get_user(self, name: str) -> User | None:
        return await self._read(lambda s: s.get(User, name))

    async def create_user(self, name: str, password_hash: str | None, role: str, is_agent: bool = False) -> User:
        def work(s: Session) -> User:
            if s.get(User, name) is not None:
                raise ValueError(f"user {name!r} already exists")
            humans = s.exec(select(func.count()).select_from(User).where(col(User.is_agent).is_(False))).one()
            user = User(
                name=name,
                name_key=name_key(name),
                password_hash=password_hash,
                role="admin" if (not is_agent and humans == 0) else role,
                is_agent=is_agent,
            )
            s.add(user)
            return user

        return await self._write(work)

    async def ensure_user(self, name: str, role: str, is_agent: bool = False) -> User:
        def work(s: Session) -> User:
            user = s.get(User, name)
            if user is None:
                user = User(name=name, name_key=name_key(name), role=role, is_agent=is_agent)
                s.add(user)
            elif is_agent and not user.is_agent:
                user.is_agent = True
            return user

        return await self._write(work)

    async def list_users(self) -> list[User]:
        return await self._read(lambda s: list(s.exec(select(User).order_by(col(User.name)))))

    async def set_role(self, name: str, role: str) -> User | None:
        def work(s: Session) -> User | None:
            user = s.get(User, name)
            if user is not None:
                user.role = role
            return user

        return await self._write(work)

    async def touch_users(self, names: Iterable[str], when: datetime) -> None:
        wanted = list(set(names))
        if not wanted:
            return

        def work(s: Session) -> None:
            for user in s.exec(select(User).where(col(User.name).in_(wanted))):
                user.last_seen = when

        await self._write(work)

    # agents ------------------------------------------------------------------------------
    async def save_agent_status(self, row: AgentStatusRow) -> None:
        await self._write(lambda s: s.merge(row))

    async def agent_statuses(self) -> list[AgentStatusRow]:
        return await self._read(lambda s: list(s.exec(select(AgentStatusRow).order_by(col(AgentStatusRow.agent)))))

    # files -------------------------------------------------------------------------------
    async def add_attachment(self, attachment: Attachment) -> Attachment:
        def work(s: Session) -> Attachment:
            s.add(attachment)
            return attachment

        return await self._write(work)

    async def get_attachments(self, ids: Iterable[str]) -> list[Attachment]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []

        def work(s: Session) -> list[Attachment]:
            found = {a.id: a for a in s.exec(select(Attachment).where(col(Attachment.id).in_(wanted)))}
            return [found[i] for i in wanted if i in found]

        return await self._read(work)
