"""Scale-out: two ``python -m server`` processes as one chat, through real Redis and PostgreSQL.

One pair of processes (A hosts the agents, B does not) serves the module; the SIGKILL test runs
last because it kills B.  Skipped, with the reason, only when Redis or PostgreSQL is unreachable.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from server.core.events import Event
from server.backends.fanout.redis import TAIL_CHECK_SECONDS, RedisFanout
from server.backends.presence.redis import RedisPresence
from agentchat_client.protocol import MessageType
from server.backends.ratelimit.redis import RedisRateLimiter
from server.backends.redis_client import RedisUnavailableError, connect
from server.store import Message
from tests.support import ROOT, Client, ServerProcess, connect_as, token

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

REDIS_URL = os.environ.get("AGENTCHAT_TEST_REDIS", "redis://127.0.0.1:6379/0")
PG_ADMIN = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc"]
PRESENCE_TTL = 2.0
MESSAGE_TYPES = ("message", "agent_response")


# fixtures ---------------------------------------------------------------------------------------------
def _redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({exc})")
    return client


@pytest.fixture(scope="module")
def prefix() -> Iterator[str]:
    """A key prefix of our own; every key under it is deleted afterwards."""
    client = _redis_or_skip()
    name = "agentchat_test_" + uuid.uuid4().hex[:10]
    yield name
    keys = list(client.scan_iter(match=f"{name}:*", count=500))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="module")
def scratch_db() -> Iterator[str]:
    name = "agentchat_scale_" + uuid.uuid4().hex[:10]
    try:
        subprocess.run([*PG_ADMIN, f"CREATE DATABASE {name}"], check=True, capture_output=True, timeout=30)
    except (subprocess.CalledProcessError, FileNotFoundError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432 ({exc})")
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    subprocess.run([*PG_ADMIN, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, prefix: str, scratch_db: str
) -> Iterator[dict[str, ServerProcess]]:
    """Process A hosts the agents; B serves clients only.  Same database, Redis prefix and secret."""
    common = {
        "AGENTCHAT_DATABASE_URL": scratch_db,
        "AGENTCHAT_REDIS_URL": REDIS_URL,
        "AGENTCHAT_REDIS_PREFIX": prefix,
        "AGENTCHAT_PRESENCE_TTL_SECONDS": str(PRESENCE_TTL),
        "AGENTCHAT_RESPONSE_DELAY_SECONDS": "0",
        "AGENTCHAT_MAX_MESSAGES_PER_HOUR": "40",
        "AGENTCHAT_LLM_BASE_URL": "",
        "AGENTCHAT_LOG_LEVEL": "INFO",
    }
    a = ServerProcess(tmp_path_factory.mktemp("a"), AGENTCHAT_AGENT_HOST="true", **common)
    b = ServerProcess(tmp_path_factory.mktemp("b"), AGENTCHAT_AGENT_HOST="false", **common)
    try:
        a.start()
        b.start()
        yield {"a": a, "b": b}
    finally:
        for proc in (a, b):
            proc.stop()


# helpers ---------------------------------------------------------------------------------------------
async def skip_catch_up(client: Client) -> None:
    """Read the history frame (unless ``connect_as`` did) and the status frames that follow auth."""
    if not getattr(client, "initial_history", None):
        await client.expect("history")
    await client.quiet(0.1)


async def collect(client: Client, marker: str, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    """The next ``count`` messages whose text contains ``marker``, in arrival order."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"got {len(got)} of {count} messages marked {marker!r}")
        frame = await client.next(remaining)
        if frame["type"] in MESSAGE_TYPES and marker in frame["data"]["text"]:
            got.append(frame["data"])
    return got


async def presence_events(client: Client, user: str, seconds: float) -> list[str]:
    frames = await client.quiet(seconds)
    return [f["data"]["status"] for f in frames if f["type"] == "user_presence" and f["data"]["userId"] == user]


async def wait_presence(client: Client, user: str, status: str, timeout: float) -> float:
    start = time.monotonic()
    await client.expect("user_presence", timeout, userId=user, status=status)
    return time.monotonic() - start


# tests -----------------------------------------------------------------------------------------------
async def test_unreachable_redis_is_a_clear_error() -> None:
    with pytest.raises(RedisUnavailableError, match="AGENTCHAT_REDIS_URL"):
        await connect("redis://127.0.0.1:1/0")


