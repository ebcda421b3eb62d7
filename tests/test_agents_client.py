"""Agents in other processes: AgentClient over real sockets, and the shipped example."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from agentchat_client import AgentClient, AuthError, ParsedMessage
from server.agents.testing import ChatTestClient
from server.auth import issue_token
from agentchat_client.protocol import AgentState, ErrorCode, MessageType
from server.runtime import ServerRuntime
from tests.support import SECRET, chat_client, running_server

REPO = Path(__file__).resolve().parents[1]


@pytest_asyncio.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[ServerRuntime]:
    async with running_server(tmp_path, builtin_agents=["helper"]) as rt:
        yield rt


person = chat_client


def agent_client(rt: ServerRuntime, name: str, **options: object) -> AgentClient:
    return AgentClient(rt.url, name, issue_token(SECRET, name, "agent"), min_backoff=0.2, **options)  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_external_agent_answers_a_mention(runtime: ServerRuntime) -> None:
    echo = agent_client(runtime, "echo")

    @echo.on_message
    async def answer(msg: ParsedMessage) -> None:
        stream_id = echo.new_stream_id()
        await echo.stream(stream_id, "You said: ", msg.message_id)
        await echo.reply(msg, f"You said: {msg.text}", stream_id=stream_id)

    async with echo, person(runtime, "alice") as alice:
        assert "echo" in alice.welcome["agents"]
        await alice.say("no mention, no answer")
        sent = await alice.say("@echo hello there")
        reply = await alice.expect(MessageType.AGENT_RESPONSE, sender="echo", replyTo=sent["id"])
        assert reply["text"] == "You said: @echo hello there" and reply["agentStatus"] == AgentState.COMPLETED
        await alice.expect(MessageType.AGENT_STREAM, sender="echo", streamId=reply["streamId"])
        await alice.expect(MessageType.STATUS_UPDATE, userId="echo", status=AgentState.WORKING)
        await alice.expect(MessageType.STATUS_UPDATE, userId="echo", status=AgentState.COMPLETED)
        assert len(alice.matching(MessageType.AGENT_RESPONSE, sender="echo")) == 1

        sent = await alice.say("/help echo")
        described = await alice.expect(MessageType.AGENT_RESPONSE, sender="helper", replyTo=sent["id"])
        assert "@echo" in described["text"]


@pytest.mark.asyncio
async def test_external_agent_is_stopped_and_asks_questions(runtime: ServerRuntime) -> None:
    worker = agent_client(runtime, "worker")
    cancelled = asyncio.Event()

    @worker.on_message
    async def work(msg: ParsedMessage) -> None:
        if "slowly" in msg.text:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.set()
                raise
        choice = await worker.ask(msg.sender, "Which branch?", ["main", "dev"], 10, msg.message_id)
        await worker.reply(msg, f"Deploying {choice}.")

    async with worker, person(runtime, "alice") as alice:
        sent = await alice.say("@worker deploy slowly")
        await alice.expect(MessageType.STATUS_UPDATE, userId="worker", status=AgentState.WORKING)
        await alice.send(MessageType.STOP_AGENT, {"agent": "worker"})
        await alice.expect(MessageType.STATUS_UPDATE, userId="worker", status=AgentState.IDLE,
                           currentTask="Stopped by alice")
        await alice.expect(MessageType.AGENT_RESPONSE, sender="worker", replyTo=sent["id"], text="Stopped by alice.")
        assert cancelled.is_set()

        sent = await alice.say("@worker deploy")
        question = await alice.expect(MessageType.AGENT_QUESTION, agent="worker", to="alice", replyTo=sent["id"])
        await alice.send(MessageType.QUESTION_ANSWER, {"questionId": question["questionId"], "answer": "dev"})
        done = await alice.expect(MessageType.AGENT_RESPONSE, sender="worker", replyTo=sent["id"])
        assert done["text"] == "Deploying dev."


@pytest.mark.asyncio
async def test_external_agent_reconnects_and_answers_what_it_missed(runtime: ServerRuntime) -> None:
    echo = agent_client(runtime, "echo")
    seen: list[int] = []

    @echo.on_message
    async def answer(msg: ParsedMessage) -> None:
        seen.append(msg.message_id)
        await echo.reply(msg, f"echo {msg.message_id}")

    async with echo, person(runtime, "alice") as alice:
        first = await alice.say("@echo one")
        await alice.expect(MessageType.AGENT_RESPONSE, sender="echo", replyTo=first["id"])
        echo.min_backoff = 0.5
        hub = runtime.manager.hub
        assert hub is not None
        for connection in list(hub.by_user["echo"]):
            await connection.ws.close()
        await alice.expect(MessageType.USER_PRESENCE, userId="echo", status="offline")
        missed = await alice.say("@echo two (sent while you were away)")
        await alice.expect(MessageType.AGENT_RESPONSE, sender="echo", replyTo=missed["id"], timeout=5)
        assert seen == [first["id"], missed["id"]]  # handled once each, nothing replayed twice


@pytest.mark.asyncio
async def test_agent_client_needs_a_valid_token(runtime: ServerRuntime) -> None:
    bad = AgentClient(runtime.url, "echo", issue_token("wrong-secret", "echo", "agent"))
    with pytest.raises(AuthError, match="authentication failed"):
        await bad.start()


@pytest.mark.asyncio
async def test_people_get_forbidden_for_agent_frames(runtime: ServerRuntime) -> None:
    async with person(runtime, "mallory") as mallory:
        for kind, data in [
            (MessageType.AGENT_RESPONSE, {"text": "hi"}),
            (MessageType.STATUS_UPDATE, {"status": "working"}),
            (MessageType.AGENT_STREAM, {"streamId": "s-1", "delta": "x"}),
            (MessageType.AGENT_QUESTION, {"to": "alice", "text": "?", "choices": ["a"]}),
        ]:
            mallory.frames.clear()
            await mallory.send(kind, data)
            error = await mallory.expect(MessageType.ERROR)
            assert error["code"] == ErrorCode.FORBIDDEN, (kind, error)
    # An agent speaks only for itself.
    async with ChatTestClient(runtime.url, "rogue", issue_token(SECRET, "rogue", "agent")) as rogue:
        await rogue.send(MessageType.STATUS_UPDATE, {"userId": "helper", "status": "stuck"})
        error = await rogue.expect(MessageType.ERROR, code=ErrorCode.FORBIDDEN)
        assert "its own status" in error["message"]
        await rogue.send(MessageType.STATUS_UPDATE, {"status": "working", "currentTask": "fine"})
        await rogue.expect(MessageType.STATUS_UPDATE, userId="rogue", currentTask="fine")


@pytest.mark.asyncio
async def test_the_example_echo_agent_runs_in_its_own_process(runtime: ServerRuntime) -> None:
    env = {**os.environ, "AGENTCHAT_URL": runtime.url, "AGENTCHAT_TOKEN": issue_token(SECRET, "echo", "agent"),
           "PYTHONPATH": str(REPO)}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "examples.echo_agent", cwd=REPO, env=env)
    try:
        hub = runtime.manager.hub
        assert hub is not None
        for _ in range(300):  # the child process needs a moment to import and connect
            if "echo" in hub.by_user:
                break
            await asyncio.sleep(0.05)
        async with person(runtime, "alice") as alice:
            assert "echo" in alice.welcome["users"]
            sent = await alice.say("@echo ping")
            reply = await alice.expect(MessageType.AGENT_RESPONSE, sender="echo", replyTo=sent["id"])
            assert reply["text"] == "alice said: @echo ping"
    finally:
        proc.terminate()
        await proc.wait()
