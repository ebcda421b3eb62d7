"""The store contract, the same for the in-memory store, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from agentchat_client.protocol import utc_now
from server.store import AgentStatus, Message, MemoryStore, Store, Task, open_store


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "memory":
        url = "memory://"
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'chat.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    opened = open_store(url)
    await opened.start()
    yield opened
    await opened.close()


async def test_ids_increase_in_commit_order_and_commit_comes_first(store: Store) -> None:
    committed: list[int] = []
    rows = await asyncio.gather(*(
        store.append(Message("alice", f"m{i}"), on_commit=lambda row: committed.append(row.id or 0)) for i in range(20)
    ))
    ids = [row.id for row in rows]
    assert ids == sorted(ids) and len(set(ids)) == 20
    assert committed == ids, "on_commit runs in id order, once per message"
    assert await store.latest_id() == ids[-1]


async def test_history_after_and_search(store: Store) -> None:
    for i in range(1, 11):
        await store.append(Message("bob" if i % 2 else "alice", f"word{i} shared text", mentions=["x"]))
    page, more = await store.history(None, 4)
    assert [m.text.split()[0] for m in page] == ["word7", "word8", "word9", "word10"] and more
    older, more = await store.history(page[0].id, 10)
    assert len(older) == 6 and not more
    after, truncated = await store.after(page[0].id or 0, 2)
    assert [m.id for m in after] == [page[-2].id, page[-1].id] and truncated
    found = await store.search("shared word3", 10)
    assert [m.text for m in found] == ["word3 shared text"]
    assert len(await store.search("shared", 5)) == 5
    assert await store.search("!!!", 5) == []
    assert await store.message_exists(page[0].id or 0) and not await store.message_exists(10_000)
    got = await store.get_messages([page[1].id or 0, 10_000, page[0].id or 0])
    assert [m.id for m in got] == [page[0].id, page[1].id] and got[0].mentions == ["x"]


async def test_users_the_first_person_is_admin(store: Store) -> None:
    await store.ensure_user("helper", "agent", is_agent=True)
    first = await store.create_user("alice", "hash", "developer")
    second = await store.create_user("bob", "hash", "developer")
    assert (first.role, second.role) == ("admin", "developer")
    with pytest.raises(ValueError):
        await store.create_user("bob", "hash", "developer")
    when = utc_now() - timedelta(minutes=5)
    await store.touch_users(["bob", "nobody"], when)
    assert (await store.get_user("bob")).last_seen is not None  # type: ignore[union-attr]
    assert (await store.set_role("bob", "viewer")).role == "viewer"  # type: ignore[union-attr]
    assert [u.name for u in await store.list_users()] == ["alice", "bob", "helper"]


async def test_agent_statuses_and_tasks(store: Store) -> None:
    await store.save_agent_status(AgentStatus("tasks", "working", "Adding", 50.0))
    await store.save_agent_status(AgentStatus("tasks", "idle", None, None))
    assert [(s.agent, s.status) for s in await store.agent_statuses()] == [("tasks", "idle")]
    a = await store.add_task(Task("Ship v1", "alice"))
    b = await store.add_task(Task("Write docs", "bob", assignee="bob"))
    assert (a.id, b.id) != (None, None) and a.id != b.id
    await store.update_task(a.id or 0, state="done")
    assert [t.title for t in await store.list_tasks(exclude_state="done")] == ["Write docs"]
    assert [t.title for t in await store.list_tasks(assignee="bob")] == ["Write docs"]
    assert (await store.count_tasks(), await store.count_tasks("done")) == (2, 1)
    assert await store.delete_tasks_in_state("done") == 1
    assert await store.get_task(a.id or 0) is None and await store.update_task(999, state="done") is None


@pytest.mark.postgres
async def test_one_bad_row_never_costs_other_people_their_messages(pg_url: str) -> None:
    """A row the database refuses (here: a sender longer than the column) fails alone."""
    store = open_store(pg_url)
    await store.start()
    try:
        drafts = [Message(f"user{i}", f"hello {i}") for i in range(7)]
        drafts.insert(3, Message("x" * 40, "refused"))
        results = await asyncio.gather(*(store.append(d) for d in drafts), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        assert len(failed) == 1
        stored, _ = await store.history(None, 50)
        assert sorted(m.text for m in stored) == sorted(f"hello {i}" for i in range(7))
    finally:
        await store.close()


def test_memory_store_is_a_store() -> None:
    assert isinstance(MemoryStore(), Store)
