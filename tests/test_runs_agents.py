"""Agents produce runs: the run API of in-process agents and of ``AgentClient``, over real sockets.

Approvals, queues, Stop and the built-in agents, each checked from a person's connection: every
event validates with the ``ag-ui-protocol`` models, ``seq`` has no gaps, a tool that needs an
approval runs only when approved, and at most once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import pytest_asyncio
from agentchat_client import AgentClient, ParsedMessage
from agentchat_client.protocol import AGUI_EVENT, SERVER_FRAME, AgentState, MessageType
from agentchat_client.runs import Policies, Tool, ToolPolicy

from server.agents import Agent
from server.agents.testing import ChatTestClient
from server.auth import issue_token
from server.runtime import ServerRuntime
from tests.support import SECRET, chat_client, running_server



class Deployer(Agent):
    """Deploys after the room approves; counts how often the deploy really ran."""

    name = "deployer"
    description = "Deploys when the room says so."
    tools: ClassVar[tuple[Tool, ...]] = (Tool("deploy", description="Deploy a build", changes=True),
                                         Tool("status", description="Read the status", changes=False))

    def __init__(self) -> None:
        super().__init__()
        self.deployed: list[str] = []
        self.started = asyncio.Event()

    async def deploy(self, env: str) -> dict[str, Any]:
        self.deployed.append(env)
        return {"deployed": env, "ok": True}

    async def handle(self, msg: ParsedMessage) -> None:
        run = self.run
        self.started.set()
        env = "prod" if "prod" in msg.text else "staging"
        async with run.step("check"):
            await run.tool_call("status", {}, lambda: {"healthy": True})
        async with run.step("deploy"):
            result = await run.tool_call("deploy", {"env": env}, self.deploy, reason=f"{msg.sender} asked")
        run.usage(provider="test", model="none", input_tokens=3, output_tokens=2)
        await self.reply(msg, f"Deployed to {result['deployed']}.")


class Sleeper(Agent):
    """Works until told to stop; the queue test sends it several requests."""

    name = "sleeper"
    description = "Takes a while."

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.handled: list[int] = []

    async def handle(self, msg: ParsedMessage) -> None:
        self.handled.append(msg.message_id)
        async with self.run.step("sleep"):
            await self.release.wait()
        await self.reply(msg, f"Done with {msg.message_id}.")


@pytest_asyncio.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[ServerRuntime]:
    async with running_server(tmp_path, Deployer(), Sleeper()) as rt:
        yield rt


person = chat_client


def events(client: ChatTestClient, run_id: str) -> list[dict[str, Any]]:
    """The run's events this client received, checked: valid AG-UI events, seq 1.. without gaps."""
    got = client.matching(MessageType.AGENT_EVENT, runId=run_id)
    for data in got:
        AGUI_EVENT.validate_python(data["event"])
        SERVER_FRAME.validate_python({"type": "agent_event", "data": data})
    assert [d["seq"] for d in got] == list(range(1, len(got) + 1)), [d["seq"] for d in got]
    return [d["event"] for d in got]


async def finished(client: ChatTestClient, run_id: str) -> list[dict[str, Any]]:
    await client.expect(MessageType.AGENT_EVENT, runId=run_id,
                        where=lambda d: d["event"]["type"] in ("RUN_FINISHED", "RUN_ERROR"))
    return events(client, run_id)


def types(evs: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in evs]


