"""``/mcp``: AgentChat as an MCP server, over real HTTP with the official SDK's client.

A real server process (SQLite, and PostgreSQL where rooms and storage matter), real sockets for
the people in the chat, and ``mcp``'s own ``streamable_http_client`` + ``ClientSession`` (and its
high-level ``Client``) as any MCP host would use them.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
import redis
from agentchat_client.protocol import Role
from mcp import Client, ClientSession, MCPError
from mcp.client.streamable_http import streamable_http_client

from server.mcp_server.tools import ToolRefused, check_arguments, message_item, tools_for
from tests.support import ServerProcess, connect_as, token

READ_TOOLS = {"search_messages", "read_messages", "list_members"}


@pytest.fixture(params=["sqlite", "postgresql"])
def chat(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    """A fresh server (built-in agents on) per test, on each database."""
    env = {"AGENTCHAT_RESPONSE_DELAY_SECONDS": "0", "AGENTCHAT_MAX_MESSAGES_PER_HOUR": "100000"}
    if request.param == "postgresql":
        env["AGENTCHAT_DATABASE_URL"] = request.getfixturevalue("pg_url")
    server = ServerProcess(tmp_path / "mcp", **env).start()
    yield server
    server.stop()


def mcp_url(server: ServerProcess) -> str:
    return f"http://127.0.0.1:{server.port}/mcp"


def http_client(bearer: str | None) -> httpx2.AsyncClient:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    return httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=60))


@asynccontextmanager
async def mcp_session(server: ServerProcess, bearer: str) -> AsyncIterator[ClientSession]:
    """An initialized SDK session as ``bearer`` (a token or an agent key)."""
    http = http_client(bearer)
    async with (http, streamable_http_client(mcp_url(server), http_client=http) as (read, write),
                ClientSession(read, write) as session):
        await session.initialize()
        yield session


async def call(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    """A successful call's JSON result (the text content and the structured content agree)."""
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    data = json.loads(result.content[0].text)  # type: ignore[union-attr]
    assert data == result.structured_content
    return data


async def refused(session: ClientSession, tool: str, **arguments: Any) -> str:
    """A refused call's error text (a tool error, not a protocol failure)."""
    result = await session.call_tool(tool, arguments)
    assert result.is_error, result.content
    return result.content[0].text  # type: ignore[union-attr]


async def tool_names(session: ClientSession) -> set[str]:
    return {tool.name for tool in (await session.list_tools()).tools}


async def room_named(client: Any, name: str) -> str:
    """The id of the room called ``name``, from the ``room`` events the client receives."""
    while True:
        room = (await client.expect("room"))["room"]
        if room["name"] == name:
            return str(room["roomId"])


# --- the pure decisions ----------------------------------------------------------------------

def test_tools_by_role_and_argument_checks() -> None:
    assert {t.name for t in tools_for(Role.VIEWER)} == READ_TOOLS
    for role in (Role.DEVELOPER, Role.ADMIN, Role.AGENT):
        assert {t.name for t in tools_for(role)} == READ_TOOLS | {"post_message"}
    with pytest.raises(ToolRefused, match="Viewers may read but not post"):
        check_arguments("post_message", Role.VIEWER, {"text": "hi"})
    with pytest.raises(ToolRefused, match="limit"):
        check_arguments("read_messages", Role.VIEWER, {"limit": 101})
    args = check_arguments("read_messages", Role.VIEWER, None)
    assert args.model_dump() == {"roomId": "general", "beforeId": None, "threadId": None, "limit": 20}
    assert check_arguments("read_messages", Role.VIEWER, {"beforeId": "42"}).beforeId == 42  # type: ignore[attr-defined]


def test_a_message_is_shaped_without_empty_fields() -> None:
    envelope = {"type": "message", "data": {
        "id": 7, "roomId": "general", "threadId": None, "sender": "ann", "text": "gone", "timestamp": "t",
        "mentions": [], "replyTo": None, "attachments": [{"id": "f1", "name": "a.txt", "size": 3}], "replyCount": 0,
        "deleted": True, "reactions": {}, "clientId": "c1", "isCommand": False}}
    assert message_item(envelope) == {"kind": "message", "id": 7, "roomId": "general", "sender": "ann", "text": "",
                                      "timestamp": "t", "deleted": True,
                                      "attachments": [{"id": "f1", "name": "a.txt"}]}


