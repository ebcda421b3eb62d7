"""The companion server over real sockets, against a real ``python -m server`` process."""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.error
import urllib.request
from datetime import timedelta

import jwt
import pytest
import websockets

from server.auth import issue_token
from tests.support import SECRET, Client, ServerProcess, connect_as, token


async def test_healthz(server: ServerProcess) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz") as resp:
        assert resp.status == 200
        body = json.loads(resp.read())
    assert body["status"] == "ok"


async def test_websocket_on_both_paths(server: ServerProcess) -> None:
    for path in ("/ws", "/"):
        client = await Client.connect(f"ws://127.0.0.1:{server.port}{path}")
        assert (await client.auth("pathuser"))["success"]
        await client.close()


async def test_unknown_path_is_404(server: ServerProcess) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"http://127.0.0.1:{server.port}/nope")
    assert info.value.code == 404


async def test_document_client_works_unchanged(server: ServerProcess) -> None:
    """A client written from section 2 alone: auth, message, ping, given a valid token."""
    async with websockets.connect(server.url) as ws:
        await ws.send(json.dumps({"type": "auth", "data": {"userId": "doc", "token": token("doc"), "role": "developer"}}))
        first = json.loads(await ws.recv())
        assert first["type"] == "auth_response"
        assert first["data"]["success"] is True
        assert first["data"]["userId"] == "doc"
        assert isinstance(first["data"]["sessionId"], str)
        assert isinstance(first["data"]["agents"], list)
        await ws.send(json.dumps({"type": "message", "data": {"id": 1736523000123, "text": "@alice please review",
                                                              "mentions": ["alice"], "replyTo": None}}))
        await ws.send(json.dumps({"type": "ping"}))
        seen: dict[str, dict] = {}
        while "message" not in seen or "pong" not in seen:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
            seen.setdefault(frame["type"], frame["data"])
        msg = seen["message"]
        assert msg["text"] == "@alice please review"
        assert msg["sender"] == "doc"
        assert msg["mentions"] == ["alice"]
        assert msg["isCommand"] is False
        assert msg["replyTo"] is None
        assert msg["timestamp"].endswith("Z")
        assert isinstance(msg["id"], int)


async def test_message_fields_are_authoritative(server: ServerProcess) -> None:
    alice = await connect_as(server.url, "alice")
    msg = await alice.say("hello @bob and @carol, see me@example.com", id=77, sender="mallory", mentions=["dave"])
    assert msg["sender"] == "alice"  # not the spoofed sender
    assert msg["clientId"] == 77
    assert msg["mentions"] == ["bob", "carol", "dave"]
    second = await alice.say("/help now")
    assert second["isCommand"] is True
    assert second["id"] > msg["id"]
    reply = await alice.say("answer", replyTo=msg["id"])
    assert reply["replyTo"] == msg["id"]
    await alice.close()


async def test_every_connection_of_every_user_gets_broadcasts(server: ServerProcess) -> None:
    tab1 = await connect_as(server.url, "multi")
    tab2 = await connect_as(server.url, "multi")
    other = await connect_as(server.url, "watcher")
    sent = await tab1.say("from tab one")
    for client in (tab2, other):
        got = await client.expect("message", id=sent["id"])
        assert got["text"] == "from tab one"
    for client in (tab1, tab2, other):
        await client.close()


async def test_presence_follows_the_last_connection(server: ServerProcess) -> None:
    observer = await connect_as(server.url, "observer")
    tab1 = await connect_as(server.url, "tabby")
    online = await observer.expect("user_presence", userId="tabby", status="online")
    assert online["role"] == "developer" and online["isAgent"] is False
    tab2 = await connect_as(server.url, "tabby")
    await tab1.close()
    # One tab of two closed: no offline.
    frames = await observer.quiet(0.5)
    assert not [f for f in frames if f["type"] == "user_presence" and f["data"]["userId"] == "tabby"]
    await tab2.close()
    offline = await observer.expect("user_presence", userId="tabby", status="offline")
    assert offline["lastSeen"].endswith("Z")
    await observer.close()