@pytest.mark.asyncio
async def test_an_approved_tool_runs_once_and_the_run_is_watched_by_everyone(runtime: ServerRuntime) -> None:
    deployer: Deployer = runtime.agents.get("deployer")  # type: ignore[union-attr, assignment]
    async with person(runtime, "alice") as alice, person(runtime, "bob") as bob, \
            person(runtime, "vic", "viewer") as vic:
        sent = await alice.say("@deployer ship it to prod")
        request = await bob.expect(MessageType.APPROVAL_REQUEST, requestedBy="deployer")
        assert request["tool"] == "deploy" and request["args"] == {"env": "prod"} and request["reason"] == "alice asked"
        assert request["to"] == {"role": "developer", "quorum": 1} and request["replyTo"] == sent["id"]
        assert deployer.deployed == [], "nothing runs before the approval"

        await vic.send(MessageType.APPROVAL_DECISION, {"approvalId": request["approvalId"], "decision": "approve"})
        await vic.expect(MessageType.ERROR, code="FORBIDDEN")
        await asyncio.gather(  # two people approve at once: one wins, the tool runs once
            bob.send(MessageType.APPROVAL_DECISION, {"approvalId": request["approvalId"], "decision": "approve"}),
            alice.send(MessageType.APPROVAL_DECISION, {"approvalId": request["approvalId"], "decision": "approve"}),
        )
        resolved = await alice.expect(MessageType.APPROVAL_RESOLVED, approvalId=request["approvalId"])
        assert resolved["outcome"] == "approved" and len(resolved["by"]) == 1
        answer = await alice.expect(MessageType.AGENT_RESPONSE, sender="deployer", replyTo=sent["id"])
        assert answer["text"] == "Deployed to prod." and answer["runId"] == request["runId"]
        assert answer["streamId"] == answer["runId"]

        run_id = answer["runId"]
        seen = [await finished(person_, run_id) for person_ in (alice, bob, vic)]
        assert seen[0] == seen[1] == seen[2]
        evs = seen[0]
        assert types(evs)[0] == "RUN_STARTED" and types(evs)[-1] == "RUN_FINISHED"
        starts = [e for e in evs if e["type"] == "TOOL_CALL_START"]
        assert [e["toolCallName"] for e in starts] == ["status", "deploy"]
        assert starts[1]["toolCallId"] == request["toolCallId"]
        results = [e for e in evs if e["type"] == "TOOL_CALL_RESULT"]
        assert json.loads(results[1]["content"]) == {"deployed": "prod", "ok": True}
        assert [e["stepName"] for e in evs if e["type"] == "STEP_STARTED"] == ["check", "deploy"]
        text = "".join(e["delta"] for e in evs if e["type"] == "TEXT_MESSAGE_CONTENT")
        assert text == "Deployed to prod."
        assert evs[-1]["usage"] == [{"provider": "test", "model": "none", "inputTokens": 3, "outputTokens": 2}]
        assert deployer.deployed == ["prod"]
        frames = [(f["type"], f["data"]) for f in bob.frames]
        streamed = [i for i, (t, d) in enumerate(frames) if t == "agent_stream" and d["streamId"] == run_id]
        answered = [i for i, (t, d) in enumerate(frames) if t == "agent_response" and d.get("runId") == run_id]
        assert streamed and max(streamed) < min(answered), "old clients get the text, then the answer replacing it"
        errors = [e for e in alice.matching(MessageType.ERROR) + bob.matching(MessageType.ERROR)]
        assert len(errors) == 1 and errors[0]["code"] == "CONFLICT", "the slower approval is told it was closed"


@pytest.mark.asyncio
async def test_a_denied_or_expired_approval_skips_the_tool(runtime: ServerRuntime) -> None:
    deployer: Deployer = runtime.agents.get("deployer")  # type: ignore[union-attr, assignment]
    deployer.policies = Policies({"deploy": ToolPolicy("ask", {"user": "alice"}, expires_in=1)})
    async with person(runtime, "alice") as alice, person(runtime, "bob") as bob:
        sent = await alice.say("@deployer ship it to prod")
        request = await alice.expect(MessageType.APPROVAL_REQUEST, requestedBy="deployer")
        assert request["to"] == {"user": "alice"} and request["expiresInSeconds"] == 1
        await bob.send(MessageType.APPROVAL_DECISION, {"approvalId": request["approvalId"], "decision": "approve"})
        assert "alice" in (await bob.expect(MessageType.ERROR, code="FORBIDDEN"))["message"]
        resolved = await alice.expect(MessageType.APPROVAL_RESOLVED, approvalId=request["approvalId"])
        assert resolved["outcome"] == "expired"
        said = await alice.expect(MessageType.AGENT_RESPONSE, sender="deployer", replyTo=sent["id"])
        assert said["text"] == "I did not run deploy: nobody approved it in time." and said["agentStatus"] == "idle"
        evs = await finished(alice, request["runId"])
        result = next(e for e in evs if e["type"] == "TOOL_CALL_RESULT" and e["toolCallId"] == request["toolCallId"])
        assert "did not run" in result["content"]
        assert evs[-1]["type"] == "RUN_FINISHED" and "outcome" not in evs[-1]

        deployer.policies = Policies({"deploy": ToolPolicy("ask", {"user": "alice"})})
        sent = await alice.say("@deployer ship staging")
        request = await alice.expect(MessageType.APPROVAL_REQUEST, requestedBy="deployer", replyTo=sent["id"])
        await alice.send(MessageType.APPROVAL_DECISION, {"approvalId": request["approvalId"], "decision": "deny"})
        said = await alice.expect(MessageType.AGENT_RESPONSE, sender="deployer", replyTo=sent["id"])
        assert said["text"] == "I did not run deploy: alice denied it."

        deployer.policies = Policies.parse({"deploy": "deny"})
        sent = await alice.say("@deployer ship staging again")
        said = await alice.expect(MessageType.AGENT_RESPONSE, sender="deployer", replyTo=sent["id"])
        assert said["text"] == "I did not run deploy: the policy for deploy is deny."
        assert not alice.matching(MessageType.APPROVAL_REQUEST, replyTo=sent["id"])
    assert deployer.deployed == []


