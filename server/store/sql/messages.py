"""Messages in SQL: the batched writer and the reads (history, recovery, search, unread counts).

Writes go through one writer task that commits in small groups: a burst of messages costs one
transaction, and ids come out in the order they were committed.  The writer never waits to fill
a batch: a batch is whatever was queued while the previous one committed (often just one).  On
SQLite a batch of new messages only (the common case) goes through ``FastInsert``, right on the
event loop when no other write holds the lock (``Database.try_write_inline``); otherwise, and for
edits, thread replies and PostgreSQL, the writer thread takes the SQLAlchemy path.  Nothing is
broadcast before its commit (``on_commit`` runs after it, once per row, in id order).  A change
to a message (edit, delete, reaction, a thread's reply count) is applied to the stored row and
recorded as an update row in the same transaction, so it takes the next id of the same sequence.
If a batch fails, its writes are retried one by one, so one bad row never costs other people
their messages.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, and_, func, insert, select, text, update
from sqlmodel import Session

from agentchat_client.protocol import MessageType

from ...core.edits import Change, MessageState, apply
from ..base import MessageStore, OnCommit
from ..records import UPDATE_KIND, Message, Page, UnreadCount
from ..tables import MessageRow
from .database import Database
from .fast_insert import FastInsert

__all__ = ["SqlMessages", "MESSAGE_ORDER_LOCK"]

log = logging.getLogger(__name__)
BATCH_MAX = 512
CHECKPOINT_EVERY = 256
"""Commits on the event loop between two checkpoints of SQLite's log from a thread (SQLite's own
automatic checkpoint comes every ~1,000 pages; a message commit writes a few)."""
UNREAD_CAP = 999
MESSAGE_ORDER_LOCK = 7431002
"""PostgreSQL advisory lock held by each message insert transaction."""
_TABLE = MessageRow.__table__  # type: ignore[attr-defined]
_COLUMNS = tuple(c.name for c in _TABLE.columns if c.name != "id")
_VISIBLE = (MessageType.MESSAGE.value, MessageType.AGENT_RESPONSE.value)


@dataclass(slots=True)
class _Write:
    """One queued write: a new message, or a change to a stored one."""

    draft: Message | None
    change: tuple[int, Change] | None
    on_commit: OnCommit | None
    future: asyncio.Future[Message | None]
    rows: list[Message] | None = None


def _record(row: Row[Any]) -> Message:
    return Message(**row._mapping)


def _fts_query(query: str) -> str:
    """User words as quoted FTS5 terms (so quotes or operators in them are not syntax)."""
    words = re.findall(r"\w+", query)
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def _insert_many(session: Session, drafts: list[Message]) -> None:
    # One multi-row INSERT ... RETURNING: ids come back in the order of the drafts.
    statement = insert(_TABLE).returning(_TABLE.c.id, sort_by_parameter_order=True)
    rows = [{name: getattr(draft, name) for name in _COLUMNS} for draft in drafts]
    for draft, message_id in zip(drafts, session.execute(statement, rows).scalars().all()):
        draft.id = message_id


def _change(session: Session, target_id: int, change: Change) -> Message | None:
    """Apply ``change`` to the stored message; the update row recording it, or None."""
    query = select(_TABLE).where(_TABLE.c.id == target_id, _TABLE.c.kind != UPDATE_KIND)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    found = session.execute(query).first()
    if found is None:
        return None
    row = _record(found)
    state = MessageState(
        row.id or 0, row.room_id, row.sender, row.text, row.thread_id, row.edited_at, row.deleted,
        {k: list(v) for k, v in row.reactions.items()}, row.reply_count, row.last_reply_at, row.attachments,
    )
    if not apply(state, change):
        return None
    session.execute(update(_TABLE).where(_TABLE.c.id == target_id).values(
        text=state.text, edited_at=state.edited_at, deleted=state.deleted, reactions=state.reactions,
        attachments=state.attachments, reply_count=state.reply_count, last_reply_at=state.last_reply_at,
    ))
    record = Message(
        sender=change.by, text=state.text, kind=UPDATE_KIND, created_at=change.at, room_id=state.room_id,
        thread_id=state.thread_id, reply_count=state.reply_count, last_reply_at=state.last_reply_at,
        edited_at=state.edited_at, deleted=state.deleted, reactions=state.reactions, target_id=target_id,
    )
    _insert_many(session, [record])
    return record


def _commit_writes(session: Session, writes: list[_Write]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # Several server processes: one writing batch at a time, so ids are taken and committed
        # in the same order and a reader that sees id N sees every id below it (the Redis
        # fan-out repairs its order from the database on that promise).
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MESSAGE_ORDER_LOCK})
    plain: list[_Write] = []

    def flush_plain() -> None:
        if plain:
            _insert_many(session, [w.draft for w in plain if w.draft is not None])
            for write in plain:
                write.rows = [write.draft]  # type: ignore[list-item]
            plain.clear()

    for write in writes:
        if write.draft is not None and write.draft.thread_id is None:
            plain.append(write)
            continue
        flush_plain()
        if write.draft is not None:  # a reply in a thread: the reply, then its root's new count
            _insert_many(session, [write.draft])
            bump = _change(session, write.draft.thread_id or 0, Change("reply", write.draft.sender, write.draft.created_at))
            write.rows = [write.draft] + ([bump] if bump is not None else [])
        else:
            assert write.change is not None
            updated = _change(session, *write.change)
            write.rows = [updated] if updated is not None else []
    flush_plain()


class SqlMessages(MessageStore):
    db: Database
    _pending: list[_Write]
    _wakeup: asyncio.Event | None
    _in_flight: bool
    _fast: FastInsert | None
    _inline_commits: int
    _checkpoint: asyncio.Task[None] | None

    def _start_writer(self) -> asyncio.Task[None]:
        # SQLite only, and only on the loop thread: from the writer thread one statement per row
        # waits for the GIL after each (the loop is busy exactly when batches are big), where
        # SQLAlchemy's multi-row INSERT ... RETURNING makes a batch one round trip.
        self._fast = FastInsert(self.db.engine, MESSAGE_ORDER_LOCK) if self.db.dialect == "sqlite" else None
        self._pending = []
        self._in_flight = False
        self._inline_commits = 0
        self._checkpoint = None
        self._wakeup = asyncio.Event()
        return asyncio.create_task(self._write_loop(), name="store-writer")

    async def _checkpoint_wal(self) -> None:
        try:
            await self.db.checkpoint()
        except Exception:
            log.warning("could not checkpoint the write-ahead log (the next one will)", exc_info=True)
        finally:
            self._checkpoint = None

    async def flush(self) -> None:
        while self._pending or self._in_flight:  # nothing accepted is dropped
            await asyncio.sleep(0.005)

    def _accept(self, write: _Write) -> asyncio.Future[Message | None]:
        if self._wakeup is None:
            raise RuntimeError("store is not started")
        self._pending.append(write)
        self._wakeup.set()
        return write.future

    async def append(self, draft: Message, on_commit: OnCommit | None = None) -> Message:
        await self.submit(draft, on_commit)
        return draft

    def submit(self, draft: Message, on_commit: OnCommit | None = None) -> asyncio.Future[Message]:
        """On the write queue now; the future gives ``draft`` (its id set) once committed."""
        future: asyncio.Future[Message | None] = asyncio.get_running_loop().create_future()
        return self._accept(_Write(draft, None, on_commit, future))  # type: ignore[return-value]

    async def update_message(self, target_id: int, change: Change, on_commit: OnCommit | None = None) -> Message | None:
        future: asyncio.Future[Message | None] = asyncio.get_running_loop().create_future()
        return await self._accept(_Write(None, (target_id, change), on_commit, future))

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

    async def _commit(self, batch: list[_Write]) -> None:
        try:
            drafts = [w.draft for w in batch if w.draft is not None and w.draft.thread_id is None]
            fast = self._fast
            if fast is not None and len(drafts) == len(batch) and self.db.try_write_inline(lambda: fast.insert(drafts)):
                for write in batch:
                    write.rows = [write.draft]  # type: ignore[list-item]
                self._inline_commits += 1
                if self._inline_commits >= CHECKPOINT_EVERY and self._checkpoint is None:
                    self._inline_commits = 0
                    self._checkpoint = asyncio.create_task(self._checkpoint_wal(), name="store-checkpoint")
            else:
                await self.db.write(lambda s: _commit_writes(s, batch))
        except Exception:
            for write in batch:
                write.rows = None
            if len(batch) == 1:
                log.exception("could not store a write from %s", _who(batch[0]))
                if not batch[0].future.done():
                    batch[0].future.set_exception(RuntimeError("the message could not be stored"))
                return
            log.warning("a batch of %d writes failed; storing them one by one", len(batch), exc_info=True)
            for write in batch:
                await self._commit([write])
            return
        with self.announce_scope():
            for write in batch:
                rows = write.rows or []
                if write.on_commit is not None:
                    for row in rows:
                        try:
                            write.on_commit(row)
                        except Exception:
                            log.exception("on_commit callback failed")
                if not write.future.done():
                    write.future.set_result(rows[0] if rows else None)

    # reads -------------------------------------------------------------------------------
    async def message_exists(self, message_id: int) -> bool:
        query = select(_TABLE.c.id).where(_TABLE.c.id == message_id, _TABLE.c.kind != UPDATE_KIND)
        return await self.db.read(lambda s: s.execute(query).first() is not None)

    async def get_message(self, message_id: int) -> Message | None:
        query = select(_TABLE).where(_TABLE.c.id == message_id, _TABLE.c.kind != UPDATE_KIND)

        def work(s: Session) -> Message | None:
            found = s.execute(query).first()
            return _record(found) if found is not None else None

        return await self.db.read(work)

    async def get_messages(self, ids: Iterable[int]) -> list[Message]:
        wanted = sorted(set(ids))
        if not wanted:
            return []
        query = select(_TABLE).where(_TABLE.c.id.in_(wanted)).order_by(_TABLE.c.id)
        return await self.db.read(lambda s: [_record(r) for r in s.execute(query)])

    async def history(
        self, before_id: int | None, limit: int, room_id: str = "general", thread_id: int | None = None
    ) -> Page:
        where = [_TABLE.c.room_id == room_id, _TABLE.c.kind != UPDATE_KIND]
        where.append(_TABLE.c.thread_id == thread_id if thread_id is not None else _TABLE.c.thread_id.is_(None))
        if before_id is not None:
            where.append(_TABLE.c.id < before_id)
        query = select(_TABLE).where(and_(*where)).order_by(_TABLE.c.id.desc()).limit(limit + 1)

        def work(s: Session) -> Page:
            rows = [_record(r) for r in s.execute(query)]
            return list(reversed(rows[:limit])), len(rows) > limit

        return await self.db.read(work)

    async def after(self, after_id: int, cap: int, rooms: set[str] | None = None) -> Page:
        query = select(_TABLE).where(_TABLE.c.id > after_id)
        if rooms is not None:
            query = query.where(_TABLE.c.room_id.in_(sorted(rooms)))
        query = query.order_by(_TABLE.c.id.desc()).limit(cap + 1)

        def work(s: Session) -> Page:
            rows = [_record(r) for r in s.execute(query)]
            return list(reversed(rows[:cap])), len(rows) > cap

        return await self.db.read(work)

    async def search(self, query: str, limit: int, rooms: set[str] | None = None, sender: str | None = None,
                     has_file: bool = False) -> list[Message]:
        dialect = self.db.dialect
        visible = [_TABLE.c.kind.in_(_VISIBLE), _TABLE.c.deleted.is_(False)]
        if rooms is not None:
            visible.append(_TABLE.c.room_id.in_(sorted(rooms)))
        if sender is not None:
            visible.append(func.lower(_TABLE.c.sender) == sender.lower())
        if has_file:
            visible.append(func.json_array_length(_TABLE.c.attachments) > 0)
        words = re.findall(r"\w+", query)
        if not words and sender is None and not has_file:
            return []

        def work(s: Session) -> list[Message]:
            if not words:  # filters alone (``from:bob has:file``): the newest that pass them
                statement = select(_TABLE).where(*visible).order_by(_TABLE.c.id.desc()).limit(limit)
                return [_record(r) for r in s.execute(statement)]
            if dialect == "sqlite":
                terms = _fts_query(query)
                # FTS finds candidates newest first; the room and kind filters apply after, so
                # ask for more than needed and page on until enough are found.
                found: list[Message] = []
                offset, page = 0, max(limit * 4, 200)
                while len(found) < limit:
                    ids = s.execute(
                        text("SELECT rowid FROM messages_fts WHERE messages_fts MATCH :q "
                             "ORDER BY rowid DESC LIMIT :n OFFSET :o"),
                        {"q": terms, "n": page, "o": offset},
                    ).scalars().all()
                    if not ids:
                        break
                    rows = {r.id: _record(r) for r in s.execute(select(_TABLE).where(_TABLE.c.id.in_(ids), *visible))}
                    found += [rows[i] for i in ids if i in rows]
                    offset += page
                return found[:limit]
            if dialect == "postgresql":
                condition = func.to_tsvector("simple", _TABLE.c.text).op("@@")(func.websearch_to_tsquery("simple", query))
            else:
                condition = _TABLE.c.text.ilike(f"%{query}%")
            statement = select(_TABLE).where(condition, *visible).order_by(_TABLE.c.id.desc()).limit(limit)
            return [_record(r) for r in s.execute(statement)]

        return await self.db.read(work)

    async def latest_id(self) -> int:
        return await self.db.read(lambda s: s.execute(select(func.max(_TABLE.c.id))).scalar() or 0)

    async def unread_counts(self, user_id: str, read_positions: dict[str, int]) -> dict[str, UnreadCount]:
        dialect = self.db.dialect
        if dialect == "postgresql":
            mentions_me = text("(messages.mentions::jsonb ? :me)")
        else:
            mentions_me = text("EXISTS (SELECT 1 FROM json_each(messages.mentions) WHERE value = :me)")

        def work(s: Session) -> dict[str, UnreadCount]:
            counts: dict[str, UnreadCount] = {}
            for room_id, last_read in read_positions.items():
                newer = select(_TABLE.c.id, _TABLE.c.mentions).where(
                    _TABLE.c.room_id == room_id, _TABLE.c.id > last_read, _TABLE.c.kind.in_(_VISIBLE),
                    _TABLE.c.thread_id.is_(None), _TABLE.c.deleted.is_(False), _TABLE.c.sender != user_id,
                ).limit(UNREAD_CAP).subquery()
                unread = s.execute(select(func.count()).select_from(newer)).scalar() or 0
                mentions = 0
                if unread:
                    mentions = s.execute(
                        select(func.count()).select_from(_TABLE).where(
                            _TABLE.c.id.in_(select(newer.c.id)), mentions_me,
                        ), {"me": user_id},
                    ).scalar() or 0
                last = s.execute(
                    select(func.max(_TABLE.c.id)).where(_TABLE.c.room_id == room_id, _TABLE.c.kind.in_(_VISIBLE))
                ).scalar() or 0
                counts[room_id] = UnreadCount(int(unread), int(mentions), int(last))
            return counts

        return await self.db.read(work)


def _who(write: _Write) -> str:
    if write.draft is not None:
        return write.draft.sender
    return write.change[1].by if write.change else "?"
