"""History, recovery and search over real sockets, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Client, ServerProcess, connect_as

FAST = {"AGENTCHAT_AGENTS_ENABLED": "false", "AGENTCHAT_RESPONSE_DELAY_SECONDS": "0",
        "AGENTCHAT_MAX_MESSAGES_PER_HOUR": "1000000"}


@pytest.fixture()
def chat(db_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path / "srv", AGENTCHAT_DATABASE_URL=db_url, AGENTCHAT_RECOVERY_CAP="300", **FAST)
    yield proc.start()
    proc.stop()


async def _flood(client: Client, count: int, prefix: str) -> list[int]:
    """Send ``count`` messages as fast as possible; the ids the server gave them."""
    for i in range(count):
        await client.send("message", {"id": f"{prefix}{i}", "text": f"{prefix} message {i}"})
    ids = []
    for i in range(count):
        got = await client.expect("message", timeout=180, clientId=f"{prefix}{i}")
        ids.append(got["id"])
    return ids


@pytest.mark.timeout(1500)  # 10,000 messages stored and paged; minutes on a busy machine
async def test_paging_returns_every_message_exactly_once(chat: ServerProcess) -> None:
    writer = await connect_as(chat.url, "writer")
    sent = await _flood(writer, 10_000, "p")
    assert sent == sorted(sent) and len(set(sent)) == 10_000

    reader = await connect_as(chat.url, "reader")
    initial = reader.initial_history
    assert [m["data"]["id"] for m in initial["messages"]] == sent[-50:]  # shown at once
    assert initial["hasMore"] is True
    seen: list[int] = []
    before = None
    while True:
        await reader.send("history", {"beforeId": before, "limit": 200})
        page = await reader.expect("history", timeout=10, beforeId=before)
        ids = [m["data"]["id"] for m in page["messages"]]
        assert ids == sorted(ids)
        seen = ids + seen
        if not page["hasMore"]:
            break
        before = ids[0]
    assert seen == sent
    for c in (writer, reader):
        await c.close()


async def test_reconnect_recovers_exactly_what_was_missed(chat: ServerProcess) -> None:
    talker = await connect_as(chat.url, "talker")
    sleeper = await connect_as(chat.url, "sleeper")
    before = await talker.say("before the nap")
    last_seen = (await sleeper.expect("message", id=before["id"]))["id"]
    await sleeper.close()

    missed = await _flood(talker, 40, "m")

    # Others keep talking while the client comes back: nothing lost, nothing twice.
    async def keep_talking() -> list[int]:
        return await _flood(talker, 40, "live")

    chatter = asyncio.create_task(keep_talking())
    back = await Client.connect(chat.url)
    await back.auth("sleeper", last_message_id=last_seen)
    live_ids = await chatter
    recovery = await back.expect("recovery")
    assert recovery["truncated"] is False and recovery["lastMessageId"] == last_seen

    received: list[int] = []
    while len(received) < recovery["count"] + len(live_ids) and (not received or received[-1] != live_ids[-1]):
        frame = await back.expect("message", timeout=30)
        received.append(frame["id"])
    expected = missed + live_ids
    assert received[: len(expected)] == expected
    assert len(received) == len(set(received))
    for c in (talker, back):
        await c.close()


async def test_recovery_over_the_cap_is_truncated(chat: ServerProcess) -> None:
    talker = await connect_as(chat.url, "capper")
    first = await talker.say("start")
    sent = await _flood(talker, 350, "cap")
    back = await Client.connect(chat.url)
    await back.auth("late", last_message_id=first["id"])
    info = await back.expect("recovery")
    assert info["truncated"] is True and info["count"] == 300
    assert info["oldestId"] == sent[-300]
    ids = [(await back.expect("message"))["id"] for _ in range(300)]
    assert ids == sent[-300:]
    for c in (talker, back):
        await c.close()


@pytest.mark.parametrize(
    "kind, data",
    [
        ("history", {"beforeId": "abc", "limit": 10}),
        ("history", {"beforeId": -5}),
        ("history", {"beforeId": None, "limit": 0}),
        ("history", {"beforeId": None, "limit": 201}),
        ("history", {"limit": "ten"}),
        ("history", {"beforeId": 1.5}),
        ("search", {"query": ""}),
        ("search", {"query": "x", "limit": 1000}),
    ],
)
async def test_garbage_history_requests_get_clear_errors(chat: ServerProcess, kind: str, data: dict) -> None:
    client = await connect_as(chat.url, "garbage")
    await client.send(kind, data)
    err = await client.error("INVALID_MESSAGE")
    assert err["message"]
    assert (await client.say("still fine"))["text"] == "still fine"
    await client.close()


@pytest.mark.parametrize("value", ["latest", -1, 3.5, [1]])
async def test_garbage_last_message_id(chat: ServerProcess, value: object) -> None:
    client = await Client.connect(chat.url)
    await client.send("auth", {"userId": "x", "token": "t", "lastMessageId": value})
    err = await client.error("INVALID_MESSAGE")
    assert "lastMessageId" in err["message"]
    await client.close()


async def test_search_uses_full_text(chat: ServerProcess) -> None:
    client = await connect_as(chat.url, "searcher")
    a = await client.say("Deploying the payment service tonight")
    await client.say("lunch?")
    b = await client.say("payment logs look clean after deploying")
    await client.send("search", {"query": "payment deploying", "limit": 10})
    found = await client.expect("search")
    ids = [m["data"]["id"] for m in found["messages"]]
    assert ids[:2] == [b["id"], a["id"]]  # newest first
    await client.send("search", {"query": 'quote" OR "drop table', "limit": 10})
    assert (await client.expect("search"))["messages"] == []
    await client.close()


async def test_sigkill_loses_nothing_anyone_saw(db_url: str, tmp_path: Path) -> None:
    proc = ServerProcess(tmp_path / "srv", AGENTCHAT_DATABASE_URL=db_url, **FAST).start()
    talker = await connect_as(proc.url, "talker")
    watcher = await connect_as(proc.url, "watcher")
    received: list[int] = []

    async def watch() -> None:
        try:
            while True:
                frame = await watcher.expect("message", timeout=30)
                received.append(frame["id"])
        except (AssertionError, asyncio.CancelledError):
            pass

    watching = asyncio.create_task(watch())

    async def talk() -> None:
        i = 0
        try:
            while True:
                await talker.send("message", {"id": i, "text": f"mid-traffic {i}"})
                i += 1
                await asyncio.sleep(0.001)
        except Exception:
            pass

    talking = asyncio.create_task(talk())
    while len(received) < 300:
        await asyncio.sleep(0.05)
    proc.kill()  # SIGKILL mid-traffic
    await asyncio.wait_for(watcher.closed.wait(), 10)
    talking.cancel()
    watching.cancel()
    assert received, "the watcher saw messages before the crash"

    proc.start()
    reader = await connect_as(proc.url, "reader")
    stored: set[int] = set()
    before = None
    while True:
        await reader.send("history", {"beforeId": before, "limit": 200})
        page = await reader.expect("history", timeout=10, beforeId=before)
        ids = [m["data"]["id"] for m in page["messages"]]
        stored.update(ids)
        if not page["hasMore"]:
            break
        before = ids[0]
    assert set(received) <= stored
    await reader.close()
    proc.stop()


async def test_agent_statuses_follow_auth(chat: ServerProcess) -> None:
    agent = await connect_as(chat.url, "builder", role="agent")
    await agent.send("status_update", {"status": "working", "currentTask": "compiling", "progress": 60})
    await agent.expect("status_update", userId="builder", status="working")  # accepted and broadcast
    newcomer = await Client.connect(chat.url)
    await newcomer.auth("newcomer")
    order = []
    while "status_update" not in order:
        frame = await newcomer.next()
        order.append(frame["type"])
        if frame["type"] == "status_update" and frame["data"]["userId"] == "builder":
            assert frame["data"]["currentTask"] == "compiling" and frame["data"]["progress"] == 60
    assert order.index("history") < order.index("status_update")
    for c in (agent, newcomer):
        await c.close()