@pytest.mark.asyncio
async def test_stop_cancels_the_run_and_closes_its_approval(runtime: ServerRuntime) -> None:
    deployer: Deployer = runtime.agents.get("deployer")  # type: ignore[union-attr, assignment]
    async with person(runtime, "alice") as alice, person(runtime, "carol") as carol:
        sent = await alice.say("@deployer ship it to prod")
        request = await alice.expect(MessageType.APPROVAL_REQUEST, requestedBy="deployer")
        await carol.send(MessageType.STOP_AGENT, {"agent": "deployer"})
        resolved = await alice.expect(MessageType.APPROVAL_RESOLVED, approvalId=request["approvalId"])
        assert resolved["outcome"] == "cancelled" and resolved["by"] == ["carol"]
        await alice.expect(MessageType.AGENT_RESPONSE, sender="deployer", replyTo=sent["id"], text="Stopped by carol.")
        evs = await finished(alice, request["runId"])
        assert evs[-1]["type"] == "RUN_FINISHED" and evs[-1]["outcome"] == {"type": "cancelled"}
        assert types(evs).count("STEP_STARTED") == types(evs).count("STEP_FINISHED"), "open steps were closed"
        await carol.send(MessageType.APPROVAL_DECISION, {"approvalId": request["approvalId"], "decision": "approve"})
        await carol.expect(MessageType.ERROR, code="CONFLICT")
    assert deployer.deployed == []


@pytest.mark.asyncio
async def test_a_busy_agent_queues_mentions_in_order(runtime: ServerRuntime) -> None:
    sleeper: Sleeper = runtime.agents.get("sleeper")  # type: ignore[union-attr, assignment]
    async with person(runtime, "alice") as alice, person(runtime, "bob") as bob:
        first = await alice.say("@sleeper one")
        await alice.expect(MessageType.AGENT_EVENT, agent="sleeper", replyTo=first["id"])
        second = await bob.say("@sleeper two")
        third = await alice.say("@sleeper three")
        queued = [await bob.expect(MessageType.RUN_QUEUED, replyTo=m["id"]) for m in (second, third)]
        assert [q["position"] for q in queued] == [1, 2] and all(q["agent"] == "sleeper" for q in queued)
        async with person(runtime, "dave") as dave:  # a newcomer sees who waits
            await dave.expect(MessageType.RUN_QUEUED, runId=queued[1]["runId"])
        for message in (first, second, third):
            sleeper.release.set()
            answer = await alice.expect(MessageType.AGENT_RESPONSE, sender="sleeper", replyTo=message["id"])
            sleeper.release.clear()
            assert answer["runId"]
        assert sleeper.handled == [first["id"], second["id"], third["id"]], "in the order they arrived"
        runs = [await finished(alice, q["runId"]) for q in queued]
        assert all(evs[0]["runId"] == q["runId"] for evs, q in zip(runs, queued)), "the queued run id is the run's"