def test_server_refuses_to_start_without_redis(tmp_path: Path) -> None:
    env = {**os.environ, "AGENTCHAT_DATA_DIR": str(tmp_path), "AGENTCHAT_PORT": "0",
           "AGENTCHAT_REDIS_URL": "redis://127.0.0.1:1/0", "AGENTCHAT_AGENTS_ENABLED": "false",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "server"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert "cannot reach Redis at redis://127.0.0.1:1/0 (AGENTCHAT_REDIS_URL)" in done.stderr


async def test_presence_expires_with_its_process(prefix: str) -> None:
    """Two presence objects as two processes: one stops heart-beating, the other reports its users."""
    changes: list[tuple[list[str], str]] = []
    dying = RedisPresence(REDIS_URL, prefix=prefix + ":unit", ttl=1.0)
    survivor = RedisPresence(REDIS_URL, prefix=prefix + ":unit", ttl=1.0)
    await dying.start(lambda users, status: None)
    await survivor.start(lambda users, status: changes.append((users, status)))
    try:
        assert await dying.connect("ann", "c1") is True
        assert await survivor.connect("ann", "c2") is False  # a second tab elsewhere
        assert await dying.connect("ben", "c3") is True
        assert await survivor.online() == {"ann", "ben"}
        assert dying._task is not None
        dying._task.cancel()  # the process "dies": no more heartbeats, nothing cleaned up
        deadline = time.monotonic() + 5
        while not changes and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert changes == [(["ben"], "offline")], "ann still has a tab on the survivor"
        assert await survivor.online() == {"ann"}
        assert await survivor.disconnect("ann", "c2") is True
        assert await survivor.online() == set()
    finally:
        await dying.close()
        await survivor.close()


async def test_presence_comes_back_after_a_wrongful_expiry(prefix: str) -> None:
    """A process taken for dead (a long stall) registers its connections again on its next beat."""
    changes: list[tuple[list[str], str]] = []
    slow = RedisPresence(REDIS_URL, prefix=prefix + ":stall", ttl=1.0)
    other = RedisPresence(REDIS_URL, prefix=prefix + ":stall", ttl=1.0)
    await slow.start(lambda users, status: changes.append((users, status)))
    await other.start(lambda users, status: None)
    try:
        assert await slow.connect("cat", "c1") is True
        redis_client = redis.Redis.from_url(REDIS_URL)
        redis_client.delete(f"{prefix}:stall:presence:alive:{slow.process_id}")
        redis_client.close()
        await other._sweep()
        assert await other.online() == set()
        await slow._heartbeat()
        assert changes == [(["cat"], "online")]
        assert await other.online() == {"cat"}
    finally:
        await slow.close()
        await other.close()


class FakeMessages:
    """The two store calls the fan-out repairs from, over a dict of committed rows."""

    def __init__(self) -> None:
        self.rows: dict[int, Message] = {}
        self.reads = 0

    def commit(self, *ids: int) -> None:
        for mid in ids:
            self.rows[mid] = Message(id=mid, kind="message", sender="s", text=f"m{mid}")

    async def events(self, ids: Any) -> list[Event]:
        self.reads += 1
        return [message_event(i) for i in sorted(set(ids)) if i in self.rows]

    async def latest_id(self) -> int:
        return max(self.rows, default=0)


def message_event(mid: int) -> Event:
    return Event(MessageType.MESSAGE, orjson.dumps({"type": "message", "data": {"id": mid}}), message_id=mid)


async def wait_for(condition: Any, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


@pytest.fixture()
async def two_fanouts(prefix: str) -> Any:
    """Two ``RedisFanout`` (two processes) on one channel and one fake database."""
    store = FakeMessages()
    channel_prefix = f"{prefix}:fan{uuid.uuid4().hex[:6]}"
    got: dict[str, list[Event]] = {"a": [], "b": []}
    fanouts = {name: RedisFanout(REDIS_URL, prefix=channel_prefix, store=store, reorder_wait=0.2) for name in got}
    for name, fanout in fanouts.items():
        await fanout.start(got[name].append)
    yield store, fanouts, got
    for fanout in fanouts.values():
        await fanout.close()


def delivered(events: list[Event]) -> list[object]:
    return [e.message_id if e.message_id is not None else e.kind.value for e in events]


async def test_fanout_puts_ids_from_two_publishers_back_in_order(two_fanouts: Any) -> None:
    store, fanouts, got = two_fanouts
    store.commit(1, 2, 3)
    fanouts["b"].publish(message_event(2))  # B committed 2 and published before A published 1
    await asyncio.sleep(0.05)
    fanouts["a"].publish(message_event(1))
    fanouts["b"].publish(message_event(3))
    await wait_for(lambda: len(got["a"]) == 3 and len(got["b"]) == 3)
    assert delivered(got["a"]) == delivered(got["b"]) == [1, 2, 3]
    assert store.reads == 0, "no database read when the predecessor arrives within the wait"


async def test_fanout_skips_ids_that_never_committed(two_fanouts: Any) -> None:
    store, fanouts, got = two_fanouts
    store.commit(1, 3)  # 2 was taken by a transaction that rolled back
    start = time.monotonic()
    fanouts["a"].publish(message_event(1))
    fanouts["b"].publish(message_event(3))
    await wait_for(lambda: len(got["a"]) == 2 and len(got["b"]) == 2)
    assert time.monotonic() - start < 1.0, "bounded wait: the reorder wait plus one database read"
    assert delivered(got["a"]) == delivered(got["b"]) == [1, 3]


async def test_fanout_fills_a_message_redis_lost_from_the_database(two_fanouts: Any) -> None:
    store, fanouts, got = two_fanouts
    store.commit(1, 2, 3)
    fanouts["a"].publish(message_event(1))
    fanouts["a"]._accept(message_event(2))  # delivered locally, but its Redis copy is "lost"
    fanouts["a"].publish(message_event(3))
    fanouts["a"].publish(Event(MessageType.TYPING, b'{"type":"typing","data":{}}'))
    await wait_for(lambda: len(got["b"]) == 4)
    assert delivered(got["b"]) == [1, 2, 3, "typing"], "B reads 2 from the database; typing keeps its place"
    assert delivered(got["a"]) == [1, 2, 3, "typing"]


async def test_fanout_delivers_a_tail_whose_publisher_died(two_fanouts: Any) -> None:
    """Committed, then the publisher was killed before publishing: the tail check delivers it."""
    store, fanouts, got = two_fanouts
    store.commit(1)
    fanouts["a"].publish(message_event(1))
    await wait_for(lambda: len(got["b"]) == 1)
    store.commit(2)  # nobody will ever publish 2, and no later message comes
    await wait_for(lambda: len(got["b"]) == 2, timeout=TAIL_CHECK_SECONDS + 2)
    assert delivered(got["b"]) == [1, 2]


async def test_fanout_wait_delivered_lets_a_catch_up_skip_what_is_in_flight(two_fanouts: Any) -> None:
    store, fanouts, got = two_fanouts
    store.commit(1, 2)  # committed, but nothing published yet (in flight)
    await fanouts["b"].wait_delivered(2, timeout=2.0)
    assert delivered(got["b"]) == [1, 2]
    assert fanouts["b"].delivered_id() == 2
    await fanouts["b"].wait_delivered(10**9, timeout=0.5)  # a client's bogus id does not stall anyone


async def test_every_message_reaches_both_processes_in_one_order(cluster: dict[str, ServerProcess]) -> None:
    a, b = cluster["a"], cluster["b"]
    watch_a = await connect_as(a.url, "watch_a")
    watch_b = await connect_as(b.url, "watch_b")
    for w in (watch_a, watch_b):
        await skip_catch_up(w)
    senders = [await connect_as(proc.url, f"order_{name}{i}") for name, proc in (("a", a), ("b", b)) for i in range(3)]
    per_sender = 15

    async def send_all(index: int, client: Client) -> None:
        for n in range(per_sender):
            await client.send("message", {"id": f"{index}-{n}", "text": f"order-test {index}-{n}"})

    await asyncio.gather(*(send_all(i, c) for i, c in enumerate(senders)))
    total = per_sender * len(senders)
    seen_a, seen_b = await asyncio.gather(collect(watch_a, "order-test", total), collect(watch_b, "order-test", total))

    ids_a = [m["id"] for m in seen_a]
    ids_b = [m["id"] for m in seen_b]
    assert ids_a == ids_b, "both processes deliver the same messages in the same order"
    assert ids_a == sorted(set(ids_a)), "in increasing id order, without duplicates"
    sent = {f"order-test {i}-{n}" for i in range(len(senders)) for n in range(per_sender)}
    assert {m["text"] for m in seen_a} == sent
    # Each sender's own messages keep the order it sent them in.
    for i, sender in enumerate(senders):
        mine = [m["clientId"] for m in seen_a if m["sender"] == f"order_{'a' if i < 3 else 'b'}{i % 3}"]
        assert mine == [f"{i}-{n}" for n in range(per_sender)]
    for client in (watch_a, watch_b, *senders):
        await client.close()


async def test_presence_is_shared(cluster: dict[str, ServerProcess]) -> None:
    a, b = cluster["a"], cluster["b"]
    watch_b = await connect_as(b.url, "pwatch_b")
    await skip_catch_up(watch_b)

    on_a = await connect_as(a.url, "pres_user", role="admin")  # a user B has never seen
    await wait_presence(watch_b, "pres_user", "online", 5)
    await asyncio.sleep(0.2)  # B looks the newcomer up in the database
    checker = await Client.connect(b.url)
    response = await checker.auth("pres_check")
    assert "pres_user" in response["users"], "B's auth_response counts A's connections"
    member = next(m for m in response["members"] if m["userId"] == "pres_user")
    assert (member["status"], member["role"], member["isAgent"]) == ("online", "admin", False)
    await checker.close()

    # A second tab on the other process: closing one tab changes nothing, closing both goes offline.
    on_b = await connect_as(b.url, "pres_user")
    await on_a.close()
    assert "offline" not in await presence_events(watch_b, "pres_user", 0.5)
    await on_b.close()
    await wait_presence(watch_b, "pres_user", "offline", 5)
    checker = await Client.connect(a.url)  # A learns the last-seen time from B's event
    response = await checker.auth("pres_check")
    member = next(m for m in response["members"] if m["userId"] == "pres_user")
    assert member["status"] == "offline" and member["lastSeen"] is not None
    await checker.close()
    await watch_b.close()


async def test_rate_limit_holds_across_processes(cluster: dict[str, ServerProcess]) -> None:
    a, b = cluster["a"], cluster["b"]
    on_a = await connect_as(a.url, "limited")
    on_b = await connect_as(b.url, "limited")
    for n in range(20):  # 40 an hour between the two processes
        await on_a.say(f"limit {n}a")
        await on_b.say(f"limit {n}b")
    for client in (on_a, on_b):
        await client.send("message", {"id": "over", "text": "one too many"})
        error = await client.error("RATE_LIMITED")
        assert 3500 < error["retryAfter"] <= 3600
    for client in (on_a, on_b):
        await client.close()


async def test_redis_rate_limiter_has_sliding_window_semantics(prefix: str) -> None:
    """Two limiters (two processes) on one key: one window, exact waits from Redis's clock."""
    first = RedisRateLimiter(REDIS_URL, 3, 0.2, prefix=prefix, window=1.0)
    second = RedisRateLimiter(REDIS_URL, 3, 0.2, prefix=prefix, window=1.0)
    try:
        started = time.monotonic()
        assert await first.acquire("u") == 0
        wait = await second.acquire("u")  # the other process sees the gap
        assert 0 < wait <= 0.2
        assert wait == pytest.approx(0.2 - (time.monotonic() - started), abs=0.1)
        await asyncio.sleep(wait + 0.01)
        assert await second.acquire("u") == 0
        await asyncio.sleep(0.21)
        assert await first.acquire("u") == 0
        wait = await second.acquire("u")  # three in the window: wait for the first to leave it
        assert wait > 0.2 or time.monotonic() - started > 0.75, "the window, not the gap, decides"
        assert wait == pytest.approx(1.0 - (time.monotonic() - started), abs=0.1)
        await asyncio.sleep(wait + 0.01)
        assert await second.acquire("u") == 0
        assert await first.acquire("other") == 0  # users do not share a window
    finally:
        await first.close()
        await second.close()


async def test_agents_run_once_and_are_listed_everywhere(cluster: dict[str, ServerProcess]) -> None:
    a, b = cluster["a"], cluster["b"]
    on_a = await Client.connect(a.url)
    on_b = await Client.connect(b.url)
    welcome_a = await on_a.auth("agents_a")
    welcome_b = await on_b.auth("agents_b")
    agents_on = [sorted(m["userId"] for m in w["members"] if m["isAgent"]) for w in (welcome_a, welcome_b)]
    assert agents_on[0] == agents_on[1]
    assert "helper" in agents_on[1], "B lists the agents hosted by A"
    assert {"helper", "agents_a", "agents_b"} <= set(welcome_b["agents"]), "agents: everyone online (seed meaning)"
    helper = next(m for m in welcome_b["members"] if m["userId"] == "helper")
    assert helper["status"] == "online"
    await skip_catch_up(on_a)
    await skip_catch_up(on_b)

    asked = await on_b.say("/help")
    answer = await on_b.expect("agent_response", 10, sender="helper", replyTo=asked["id"])
    assert answer["text"]
    others = [f for f in await on_b.quiet(1.0) if f["type"] == "agent_response" and f["data"]["replyTo"] == asked["id"]]
    assert others == [], "one agent host: one answer, not one per process"
    for client in (on_a, on_b):
        await client.close()


async def test_account_changes_reach_sockets_on_every_process(cluster: dict[str, ServerProcess]) -> None:
    """A role change and a sign-out made over HTTP on A apply to the user's socket on B at once.

    (Before the tests that kill B.)"""
    import httpx

    a, b = cluster["a"], cluster["b"]
    password = "long enough pw"
    async with httpx.AsyncClient(timeout=20) as http:
        api_a = f"http://127.0.0.1:{a.port}/api"
        boss_token = token("xboss", "admin")  # a development token creates the admin account
        made = await http.post(f"http://127.0.0.1:{b.port}/api/auth/sign-up",
                               json={"username": "xworker", "password": password})
        assert made.status_code == 201, made.text
        worker = made.json()
        people = await http.get(f"{api_a}/admin/people", headers={"Authorization": f"Bearer {boss_token}"})
        assert people.status_code == 200, people.text

        socket = await Client.connect(b.url)
        await socket.send("auth", {"userId": "xworker", "token": worker["accessToken"]})
        assert (await socket.expect("auth_response"))["success"]
        await skip_catch_up(socket)

        changed = await http.patch(f"{api_a}/admin/people/xworker", json={"role": "viewer"},
                                   headers={"Authorization": f"Bearer {boss_token}"})
        assert changed.status_code == 200
        assert (await socket.expect("account_updated", 10))["role"] == "viewer"
        await socket.send("message", {"id": "x-after", "text": "after the demotion"})
        assert (await socket.error("FORBIDDEN"))["ref"] == "x-after"

        out = await http.post(f"{api_a}/auth/sign-out", json={"refreshToken": worker["refreshToken"]})
        assert out.status_code == 204
        await asyncio.wait_for(socket.closed.wait(), 10)
        assert socket.ws.close_code == 4001


def kill_redis_connections(prefix: str) -> int:
    """Cut every Redis connection our server processes hold (they name them ``<prefix>:<role>``)."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        ours = [c["id"] for c in client.client_list() if c.get("name", "").startswith(prefix + ":")]
        for client_id in ours:
            client.client_kill_filter(_id=client_id)
        return len(ours)
    finally:
        client.close()


async def test_rooms_and_their_updates_hold_across_processes(cluster: dict[str, ServerProcess]) -> None:
    """Membership, private messages, edits and reactions behave on B exactly as on A."""
    a, b = cluster["a"], cluster["b"]
    alice = await connect_as(a.url, "x_alice")
    bob = await connect_as(b.url, "x_bob")
    eve = await connect_as(b.url, "x_eve")
    await alice.send("room_create", {"name": "Cross-process", "kind": "private", "members": ["x_bob"]})
    room = (await bob.expect("room", timeout=20))["room"]
    assert room["name"] == "Cross-process" and "x_bob" in room["members"]
    said = await alice.say("only for bob", roomId=room["roomId"])
    assert (await bob.expect("message", id=said["id"], timeout=20))["roomId"] == room["roomId"]
    await bob.send("reaction", {"id": said["id"], "emoji": "👍"})  # decided on B, about a room made on A
    reacted = await alice.expect("message_updated", id=said["id"], timeout=20)
    assert reacted["reactions"] == {"👍": ["x_bob"]}
    await alice.send("message_edit", {"id": said["id"], "text": "only for bob (edited)"})
    edited = await bob.expect("message_updated", id=said["id"], text="only for bob (edited)", timeout=20)
    await eve.send("history", {"roomId": room["roomId"]})
    assert (await eve.expect("error", timeout=20))["code"] == "FORBIDDEN"
    leaked = [f for f in await eve.quiet(1.0) if f.get("data", {}).get("roomId") == room["roomId"]]
    assert leaked == [], "nothing of the room reaches a non-member on either process"
    back = await Client.connect(a.url)  # bob comes back on the other process, from before the message
    await back.auth("x_bob", last_message_id=said["id"] - 1)
    await back.expect("recovery", timeout=20)
    replayed = [await back.expect("message", id=said["id"], timeout=20),
                await back.expect("message_updated", eventId=reacted["eventId"], timeout=20),
                await back.expect("message_updated", eventId=edited["eventId"], timeout=20)]
    assert replayed[0]["text"] == "only for bob (edited)" and replayed[-1]["reactions"] == {"👍": ["x_bob"]}
    for client in (alice, bob, eve, back):
        await client.close()


async def test_redis_connection_drop_loses_nothing(cluster: dict[str, ServerProcess], prefix: str) -> None:
    """Redis drops every connection: processes reconnect, and what was missed comes from the database."""
    a, b = cluster["a"], cluster["b"]
    watch_a = await connect_as(a.url, "dwatch_a")
    watch_b = await connect_as(b.url, "dwatch_b")
    for w in (watch_a, watch_b):
        await skip_catch_up(w)
    bots = [await connect_as(proc.url, f"drop_bot_{i}", role="agent") for i, proc in enumerate((a, b, a, b))]
    total = 0
    for round_ in range(3):
        cut = kill_redis_connections(prefix)
        assert cut >= 4 or round_ > 0  # publisher, subscriber and presence of each process at least
        for i, bot in enumerate(bots):
            for n in range(5):
                await bot.send("agent_response", {"text": f"drop-test {round_}-{i}-{n}"})
                total += 1
        await asyncio.sleep(0.3)
    seen_a, seen_b = await asyncio.gather(collect(watch_a, "drop-test", total), collect(watch_b, "drop-test", total))
    assert [m["id"] for m in seen_a] == [m["id"] for m in seen_b]
    assert len({m["id"] for m in seen_a}) == total
    assert [m["id"] for m in seen_a] == sorted(m["id"] for m in seen_a)
    for client in (watch_a, watch_b, *bots):
        await client.close()


async def test_sigkill_clients_recover_on_the_other_process(cluster: dict[str, ServerProcess]) -> None:
    """Kill B mid-stream: its clients reconnect to A and recover; its users' presence expires."""
    a, b = cluster["a"], cluster["b"]
    watch_a = await connect_as(a.url, "kwatch_a")
    await skip_catch_up(watch_a)
    mover = await connect_as(b.url, "mover")  # reconnects to A after the kill
    await skip_catch_up(mover)
    stranded = await connect_as(b.url, "stranded")  # never comes back: must go offline
    await skip_catch_up(stranded)
    await asyncio.sleep(0.3)

    bot = await connect_as(a.url, "kill_bot", role="agent")  # agents are not rate-limited
    total = 60

    async def stream() -> None:
        for n in range(total):
            await bot.send("agent_response", {"text": f"kill-test {n}"})
            await asyncio.sleep(0.025)

    sender = asyncio.create_task(stream())
    before = await collect(mover, "kill-test", 15)
    b.kill()
    await mover.closed.wait()
    # Whatever reached the socket before the kill still counts: drain it.
    while not mover.frames.empty():
        frame = mover.frames.get_nowait()
        if frame["type"] in MESSAGE_TYPES and "kill-test" in frame["data"]["text"]:
            before.append(frame["data"])
    last_id = before[-1]["id"]

    again = await Client.connect(a.url)
    response = await again.auth("mover", last_message_id=last_id)
    assert response["success"]
    recovery = await again.expect("recovery")
    assert recovery["lastMessageId"] == last_id and not recovery["truncated"]
    await sender
    seen_a = await collect(watch_a, "kill-test", total)
    after = await collect(again, "kill-test", total - len(before))

    ids_seen = [m["id"] for m in before + after]
    assert ids_seen == [m["id"] for m in seen_a], "nothing lost, nothing doubled, same order"
    assert [m["text"] for m in seen_a] == [f"kill-test {n}" for n in range(total)]

    elapsed = await wait_presence(watch_a, "stranded", "offline", PRESENCE_TTL * 3 + 2)
    assert elapsed <= PRESENCE_TTL * 3 + 2
    check = await Client.connect(a.url)
    welcome = await check.auth("kcheck")
    assert "stranded" not in welcome["users"]
    assert "mover" in welcome["users"], "a user who moved to A stays online"
    assert "offline" not in await presence_events(watch_a, "mover", 0.2)
    for client in (watch_a, again, check, bot):
        await client.close()
