"""No single client can hurt the others: bounds, throttles, deadlines and ownership, over real sockets."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from tests.support import Client, ServerProcess, connect_as, token


def connections(server: ServerProcess) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=5) as response:
        return int(json.loads(response.read())["connections"])


async def eventually(check, timeout: float = 30.0, what: str = "condition") -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with small, fast limits, so each bound is reached quickly."""
    proc = ServerProcess(
        tmp_path_factory.mktemp("strict"),
        AGENTCHAT_AGENTS_ENABLED="false",
        AGENTCHAT_RESPONSE_DELAY_SECONDS="0",
        AGENTCHAT_MAX_MESSAGES_PER_HOUR="1000000",
        AGENTCHAT_AUTH_TIMEOUT_SECONDS="1",
        AGENTCHAT_MAX_CONNECTIONS_PER_USER="3",
        AGENTCHAT_MAX_CONNECTIONS_PER_ADDRESS="40",
        AGENTCHAT_MAX_SEND_BUFFER_BYTES="65536",
        AGENTCHAT_CATCH_UP_TIMEOUT_SECONDS="3",
    ).start()
    yield proc
    proc.stop()


async def test_a_socket_that_never_authenticates_is_closed(strict: ServerProcess) -> None:
    async with websockets.connect(strict.url) as ws:
        with pytest.raises(websockets.ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 15)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1008
    assert "authenticate within" in info.value.rcvd.reason


async def test_one_user_may_not_open_unbounded_connections(strict: ServerProcess) -> None:
    tabs = [await connect_as(strict.url, "hoarder") for _ in range(3)]
    extra = await Client.connect(strict.url)
    refused = await extra.auth("hoarder")
    assert refused["success"] is False and "Too many connections" in refused["error"]["message"]
    await asyncio.wait_for(extra.closed.wait(), 10)
    assert extra.ws.close_code == 1008 and "too many connections" in (extra.ws.close_reason or "")
    await tabs[0].close()
    again = await connect_as(strict.url, "hoarder")  # a closed tab frees its place
    for client in (*tabs[1:], again):
        await client.close()


async def test_sockets_per_address_are_capped(strict: ServerProcess) -> None:
    sockets = []
    try:
        for _ in range(40):
            sockets.append(await websockets.connect(strict.url))
        extra = await websockets.connect(strict.url)
        with pytest.raises(websockets.ConnectionClosed) as info:
            await asyncio.wait_for(extra.recv(), 10)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1008
        assert "too many connections from" in info.value.rcvd.reason
    finally:
        for ws in sockets:
            await ws.close()


async def test_a_client_that_stops_reading_during_catch_up_is_dropped(strict: ServerProcess) -> None:
    writer = await connect_as(strict.url, "bulk")
    for i in range(500):  # a recovery of ~4 MB to write
        await writer.send("message", {"text": f"{i} " + "x" * 7900})
    await writer.say("history written")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a reader that takes (almost) nothing
    sock.connect(("127.0.0.1", strict.port))
    stalled = await Client.connect(strict.url, sock=sock)
    await stalled.send("auth", {"userId": "stalled", "token": token("stalled"), "lastMessageId": 0})
    stalled.ws.transport.pause_reading()  # reads nothing from now on, not even its catch-up
    before = connections(strict)
    for i in range(3000):  # the room keeps talking meanwhile (~6 MB more)
        await writer.send("message", {"text": f"live {i} " + "y" * 2000})
    await eventually(lambda: connections(strict) == before - 1, 30, "the stalled client being dropped")
    still = await writer.say("the others are unaffected")
    assert still["id"] > 0
    await writer.close()
    stalled.ws.transport.abort()


async def test_typing_floods_are_throttled(server: ServerProcess) -> None:
    watcher = await connect_as(server.url, "typing_watcher")
    typist = await connect_as(server.url, "typist")
    for _ in range(200):
        await typist.send("typing", {"typing": False})
    for _ in range(200):
        await typist.send("typing", {"typing": True})
    await typist.send("typing", {"typing": False})
    await asyncio.sleep(0)
    await typist.say("sync point")
    await watcher.expect("message", sender="typist")
    frames = await watcher.quiet(0.5) + watcher.backlog
    relayed = [f for f in frames if f["type"] == "typing" and f["data"]["userId"] == "typist"]
    assert [f["data"]["typing"] for f in relayed] == [True, False], "400 frames in, two broadcasts out"
    await watcher.close()
    await typist.close()


