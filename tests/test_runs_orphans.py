"""Runs nobody can finish are closed: an in-process agent's run when the server died under it, and
an agent on a socket that stays offline mid-run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from agentchat_client import ParsedMessage
from agentchat_client.protocol import MessageType
from server.agents import Agent
from server.agents.testing import ChatTestClient
from server.auth import issue_token
from server.runtime import ServerRuntime
from server.settings import Settings
from tests.support import ServerProcess, connect_as

SECRET = "test-secret-orphans-0123456789abcdef"


class Forever(Agent):
    """Starts a step and never ends it."""

    name = "forever"
    description = "Never finishes."

    async def handle(self, msg: ParsedMessage) -> None:
        async with self.run.step("wait"):
            await asyncio.Event().wait()


async def test_a_run_cut_by_a_server_crash_ends_as_interrupted(tmp_path: Path) -> None:
    config = tmp_path / "agents.toml"
    config.write_text('[[agents]]\nname = "forever"\nentry = "tests.test_runs_orphans:Forever"\n')
    server = ServerProcess(tmp_path / "server", AGENTCHAT_AGENTS_CONFIG=str(config), AGENTCHAT_BUILTIN_AGENTS="",
                           AGENTCHAT_RESPONSE_DELAY_SECONDS="0").start()
    try:
        alice = await connect_as(server.url, "alice")
        sent = await alice.say("@forever go")
        step = await alice.expect("agent_event", agent="forever", seq=2)
        assert step["replyTo"] == sent["id"] and step["event"]["type"] == "STEP_STARTED"
        await alice.close()
        server.kill()  # no chance to end the run
        server.start()
        bob = await connect_as(server.url, "bob")
        for _ in range(100):  # the server closes it as it starts; a replay shows how it ended
            await bob.send("run_subscribe", {"runId": step["runId"], "afterSeq": 2})
            await bob.send("ping")
            await bob.expect("pong")
            ended = [f for f in await bob.quiet(0.05) if f["type"] == "agent_event"]
            if ended:
                break
        assert [(e["data"]["seq"], e["data"]["event"]["type"], e["data"]["event"]["code"]) for e in ended] == [
            (3, "RUN_ERROR", "INTERRUPTED")]
        await bob.close()
    finally:
        server.stop()


@pytest_asyncio.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[ServerRuntime]:
    settings = Settings(port=0, data_dir=tmp_path, jwt_secret=SECRET, response_delay_seconds=0,
                        upload_dir=tmp_path / "uploads", builtin_agents=[])
    rt = ServerRuntime(settings)
    await rt.start()
    try:
        yield rt
    finally:
        await rt.stop()


@pytest.mark.asyncio
async def test_an_agent_that_stays_offline_mid_run_has_its_run_ended(runtime: ServerRuntime,
                                                                    monkeypatch: Any) -> None:
    monkeypatch.setattr("server.hub.runs.ORPHAN_GRACE_SECONDS", 0.5)
    async with ChatTestClient(runtime.url, "alice", issue_token(SECRET, "alice", "developer")) as alice:
        agent = ChatTestClient(runtime.url, "remote", issue_token(SECRET, "remote", "agent"))
        await agent.__aenter__()
        await agent.send(MessageType.AGENT_EVENT, {"runId": "run-remote-1", "event": {
            "type": "RUN_STARTED", "threadId": "general", "runId": "run-remote-1"}})
        await alice.expect(MessageType.AGENT_EVENT, runId="run-remote-1", seq=1)
        await agent.__aexit__(None, None, None)
        ended = await alice.expect(MessageType.AGENT_EVENT, runId="run-remote-1", seq=2)
        assert ended["event"]["type"] == "RUN_ERROR" and ended["event"]["code"] == "AGENT_OFFLINE"

        # Back in time: the run goes on.
        agent = ChatTestClient(runtime.url, "remote", issue_token(SECRET, "remote", "agent"))
        await agent.__aenter__()
        await agent.send(MessageType.AGENT_EVENT, {"runId": "run-remote-2", "event": {
            "type": "RUN_STARTED", "threadId": "general", "runId": "run-remote-2"}})
        await alice.expect(MessageType.AGENT_EVENT, runId="run-remote-2", seq=1)
        await agent.__aexit__(None, None, None)
        again = ChatTestClient(runtime.url, "remote", issue_token(SECRET, "remote", "agent"))
        await again.__aenter__()
        await asyncio.sleep(1.0)
        await again.send(MessageType.AGENT_EVENT, {"runId": "run-remote-2", "event": {
            "type": "RUN_FINISHED", "threadId": "general", "runId": "run-remote-2"}})
        done = await alice.expect(MessageType.AGENT_EVENT, runId="run-remote-2", seq=2)
        assert done["event"]["type"] == "RUN_FINISHED"
        await again.__aexit__(None, None, None)