@pytest.mark.asyncio
async def test_builtin_agents_show_their_work(runtime: ServerRuntime) -> None:
    async with person(runtime, "alice") as alice:
        sent = await alice.say("/task add Write the release notes")
        answer = await alice.expect(MessageType.AGENT_RESPONSE, sender="tasks", replyTo=sent["id"])
        evs = await finished(alice, answer["runId"])
        start = next(e for e in evs if e["type"] == "TOOL_CALL_START")
        assert start["toolCallName"] == "add_task"
        args = "".join(e["delta"] for e in evs if e["type"] == "TOOL_CALL_ARGS")
        assert json.loads(args) == {"title": "Write the release notes", "assignee": None}
        result = json.loads(next(e for e in evs if e["type"] == "TOOL_CALL_RESULT")["content"])
        assert result["title"] == "Write the release notes" and result["state"] == "todo"

        folder = runtime.settings.upload_dir
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "f1").write_bytes(b"a,b\n1,2\n3,4\n")
        from server.store import Attachment

        await runtime.manager.store.add_attachment(Attachment("f1", "sales.csv", 12, "text/csv", "f1", "alice"))
        sent = await alice.say("@files what is this?", attachments=["f1"])
        answer = await alice.expect(MessageType.AGENT_RESPONSE, sender="files", replyTo=sent["id"])
        evs = await finished(alice, answer["runId"])
        assert [e["stepName"] for e in evs if e["type"] == "STEP_STARTED"] == ["Read sales.csv"]
        assert [e["toolCallName"] for e in evs if e["type"] == "TOOL_CALL_START"] == ["read_file", "analyse_file"]
        analysis = [e["content"] for e in evs if e["type"] == "TOOL_CALL_RESULT"][1]
        assert "sales.csv" in analysis and "rows" in analysis


@pytest.mark.asyncio
async def test_an_agent_client_run_with_an_approval(runtime: ServerRuntime) -> None:
    ran: list[str] = []

    async def restart(service: str) -> str:
        ran.append(service)
        return f"{service} restarted"

    ops = AgentClient(runtime.url, "ops", issue_token(SECRET, "ops", "agent"), min_backoff=0.2,
                      tools=[Tool.from_function(restart)],
                      policies={"restart": {"policy": "ask", "approve": {"users": ["alice", "bob"], "quorum": 2}}})

    @ops.on_message
    async def handle(msg: ParsedMessage) -> None:
        run = ops.current_run
        async with run.step("restart"):
            done = await run.tool_call("restart", {"service": "api"})
        async with run.message() as answer:
            await answer.write(done)
            await answer.write(".")
        await ops.reply(msg, f"{done}.")

    async with ops, person(runtime, "alice") as alice, person(runtime, "bob") as bob:
        sent = await alice.say("@ops restart the api")
        request = await alice.expect(MessageType.APPROVAL_REQUEST, requestedBy="ops")
        assert request["to"] == {"users": ["alice", "bob"], "quorum": 2}
        await alice.send(MessageType.APPROVAL_DECISION, {"approvalId": request["approvalId"], "decision": "approve"})
        await bob.expect(MessageType.APPROVAL_REQUEST, approvalId=request["approvalId"], approvedBy=["alice"])
        assert ran == [], "one of two is not a quorum"
        await bob.send(MessageType.APPROVAL_DECISION, {"approvalId": request["approvalId"], "decision": "approve"})
        answer = await bob.expect(MessageType.AGENT_RESPONSE, sender="ops", replyTo=sent["id"])
        assert answer["text"] == "api restarted." and answer["runId"] == request["runId"]
        assert answer["streamId"] == request["runId"]
        evs = await finished(bob, request["runId"])
        text_starts = [e for e in evs if e["type"] == "TEXT_MESSAGE_START"]
        assert len(text_starts) == 1, "the streamed answer is not sent twice"
        assert ran == ["api"]
        streamed = bob.matching(MessageType.AGENT_STREAM, streamId=request["runId"])
        assert "".join(d["delta"] for d in streamed) == "api restarted.", "old clients see the text stream"
        await bob.expect(MessageType.STATUS_UPDATE, userId="ops", status=AgentState.COMPLETED)
