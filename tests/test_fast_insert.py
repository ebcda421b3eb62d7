"""The driver-level insert of new messages stores exactly what the ORM path stores, on both databases."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from sqlalchemy import JSON, Boolean, DateTime

from agentchat_client.protocol import utc_now
from server.store import Message, open_store
from server.store.sql import SqlStore
from server.store.sql.database import Database
from server.store.sql.fast_insert import _TABLE, FastInsert
from server.store.sql.messages import _insert_many


def _full_message(text: str) -> Message:
    return Message(
        "alice", text, kind="agent_response", mentions=["bob", "carol"], reply_to=3, is_command=True,
        agent_status="working", attachments=[{"id": "f1", "name": "a.txt", "size": 3, "type": "text/plain"}],
        client_id='"c-1"', stream_id="s1", extra={"runId": "r1", "n": [1, 2]},
        created_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc), room_id="general",
        reply_count=2, last_reply_at=datetime(2026, 1, 2, 3, 5, 0, 1, tzinfo=timezone.utc),
        edited_at=datetime(2026, 1, 2, 3, 6, tzinfo=timezone.utc), deleted=True,
        reactions={"👍": ["bob"]},
    )


def _fields(message: Message) -> dict[str, object]:
    return {name: getattr(message, name) for name in Message.__slots__ if name != "id"}  # type: ignore[attr-defined]


async def test_rows_read_back_equal_to_the_orm_path(db_url: str) -> None:
    store = open_store(db_url)
    await store.start()
    try:
        assert isinstance(store, SqlStore)
        for make in (_full_message, lambda text: Message("bob", text, created_at=datetime(2026, 3, 1, tzinfo=timezone.utc))):
            fast, orm = make("fast"), make("orm")
            await store.db.write(lambda s: _insert_many(s, [orm]))
            FastInsert(store.db.engine, 1).insert([fast])
            assert fast.id is not None and orm.id is not None and fast.id != orm.id
            got_fast, got_orm = await store.get_message(fast.id), await store.get_message(orm.id)
            assert got_fast is not None and got_orm is not None
            assert {**_fields(got_fast), "text": "x"} == {**_fields(got_orm), "text": "x"}
        assert (await store.search("fast", 5))[0].text == "fast"  # the full-text index saw it too
    finally:
        await store.close()


async def test_quick_bind_values_are_the_column_types_own(db_url: str) -> None:
    db = Database(db_url)
    try:
        fast = FastInsert(db.engine, 1)
        aware = datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
        samples: dict[type, list[object]] = {
            JSON: [[], {}, ["x"], {"a": ["b"]}, None], DateTime: [aware, utc_now(), None], Boolean: [True, False, None],
        }
        checked = 0
        for name, quick in fast.columns:
            column_type = _TABLE.c[name].type
            own = column_type.dialect_impl(db.engine.dialect).bind_processor(db.engine.dialect)
            for kind, values in samples.items():
                if isinstance(column_type, kind):
                    for value in values:
                        mine = quick(value) if quick else value
                        theirs = own(value) if own else value
                        assert type(mine) is type(theirs) and str(mine) == str(theirs), (name, value)
                        checked += 1
        assert checked > 10
    finally:
        db.close()


async def test_a_failed_batch_leaves_no_row_and_the_next_one_works(db_url: str) -> None:
    store = open_store(db_url)
    await store.start()
    try:
        assert isinstance(store, SqlStore)
        writer = FastInsert(store.db.engine, 1)
        bad = Message("alice", "too long a sender" * 10, created_at=utc_now())  # fine in SQLite, too long in PostgreSQL
        bad.text = None  # type: ignore[assignment]  # NOT NULL everywhere
        good = Message("alice", "kept", created_at=utc_now())
        try:
            writer.insert([good, bad])
        except Exception:
            pass
        else:
            raise AssertionError("a NULL text must fail")
        assert good.id is None and await store.latest_id() == 0
        await asyncio.to_thread(writer.insert, [good])
        assert good.id == await store.latest_id() and good.id is not None
        writer.close()
    finally:
        await store.close()


async def test_the_write_ahead_log_is_checkpointed_from_a_thread_and_stays_bounded(tmp_path: object) -> None:
    """Commits on the event loop never checkpoint SQLite's log themselves; the store does it every
    ``CHECKPOINT_EVERY`` commits from a thread, so the log is reused instead of growing."""
    from pathlib import Path

    from server.store.sql.messages import CHECKPOINT_EVERY

    path = Path(str(tmp_path)) / "chat.db"
    store = open_store(f"sqlite:///{path}")
    await store.start()
    try:
        assert isinstance(store, SqlStore)
        wal = Path(f"{path}-wal")
        sizes = []
        for _ in range(4):
            for i in range(CHECKPOINT_EVERY):  # one at a time: one commit each, as at a low message rate
                await store.append(Message("alice", f"message {i} " + "x" * 200, created_at=utc_now()))
            if store._checkpoint is not None:
                await store._checkpoint
            sizes.append(wal.stat().st_size)
        # Without checkpoints the log (its file only ever grows) would be ~4x its size after the
        # first round; checkpointed, the log starts again from its beginning and keeps its size.
        assert sizes[-1] < 2 * sizes[0], f"the log grew from {sizes[0]} to {sizes[-1]} bytes"
        assert (await store.latest_id()) == 4 * CHECKPOINT_EVERY  # and nothing was lost on the way
    finally:
        await store.close()