async def test_numbers_past_the_safe_range_are_invalid_and_auth_stays_whole(server: ServerProcess) -> None:
    client = await Client.connect(server.url)
    await client.send("auth", {"userId": "bignum", "token": token("bignum"), "lastMessageId": 2**63})
    error = await client.error("INVALID_MESSAGE")
    assert "lastMessageId" in error["message"]
    welcome = await client.auth("bignum")  # the connection was not half authenticated
    assert welcome["success"] is True
    await client.expect("history")
    for frame in (
        {"type": "message", "data": {"text": "x", "replyTo": 2**64 - 1}},
        {"type": "history", "data": {"beforeId": 2**63}},
        {"type": "message", "data": {"text": "x", "id": "i" * 600_000}},
        {"type": "message", "data": {"text": "x", "id": "i" * 65}},
        {"type": "message", "data": {"text": "nul \u0000"}},
        {"type": "search", "data": {"query": "nul \u0000"}},
    ):
        await client.send(frame["type"], frame["data"])
        await client.error("INVALID_MESSAGE")
    await client.close()


async def test_agents_cannot_take_over_each_others_questions(server: ServerProcess) -> None:
    alice = await connect_as(server.url, "q_alice")
    bob = await connect_as(server.url, "q_bob")
    asker = await connect_as(server.url, "q_asker", "agent")
    thief = await connect_as(server.url, "q_thief", "agent")
    await asker.send("agent_question", {"ref": "local-1", "to": "q_alice", "text": "Delete #3?",
                                        "choices": ["Delete", "Cancel"], "timeoutSeconds": 60})
    asked = await alice.expect("agent_question", agent="q_asker")
    assert asked["questionId"] != "local-1" and asked["ref"] == "local-1", "the server mints the id"
    await thief.send("agent_question", {"questionId": asked["questionId"], "to": "q_bob", "text": "Delete #3?",
                                        "choices": ["Delete", "Cancel"], "timeoutSeconds": 60})
    stolen = await bob.expect("agent_question", agent="q_thief")
    assert stolen["questionId"] != asked["questionId"], "re-sending an id opens a new question"
    await bob.send("question_answer", {"questionId": asked["questionId"], "answer": "Delete"})
    assert (await bob.error("FORBIDDEN"))["message"] == "This question is for q_alice"
    await alice.send("question_answer", {"questionId": asked["questionId"], "answer": "Cancel"})
    closed = await asker.expect("question_closed", questionId=asked["questionId"])
    assert (closed["answer"], closed["answeredBy"], closed["ref"]) == ("Cancel", "q_alice", "local-1")
    for client in (alice, bob, asker, thief):
        await client.close()


async def test_stopping_an_agent_closes_its_questions(server: ServerProcess) -> None:
    alice = await connect_as(server.url, "s_alice")
    agent = await connect_as(server.url, "s_agent", "agent")
    await agent.send("agent_question", {"to": "s_alice", "text": "Go on?", "choices": ["Yes", "No"]})
    asked = await alice.expect("agent_question", agent="s_agent")
    await alice.send("stop_agent", {"agent": "s_agent"})
    assert (await agent.expect("stop_agent"))["by"] == "s_alice"
    closed = await alice.expect("question_closed", questionId=asked["questionId"])
    assert closed["status"] == "cancelled"
    await alice.send("question_answer", {"questionId": asked["questionId"], "answer": "Yes"})
    assert "closed" in (await alice.error("NOT_FOUND"))["message"]
    await alice.close()
    await agent.close()


async def test_every_reply_to_is_checked(server: ServerProcess) -> None:
    agent = await connect_as(server.url, "r_agent", "agent")
    for kind, data in (
        ("agent_question", {"to": "x", "text": "?", "choices": ["a"], "replyTo": 987654321}),
        ("agent_stream", {"streamId": "s-1", "delta": "hi", "replyTo": 987654321}),
        ("agent_response", {"text": "hi", "replyTo": 987654321}),
    ):
        await agent.send(kind, data)
        assert "replyTo" in (await agent.error("INVALID_MESSAGE"))["message"]
    await agent.close()


def test_nothing_in_the_server_log_is_a_traceback(strict: ServerProcess) -> None:
    text = Path(strict.log_path).read_text()
    assert "Traceback" not in text, text[-3000:]