async def test_auth_response_lists_online_users(server: ServerProcess) -> None:
    first = await connect_as(server.url, "early")
    second = await Client.connect(server.url)
    response = await second.auth("late")
    assert {"early", "late"} <= set(response["users"])
    members = {m["userId"]: m for m in response["members"]}
    assert members["early"]["status"] == "online"
    await first.close()
    await second.close()


@pytest.mark.parametrize(
    "make_token, reason",
    [
        (lambda: issue_token(SECRET, "victim", "developer", timedelta(seconds=-60)), "expired"),
        (lambda: issue_token("some-other-secret-that-is-long-enough", "victim", "developer"), "wrong signature"),
        (lambda: issue_token(SECRET, "someone_else", "admin"), "someone else's"),
        (lambda: jwt.encode({"sub": "victim", "role": "admin"}, SECRET, algorithm="HS256"), "no exp"),
        (lambda: jwt.encode({"sub": "victim", "exp": 9999999999}, SECRET, algorithm="HS512"), "other algorithm"),
        (lambda: "not-a-jwt", "garbage"),
        (lambda: None, "missing"),
    ],
)
async def test_bad_tokens_fail(server: ServerProcess, make_token, reason: str) -> None:
    client = await Client.connect(server.url)
    await client.send("auth", {"userId": "victim", "token": make_token()})
    response = await client.expect("auth_response")
    assert response["success"] is False, reason
    assert response["error"]["code"] == "AUTH_FAILED"
    # Still unauthenticated, still connected.
    await client.send("message", {"text": "let me in"})
    await client.error("NOT_AUTHENTICATED")
    await client.close()


async def test_auth_without_user_id(server: ServerProcess) -> None:
    client = await Client.connect(server.url)
    await client.send("auth", {"token": token("x")})
    response = await client.expect("auth_response")
    assert response["error"]["code"] == "MISSING_USER_ID"
    await client.close()


async def test_role_comes_from_token_not_client(server: ServerProcess) -> None:
    viewer = await Client.connect(server.url)
    response = await viewer.auth("readonly", role="viewer", role_override=None)
    assert response["role"] == "viewer"
    # Claiming admin in the auth message changes nothing.
    viewer2 = await Client.connect(server.url)
    await viewer2.send("auth", {"userId": "readonly", "token": token("readonly", "viewer"), "role": "admin"})
    assert (await viewer2.expect("auth_response"))["role"] == "viewer"
    await viewer2.send("message", {"id": 1, "text": "can I post?"})
    err = await viewer2.error("FORBIDDEN")
    assert err["ref"] == 1
    # A viewer still reads.
    poster = await connect_as(server.url, "poster")
    sent = await poster.say("for everyone")
    await viewer.expect("message", id=sent["id"])
    for c in (viewer, viewer2, poster):
        await c.close()


async def test_people_cannot_act_as_agents(server: ServerProcess) -> None:
    human = await connect_as(server.url, "human")
    await human.send("agent_response", {"text": "I am an agent", "replyTo": None})
    await human.error("FORBIDDEN")
    await human.send("status_update", {"userId": "helper", "status": "working", "progress": 10})
    await human.error("FORBIDDEN")
    await human.send("agent_stream", {"streamId": "s1", "delta": "x"})
    await human.error("FORBIDDEN")
    agent = await connect_as(server.url, "botty", role="agent")
    await agent.send("status_update", {"userId": "other-agent", "status": "working"})
    await agent.error("FORBIDDEN")
    await agent.send("status_update", {"status": "working", "currentTask": "thinking", "progress": 40})
    status = await human.expect("status_update", userId="botty")
    assert status["progress"] == 40 and status["currentTask"] == "thinking"
    await agent.send("agent_response", {"text": "done", "agentStatus": "completed"})
    answer = await human.expect("agent_response", sender="botty")
    assert answer["agentStatus"] == "completed"
    await human.close()
    await agent.close()


