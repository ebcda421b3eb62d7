"""Search filters (``from:``, ``has:file``), the same in memory, SQLite and PostgreSQL, and over a socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.store import Message, Store, open_store
from tests.support import ServerProcess, connect_as

FILE = {"id": "f" * 32, "name": "plan.txt", "size": 3, "type": "text/plain"}


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    url = {"memory": "memory://", "sqlite": f"sqlite:///{tmp_path / 'chat.db'}"}.get(request.param)
    opened = open_store(url or request.getfixturevalue("pg_url"))
    await opened.start()
    yield opened
    await opened.close()


async def test_sender_and_file_filters(store: Store) -> None:
    await store.append(Message("Bob", "the plan is ready"))
    await store.append(Message("alice", "the plan attached", attachments=[FILE]))
    await store.append(Message("bob", "plan two", attachments=[FILE]))
    await store.append(Message("alice", "unrelated"))
    assert [m.text for m in await store.search("plan", 10, sender="BOB")] == ["plan two", "the plan is ready"]
    assert [m.text for m in await store.search("plan", 10, has_file=True)] == ["plan two", "the plan attached"]
    assert [m.text for m in await store.search("", 10, sender="alice")] == ["unrelated", "the plan attached"]
    assert [m.text for m in await store.search("", 10, sender="bob", has_file=True)] == ["plan two"]
    assert await store.search("", 10) == []  # nothing to look for finds nothing


async def test_search_frame_filters_and_echo(server: ServerProcess) -> None:
    finder = await connect_as(server.url, "filter-finder")
    await finder.say("kiwi from finder")
    other = await connect_as(server.url, "filter-other")
    await other.say("kiwi from other")
    await finder.send("search", {"query": "kiwi", "sender": "FILTER-OTHER"})
    found = await finder.expect("search")
    assert [m["data"]["text"] for m in found["messages"]] == ["kiwi from other"]
    assert found["sender"] == "FILTER-OTHER" and found["hasFile"] is False and found["query"] == "kiwi"
    await finder.send("search", {"query": ""})
    error = await finder.error("INVALID_MESSAGE")
    assert "filter" in error["message"]
    await finder.close()
    await other.close()