# --- tools, roles and tokens -----------------------------------------------------------------

async def test_a_developer_gets_four_tools_a_viewer_only_the_read_tools(server: ServerProcess) -> None:
    async with mcp_session(server, token("dora")) as dora:
        listed = (await dora.list_tools()).tools
        assert {t.name for t in listed} == READ_TOOLS | {"post_message"}
        post = next(t for t in listed if t.name == "post_message")
        assert post.input_schema["required"] == ["text"]
        assert {"text", "roomId", "replyTo", "threadId"} <= set(post.input_schema["properties"])
        assert post.annotations is not None and post.annotations.read_only_hint is False
    async with mcp_session(server, token("vic", "viewer")) as vic:
        assert await tool_names(vic) == READ_TOOLS
        text = await refused(vic, "post_message", text="let me in")
        assert "Viewers may read but not post" in text
        assert (await call(vic, "read_messages"))["roomId"] == "general"  # reading is fine
    # The SDK's high-level client (protocol negotiated by discovery) sees the same.
    async with (http_client(token("vic", "viewer")) as http,
                Client(streamable_http_client(mcp_url(server), http_client=http)) as client):
        assert {t.name for t in (await client.list_tools()).tools} == READ_TOOLS
        assert (await client.call_tool("post_message", {"text": "still no"})).is_error