@pytest.mark.parametrize(
    "frame, code",
    [
        ("{not json", "INVALID_JSON"),
        ('{"type": "teleport", "data": {}}', "UNKNOWN_TYPE"),
        ('{"type": "auth_response", "data": {}}', "UNKNOWN_TYPE"),
        ('["message"]', "INVALID_MESSAGE"),
        ('{"data": {}}', "INVALID_MESSAGE"),
        ('{"type": "message", "data": {"text": 5}}', "INVALID_MESSAGE"),
        ('{"type": "message", "data": {"text": null}}', "INVALID_MESSAGE"),
        ('{"type": "message", "data": {"text": "hi", "mentions": null}}', "INVALID_MESSAGE"),
        ('{"type": "message", "data": {"text": "hi", "replyTo": "abc"}}', "INVALID_MESSAGE"),
        ('{"type": "message", "data": {"text": "hi", "replyTo": 999999999}}', "INVALID_MESSAGE"),
        ('{"type": "message", "data": {"text": "   "}}', "INVALID_MESSAGE"),
        ('{"type": "message", "data": "hello"}', "INVALID_MESSAGE"),
        ('{"type": "message", "data": {"text": "x", "attachments": ["nope"]}}', "INVALID_MESSAGE"),
        ('{"type": "stop_agent", "data": {"agent": "nobody"}}', "NOT_FOUND"),
        ('{"type": "question_answer", "data": {"questionId": "q-x", "answer": "yes"}}', "NOT_FOUND"),
    ],
)
async def test_bad_frames_get_clear_errors_and_connection_survives(server: ServerProcess, frame: str, code: str) -> None:
    client = await connect_as(server.url, "fuzzer")
    await client.send_raw(frame)
    err = await client.error(code)
    assert err["message"] and "Traceback" not in err["message"]
    # The connection keeps working.
    msg = await client.say("still here")
    assert msg["text"] == "still here"
    await client.close()


async def test_message_too_long(server: ServerProcess) -> None:
    client = await connect_as(server.url, "verbose")
    await client.send("message", {"id": "long", "text": "x" * 8001})
    err = await client.error("MESSAGE_TOO_LONG")
    assert err["ref"] == "long"
    assert "8000" in err["message"]
    assert (await client.say("x" * 8000))["text"] == "x" * 8000
    await client.close()


async def test_oversized_frame_closes_with_1009(server: ServerProcess) -> None:
    client = await connect_as(server.url, "bigframe")
    other = await connect_as(server.url, "bystander")
    await client.send_raw('{"type":"message","data":{"text":"' + "x" * (1024 * 1024 + 10) + '"}}')
    await asyncio.wait_for(client.closed.wait(), 5)
    assert client.ws.close_code == 1009
    # Nobody else is affected.
    assert (await other.say("unaffected"))["text"] == "unaffected"
    await other.close()


async def test_ping_pong(server: ServerProcess) -> None:
    client = await Client.connect(server.url)
    await client.send("ping")  # allowed before auth too
    pong = await client.expect("pong")
    assert pong["timestamp"].endswith("Z")
    await client.close()


async def test_history_and_search_messages(server: ServerProcess) -> None:
    client = await connect_as(server.url, "historian")
    first = await client.say("the quick brown fox")
    await client.say("lazy dogs sleep")
    await client.send("history", {"beforeId": None, "limit": 2})
    page = await client.expect("history", beforeId=None)
    assert [m["data"]["text"] for m in page["messages"]] == ["the quick brown fox", "lazy dogs sleep"]
    assert page["hasMore"] in (True, False)
    await client.send("search", {"query": "brown fox"})
    found = await client.expect("search")
    assert found["query"] == "brown fox"
    assert first["id"] in [m["data"]["id"] for m in found["messages"]]
    await client.close()


async def test_typing_goes_to_others_only(server: ServerProcess) -> None:
    typist = await connect_as(server.url, "typist")
    reader = await connect_as(server.url, "reader")
    await typist.send("typing", {"typing": True})
    got = await reader.expect("typing", userId="typist")
    assert got["typing"] is True
    echoes = [f for f in await typist.quiet(0.3) if f["type"] == "typing"]
    assert echoes == []
    await typist.close()
    await reader.close()


