"""Messages in SQL: the batched writer and the reads (history, recovery, search).

Writes go through one writer task that commits in small groups: a burst of messages costs one
transaction, and ids come out in the order they were committed.  Nothing is broadcast before its
commit (``on_commit`` runs after it).  If a batch fails, its messages are retried one by one, so
one bad row never costs other people their messages.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, func, insert, select, text
from sqlmodel import Session

from ..base import MessageStore, OnCommit
from ..records import Message, Page
from ..tables import MessageRow
from .database import Database

__all__ = ["SqlMessages", "MESSAGE_ORDER_LOCK"]

log = logging.getLogger(__name__)
BATCH_MAX = 512
MESSAGE_ORDER_LOCK = 7431002
"""PostgreSQL advisory lock held by each message insert transaction."""
_TABLE = MessageRow.__table__  # type: ignore[attr-defined]
_COLUMNS = tuple(c.name for c in _TABLE.columns if c.name != "id")
Pending = tuple[Message, OnCommit | None, "asyncio.Future[Message]"]


def _record(row: Row[Any]) -> Message:
    return Message(**row._mapping)


def _fts_query(query: str) -> str:
    """User words as quoted FTS5 terms (so quotes or operators in them are not syntax)."""
    words = re.findall(r"\w+", query)
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def _insert(session: Session, drafts: list[Message]) -> list[Message]:
    if session.get_bind().dialect.name == "postgresql":
        # Several server processes: one inserting batch at a time, so ids are taken and committed
        # in the same order and a reader that sees id N sees every id below it (the Redis
        # fan-out repairs its order from the database on that promise).
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MESSAGE_ORDER_LOCK})
    # One multi-row INSERT ... RETURNING for the batch: ids come back in the order of the drafts.
    statement = insert(_TABLE).returning(_TABLE.c.id, sort_by_parameter_order=True)
    rows = [{name: getattr(draft, name) for name in _COLUMNS} for draft in drafts]
    ids = session.execute(statement, rows).scalars().all()
    for draft, message_id in zip(drafts, ids):
        draft.id = message_id
    return drafts


class SqlMessages(MessageStore):
    db: Database
    _pending: list[Pending]
    _wakeup: asyncio.Event | None
    _in_flight: bool

    def _start_writer(self) -> asyncio.Task[None]:
        self._pending = []
        self._in_flight = False
        self._wakeup = asyncio.Event()
        return asyncio.create_task(self._write_loop(), name="store-writer")

    async def flush(self) -> None:
        while self._pending or self._in_flight:  # nothing accepted is dropped
            await asyncio.sleep(0.005)

    async def append(self, draft: Message, on_commit: OnCommit | None = None) -> Message:
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
                self._in_flight = True
                try:
                    await self._commit(batch)
                finally:
                    self._in_flight = False

    async def _commit(self, batch: list[Pending]) -> None:
        drafts = [item[0] for item in batch]
        try:
            await self.db.write(lambda s: _insert(s, drafts))
        except Exception:
            if len(batch) == 1:
                log.exception("could not store a message from %s", drafts[0].sender)
                _fail(batch[0])
                return
            log.warning("a batch of %d messages failed; storing them one by one", len(batch), exc_info=True)
            for item in batch:
                await self._commit([item])
            return
        for draft, on_commit, future in batch:
            if on_commit is not None:
                try:
                    on_commit(draft)
                except Exception:
                    log.exception("on_commit callback failed")
            if not future.done():
                future.set_result(draft)

    # reads -------------------------------------------------------------------------------
    async def message_exists(self, message_id: int) -> bool:
        query = select(_TABLE.c.id).where(_TABLE.c.id == message_id)
        return await self.db.read(lambda s: s.execute(query).first() is not None)

    async def get_messages(self, ids: Iterable[int]) -> list[Message]:
        wanted = sorted(set(ids))
        if not wanted:
            return []
        query = select(_TABLE).where(_TABLE.c.id.in_(wanted)).order_by(_TABLE.c.id)
        return await self.db.read(lambda s: [_record(r) for r in s.execute(query)])

    async def history(self, before_id: int | None, limit: int) -> Page:
        query = select(_TABLE).order_by(_TABLE.c.id.desc()).limit(limit + 1)
        if before_id is not None:
            query = query.where(_TABLE.c.id < before_id)

        def work(s: Session) -> Page:
            rows = [_record(r) for r in s.execute(query)]
            return list(reversed(rows[:limit])), len(rows) > limit

        return await self.db.read(work)

    async def after(self, after_id: int, cap: int) -> Page:
        query = select(_TABLE).where(_TABLE.c.id > after_id).order_by(_TABLE.c.id.desc()).limit(cap + 1)

        def work(s: Session) -> Page:
            rows = [_record(r) for r in s.execute(query)]
            return list(reversed(rows[:cap])), len(rows) > cap

        return await self.db.read(work)

    async def search(self, query: str, limit: int) -> list[Message]:
        dialect = self.db.dialect

        def work(s: Session) -> list[Message]:
            if dialect == "sqlite":
                terms = _fts_query(query)
                if not terms:
                    return []
                ids = s.execute(
                    text("SELECT rowid FROM messages_fts WHERE messages_fts MATCH :q ORDER BY rowid DESC LIMIT :n"),
                    {"q": terms, "n": limit},
                ).scalars().all()
                found = {r.id: _record(r) for r in s.execute(select(_TABLE).where(_TABLE.c.id.in_(ids)))}
                return [found[i] for i in ids if i in found]
            if dialect == "postgresql":
                condition = func.to_tsvector("simple", _TABLE.c.text).op("@@")(func.websearch_to_tsquery("simple", query))
            else:
                condition = _TABLE.c.text.ilike(f"%{query}%")
            statement = select(_TABLE).where(condition).order_by(_TABLE.c.id.desc()).limit(limit)
            return [_record(r) for r in s.execute(statement)]

        return await self.db.read(work)

    async def latest_id(self) -> int:
        return await self.db.read(lambda s: s.execute(select(func.max(_TABLE.c.id))).scalar() or 0)


def _fail(item: Pending) -> None:
    _, _, future = item
    if not future.done():
        future.set_exception(RuntimeError("the message could not be stored"))