async def test_a_missing_or_bad_token_is_refused_with_401(server: ServerProcess) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}
    headers = {"Accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient(timeout=30) as http:
        missing = await http.post(mcp_url(server), json=body, headers=headers)
        assert missing.status_code == 401
        assert "Bearer" in missing.json()["error"]["message"]
        assert missing.headers["www-authenticate"].startswith("Bearer")
        bad = await http.post(mcp_url(server), json=body, headers={**headers, "Authorization": "Bearer nonsense"})
        assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthorized"
        forged = token("alice", secret="another-secret-0123456789abcdef0123")
        assert (await http.post(mcp_url(server), json=body,
                                headers={**headers, "Authorization": f"Bearer {forged}"})).status_code == 401
    with pytest.raises(ExceptionGroup) as caught:  # the SDK's client gives up too, it does not hang
        async with mcp_session(server, "nonsense"):
            pass
    assert caught.group_contains(MCPError)


async def test_bad_arguments_and_unknown_tools_are_tool_errors(server: ServerProcess) -> None:
    async with mcp_session(server, token("erin")) as erin:
        assert "limit" in await refused(erin, "read_messages", limit=0)
        assert "limit" in await refused(erin, "search_messages", query="x", limit=1000)
        assert "query" in await refused(erin, "search_messages")
        assert "unknown argument" in await refused(erin, "post_message", text="hi", colour="red")
        assert "no tool" in await refused(erin, "drop_tables")
        assert "text" in await refused(erin, "post_message", text="")
        assert "replyTo" in await refused(erin, "post_message", text="hi", replyTo=999999)
        assert "threadId" in await refused(erin, "read_messages", threadId=999999)


# --- reading, searching, posting live --------------------------------------------------------

async def test_read_search_and_post_live_with_reply_and_thread(chat: ServerProcess) -> None:
    alice = await connect_as(chat.url, "alice")
    first = await alice.say("the deploy checklist is in the wiki")
    for n in range(5):
        await alice.say(f"filler {n}")
    async with mcp_session(chat, token("bob")) as bob:
        recent = await call(bob, "read_messages", limit=3)
        assert [m["text"] for m in recent["messages"]] == ["filler 2", "filler 3", "filler 4"]
        assert recent["hasMore"] is True and recent["messages"][0]["sender"] == "alice"
        older = await call(bob, "read_messages", roomId="general", beforeId=recent["messages"][0]["id"], limit=10)
        assert [m["text"] for m in older["messages"]][:2] == ["the deploy checklist is in the wiki", "filler 0"]
        assert older["hasMore"] is False

        found = await call(bob, "search_messages", query="deploy checklist")
        assert [m["id"] for m in found["messages"]] == [first["id"]]

        posted = (await call(bob, "post_message", text="thanks @alice, found it", replyTo=first["id"]))["posted"]
        live = await alice.expect("message", sender="bob", id=posted["id"])
        assert live["replyTo"] == first["id"] and live["roomId"] == "general" and live["mentions"] == ["alice"]

        reply = (await call(bob, "post_message", text="in the thread", threadId=first["id"]))["posted"]
        assert (await alice.expect("message", id=reply["id"]))["threadId"] == first["id"]
        thread = await call(bob, "read_messages", threadId=first["id"])
        assert [m["text"] for m in thread["messages"]] == ["in the thread"]

        members = await call(bob, "list_members")
        assert "alice" in {m["userId"] for m in members["members"]}
    await alice.close()


async def test_a_mention_posted_over_mcp_wakes_the_agent_and_an_agent_key_posts_as_the_agent(
        chat: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{chat.port}", timeout=30) as http:
        signed = await http.post("/api/auth/sign-up", json={"username": "boss", "password": "correct horse 42"})
        assert signed.status_code == 201, signed.text
        access = signed.json()["accessToken"]  # a person's token (the first account: admin)
        made = await http.post("/api/admin/agent-keys", json={"agent": "scout"},
                               headers={"Authorization": f"Bearer {access}"})
        assert made.status_code == 201, made.text
        key = made.json()["key"]
    watcher = await connect_as(chat.url, "watcher")
    async with mcp_session(chat, access) as boss:
        asked = (await call(boss, "post_message", text="@helper what can you do?"))["posted"]
        assert asked["sender"] == "boss"
        await watcher.expect("message", id=asked["id"], sender="boss")
        answer = await watcher.expect("agent_response", sender="helper", replyTo=asked["id"])
        assert answer["text"]
        latest = (await call(boss, "read_messages", limit=1))["messages"][-1]
        assert latest["kind"] == "agent_response" and latest["sender"] == "helper" and latest["id"] == answer["id"]
    async with mcp_session(chat, key) as scout:
        assert await tool_names(scout) == READ_TOOLS | {"post_message"}
        said = (await call(scout, "post_message", text="scout reporting"))["posted"]
        assert said["sender"] == "scout"
        await watcher.expect("message", id=said["id"], sender="scout")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{chat.port}", timeout=30) as http:
        revoked = await http.delete(f"/api/admin/agent-keys/{made.json()['id']}",
                                    headers={"Authorization": f"Bearer {access}"})
        assert revoked.status_code == 200, revoked.text
        refused_now = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                                      headers={"Authorization": f"Bearer {key}",
                                               "Accept": "application/json, text/event-stream"})
        assert refused_now.status_code == 401  # checked on every request: the next one already fails
        assert refused_now.json()["error"]["message"] == "This agent key was revoked"
    await watcher.close()


# --- rooms hold --------------------------------------------------------------------------------

async def test_a_private_room_and_a_dm_are_invisible_to_a_non_member(chat: ServerProcess) -> None:
    alice = await connect_as(chat.url, "alice")
    bob = await connect_as(chat.url, "bob")
    mallory = await connect_as(chat.url, "mallory")
    await alice.send("room_create", {"name": "Secret plans", "kind": "private", "members": ["bob"]})
    room_id = await room_named(alice, "Secret plans")
    secret = await alice.say("the launch code is swordfish", roomId=room_id)
    await alice.send("dm_open", {"userId": "bob"})
    dm_id = await room_named(alice, "alice and bob")
    await alice.say("swordfish between us", roomId=dm_id)
    await alice.say("swordfish is a film", roomId="general")

    async with mcp_session(chat, token("mallory")) as spy:
        for room in (room_id, dm_id):
            assert "FORBIDDEN" in await refused(spy, "read_messages", roomId=room)
            assert "FORBIDDEN" in await refused(spy, "search_messages", query="swordfish", roomId=room)
            assert "FORBIDDEN" in await refused(spy, "list_members", roomId=room)
            assert "FORBIDDEN" in await refused(spy, "post_message", text="let me in", roomId=room)
            assert "FORBIDDEN" in await refused(spy, "read_messages", roomId=room, beforeId=secret["id"] + 100)
        everywhere = await call(spy, "search_messages", query="swordfish")
        assert [m["text"] for m in everywhere["messages"]] == ["swordfish is a film"]
        assert "threadId" in await refused(spy, "read_messages", threadId=secret["id"])
        assert "threadId" in await refused(spy, "post_message", text="x", threadId=secret["id"])
        assert "replyTo" in await refused(spy, "post_message", text="x", replyTo=secret["id"])

    async with mcp_session(chat, token("bob")) as member:
        read = await call(member, "read_messages", roomId=room_id)
        assert [m["text"] for m in read["messages"]] == ["the launch code is swordfish"]
        found = await call(member, "search_messages", query="swordfish")
        assert len(found["messages"]) == 3
        members = await call(member, "list_members", roomId=room_id)
        assert {m["userId"] for m in members["members"]} == {"alice", "bob"}
        assert members["kind"] == "private"
        posted = (await call(member, "post_message", text="noted", roomId=room_id))["posted"]
        await alice.expect("message", id=posted["id"], roomId=room_id)
    assert not [f for f in await mallory.quiet(0.5) if f.get("data", {}).get("roomId") in (room_id, dm_id)]
    for client in (alice, bob, mallory):
        await client.close()


# --- two processes, one chat -------------------------------------------------------------------

@pytest.fixture()
def pair(tmp_path: Path, pg_url: str) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two processes on one PostgreSQL database and one Redis (A hosts the agents)."""
    url = os.environ.get("AGENTCHAT_TEST_REDIS", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {url} ({exc})")
    prefix = "agentchat_test_" + uuid.uuid4().hex[:10]
    common = {"AGENTCHAT_DATABASE_URL": pg_url, "AGENTCHAT_REDIS_URL": url, "AGENTCHAT_REDIS_PREFIX": prefix,
              "AGENTCHAT_RESPONSE_DELAY_SECONDS": "0", "AGENTCHAT_MAX_MESSAGES_PER_HOUR": "100000"}
    a = ServerProcess(tmp_path / "a", AGENTCHAT_AGENT_HOST="true", **common)
    b = ServerProcess(tmp_path / "b", AGENTCHAT_AGENT_HOST="false", **common)
    try:
        yield a.start(), b.start()
    finally:
        for proc in (a, b):
            proc.stop()
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
        client.close()


async def test_across_two_processes_a_post_on_one_reaches_the_other_and_rooms_hold(
        pair: tuple[ServerProcess, ServerProcess]) -> None:
    a, b = pair
    alice = await connect_as(a.url, "alice")
    carol = await connect_as(b.url, "carol")  # carol's account exists from here on
    await alice.send("room_create", {"name": "Inner circle", "kind": "private", "members": ["carol"]})
    room_id = await room_named(alice, "Inner circle")
    async with mcp_session(b, token("carol")) as tools:
        asked = (await call(tools, "post_message", text="@helper what can you do?"))["posted"]
        await alice.expect("message", id=asked["id"], sender="carol")
        answer = await alice.expect("agent_response", sender="helper", replyTo=asked["id"])  # hosted on A
        inner = (await call(tools, "post_message", text="just us", roomId=room_id))["posted"]
        await alice.expect("message", id=inner["id"], roomId=room_id)
        assert answer["id"] in {m["id"] for m in (await call(tools, "read_messages", limit=5))["messages"]}
    async with mcp_session(b, token("mallory")) as spy:
        assert "FORBIDDEN" in await refused(spy, "read_messages", roomId=room_id)
        assert not (await call(spy, "search_messages", query="just us"))["messages"]
    await alice.close()
    await carol.close()


async def test_posting_over_mcp_is_rate_limited_like_the_socket(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "slow", AGENTCHAT_AGENTS_ENABLED="false",
                           AGENTCHAT_RESPONSE_DELAY_SECONDS="60").start()
    try:
        async with mcp_session(server, token("fast")) as fast:
            await call(fast, "post_message", text="one")
            text = await refused(fast, "post_message", text="two")
            assert text.startswith("RATE_LIMITED: Too many messages; try again in")
            assert "MESSAGE_TOO_LONG" in await refused(fast, "post_message", text="x" * 9000)
        async with mcp_session(server, token("bot", "agent")) as bot:  # agents are not rate-limited
            for n in range(3):
                await call(bot, "post_message", text=f"beep {n}")
    finally:
        server.stop()