async def test_origin_check(server: ServerProcess) -> None:
    with pytest.raises(websockets.InvalidStatus) as info:
        await websockets.connect(server.url, origin="https://evil.example")
    assert info.value.response.status_code == 403
    ok = await websockets.connect(server.url, origin="http://localhost:3000")
    await ok.close()


async def test_rate_limit(tmp_path) -> None:
    proc = ServerProcess(
        tmp_path, AGENTCHAT_AGENTS_ENABLED="false", AGENTCHAT_RESPONSE_DELAY_SECONDS="1",
        AGENTCHAT_MAX_MESSAGES_PER_HOUR="3",
    ).start()
    try:
        tab1 = await connect_as(proc.url, "spammer")
        tab2 = await connect_as(proc.url, "spammer")
        await tab1.say("one")
        # A second tab does not get its own allowance.
        await tab2.send("message", {"id": "too-soon", "text": "two"})
        err = await tab2.error("RATE_LIMITED")
        assert 0 < err["retryAfter"] <= 1.0
        assert err["ref"] == "too-soon"
        await asyncio.sleep(err["retryAfter"])
        await tab2.say("two")
        await asyncio.sleep(1.01)
        await tab1.say("three")
        await asyncio.sleep(1.01)
        await tab1.send("message", {"text": "four"})
        err = await tab1.error("RATE_LIMITED")
        assert 3500 < err["retryAfter"] <= 3600  # the hour's quota is used up
        # Someone else is not limited by the spammer.
        other = await connect_as(proc.url, "calm")
        await other.say("fine")
        for c in (tab1, tab2, other):
            await c.close()
    finally:
        proc.stop()


async def test_slow_reader_does_not_hold_up_others(tmp_path) -> None:
    proc = ServerProcess(
        tmp_path, AGENTCHAT_AGENTS_ENABLED="false", AGENTCHAT_RESPONSE_DELAY_SECONDS="0",
        AGENTCHAT_MAX_MESSAGES_PER_HOUR="100000", AGENTCHAT_MAX_SEND_BUFFER_BYTES="262144",
    ).start()
    try:
        # The slow client authenticates, then never reads again (a tiny receive buffer).
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", proc.port))
        slow = await websockets.connect(proc.url, sock=sock, max_queue=1, max_size=None)
        await slow.send(json.dumps({"type": "auth", "data": {"userId": "sloth", "token": token("sloth")}}))
        slow.transport.pause_reading()
        sender = await connect_as(proc.url, "sender")
        fast = await connect_as(proc.url, "fast")
        text = "y" * 8000
        loop = asyncio.get_running_loop()
        started = loop.time()
        last = None
        for i in range(800):  # ~6.4 MB: more than kernel buffers plus the slow client's allowance
            await sender.send("message", {"id": i, "text": text})
        for i in range(800):
            last = await fast.expect("message", timeout=20, clientId=i)
        assert last is not None
        elapsed = loop.time() - started
        assert elapsed < 20
        # The slow client is cut off instead of buffering without bound.  The server looks at send
        # buffers a few times a second: its verdict is awaited before the slow client reads again
        # (once it reads, its buffer drains in milliseconds and there is nothing left to judge).
        verdict = "closing sloth's connection: client too slow"
        deadline = loop.time() + 20
        while verdict not in proc.log_path.read_text() and loop.time() < deadline:
            await asyncio.sleep(0.05)
        assert verdict in proc.log_path.read_text()
        slow.transport.resume_reading()
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(slow.recv(), 10)
        await sender.close()
        await fast.close()
    finally:
        proc.stop()


async def test_graceful_shutdown_closes_with_1001(tmp_path) -> None:
    proc = ServerProcess(tmp_path, AGENTCHAT_AGENTS_ENABLED="false").start()
    client = await connect_as(proc.url, "leaver")
    proc.stop()
    await asyncio.wait_for(client.closed.wait(), 10)
    assert client.ws.close_code == 1001
