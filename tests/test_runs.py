"""Agent runs over real sockets against a real ``python -m server``: AG-UI events, replay, approvals.

The agent here speaks raw frames (the protocol itself is under test); ``test_runs_agents.py``
drives the same paths through the run API of in-process agents and ``AgentClient``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import pytest
from agentchat_client.protocol import AGUI_EVENT, SERVER_FRAME

from tests.support import Client, connect_as

_ids = itertools.count(1)


def new_run() -> str:
    return f"run-test-{next(_ids)}"


def validate(frame_data: dict[str, Any]) -> None:
    """Every event validates with the ag-ui-protocol models, and the frame with ours."""
    AGUI_EVENT.validate_python(frame_data["event"])
    SERVER_FRAME.validate_python({"type": "agent_event", "data": frame_data})


async def run_events(client: Client, run_id: str, until_seq: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """This client's ``agent_event`` frames of ``run_id`` up to ``until_seq``, in arrival order."""
    got: list[dict[str, Any]] = []
    kept = []
    for frame in client.backlog:
        if frame["type"] == "agent_event" and frame["data"]["runId"] == run_id:
            got.append(frame["data"])
        else:
            kept.append(frame)
    client.backlog = kept
    deadline = asyncio.get_running_loop().time() + timeout
    while not got or got[-1]["seq"] < until_seq:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise AssertionError(f"only {[g['seq'] for g in got]} of run {run_id} within {timeout}s")
        frame = await client.next(remaining)
        if frame["type"] == "agent_event" and frame["data"]["runId"] == run_id:
            got.append(frame["data"])
        else:
            client.backlog.append(frame)
    return got


class RawAgent:
    """An agent speaking frames: one run at a time."""

    def __init__(self, client: Client, name: str) -> None:
        self.client = client
        self.name = name

    async def event(self, run_id: str, event: dict[str, Any], **extra: Any) -> None:
        await self.client.send("agent_event", {"runId": run_id, "event": event, **extra})

    async def start(self, run_id: str, reply_to: int | None) -> None:
        await self.event(run_id, {"type": "RUN_STARTED", "threadId": "general", "runId": run_id}, replyTo=reply_to)

    async def tool_call(self, run_id: str, call_id: str, name: str, args: dict[str, Any]) -> None:
        await self.event(run_id, {"type": "TOOL_CALL_START", "toolCallId": call_id, "toolCallName": name})
        await self.event(run_id, {"type": "TOOL_CALL_ARGS", "toolCallId": call_id, "delta": json.dumps(args)})
        await self.event(run_id, {"type": "TOOL_CALL_END", "toolCallId": call_id})

    async def result(self, run_id: str, call_id: str, content: str) -> None:
        await self.event(run_id, {"type": "TOOL_CALL_RESULT", "messageId": f"res-{call_id}", "toolCallId": call_id,
                                  "content": content})

    async def finish(self, run_id: str) -> None:
        await self.event(run_id, {"type": "RUN_FINISHED", "threadId": "general", "runId": run_id})


async def agent(url: str, name: str) -> RawAgent:
    return RawAgent(await connect_as(url, name, "agent"), name)


async def test_two_people_see_the_same_gap_free_run_with_a_tool_call(server) -> None:
    alice = await connect_as(server.url, "alice")
    bob = await connect_as(server.url, "bob")
    files = await agent(server.url, "files")
    run_id = new_run()
    asked = await alice.say("@files how many rows in sales.csv?")
    await files.start(run_id, asked["id"])
    await files.event(run_id, {"type": "STEP_STARTED", "stepName": "read"})
    await files.tool_call(run_id, "tc1", "read_csv", {"file": "sales.csv"})
    await files.result(run_id, "tc1", '{"rows": 42}')
    await files.event(run_id, {"type": "STEP_FINISHED", "stepName": "read"})
    await files.event(run_id, {"type": "TEXT_MESSAGE_START", "messageId": "m1", "role": "assistant"})
    await files.event(run_id, {"type": "TEXT_MESSAGE_CONTENT", "messageId": "m1", "delta": "42 rows"})
    await files.event(run_id, {"type": "TEXT_MESSAGE_END", "messageId": "m1"})
    await files.client.send("agent_response", {"text": "42 rows", "replyTo": asked["id"], "streamId": run_id,
                                               "runId": run_id})
    await files.finish(run_id)

    seen = [await run_events(person, run_id, 11) for person in (alice, bob)]
    assert seen[0] == seen[1], "everyone receives the same events"
    assert [e["seq"] for e in seen[0]] == list(range(1, 12)), "seq from 1, no gaps"
    for data in seen[0]:
        validate(data)
        assert data["agent"] == "files" and data["replyTo"] == asked["id"]
        assert isinstance(data["event"]["timestamp"], int)
    types = [e["event"]["type"] for e in seen[0]]
    assert types[0] == "RUN_STARTED" and types[-1] == "RUN_FINISHED"
    assert types[2:6] == ["TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END", "TOOL_CALL_RESULT"]
    assert seen[0][0]["event"]["threadId"] == "general" and seen[0][0]["event"]["runId"] == run_id

    answer = await bob.expect("agent_response", sender="files", replyTo=asked["id"])
    assert answer["runId"] == run_id and answer["streamId"] == run_id
    streamed = await bob.expect("agent_stream", streamId=run_id)
    assert streamed["delta"] == "42 rows" and streamed["sender"] == "files", "old clients still see the stream"
    for client in (alice, bob, files.client):
        await client.close()


async def test_a_late_joiner_gets_the_run_so_far_then_live_and_run_subscribe_fills_gaps(server) -> None:
    alice = await connect_as(server.url, "alice")
    files = await agent(server.url, "files")
    run_id = new_run()
    asked = await alice.say("@files summarise")
    await files.start(run_id, asked["id"])
    for n in range(5):
        await files.event(run_id, {"type": "STEP_STARTED", "stepName": f"s{n}"})
    await run_events(alice, run_id, 6)

    carol = await connect_as(server.url, "carol")  # joins mid-run
    early = await run_events(carol, run_id, 6)
    assert [e["seq"] for e in early] == [1, 2, 3, 4, 5, 6]
    for n in reversed(range(5)):
        await files.event(run_id, {"type": "STEP_FINISHED", "stepName": f"s{n}"})
    late = await run_events(carol, run_id, 11)
    assert [e["seq"] for e in late] == [7, 8, 9, 10, 11]

    await carol.send("run_subscribe", {"runId": run_id, "afterSeq": 8})
    missing = await run_events(carol, run_id, 11)
    assert [e["seq"] for e in missing] == [9, 10, 11], "exactly what came after seq 8, in order"

    await files.finish(run_id)
    await run_events(carol, run_id, 12)
    await carol.send("run_subscribe", {"runId": run_id, "afterSeq": 10})
    replay = await run_events(carol, run_id, 12)
    assert [e["seq"] for e in replay] == [11, 12] and replay[-1]["event"]["type"] == "RUN_FINISHED"
    for data in replay:
        validate(data)

    viewer = await connect_as(server.url, "vera", "viewer")
    assert not [f for f in await viewer.quiet(0.3) if f["type"] == "agent_event" and f["data"]["runId"] == run_id], \
        "a finished run is not replayed"
    await viewer.send("run_subscribe", {"runId": run_id})
    assert len(await run_events(viewer, run_id, 12)) == 12
    await viewer.send("run_subscribe", {"runId": "run-nobody"})
    assert "run-nobody" in (await viewer.error("NOT_FOUND"))["message"]
    for client in (alice, carol, viewer, files.client):
        await client.close()


async def test_only_the_runs_agent_may_emit_and_sequences_are_checked(server) -> None:
    alice = await connect_as(server.url, "alice")
    files = await agent(server.url, "files")
    tasks = await agent(server.url, "tasks")
    run_id = new_run()
    await files.start(run_id, None)
    await run_events(alice, run_id, 1)

    await alice.send("agent_event", {"runId": run_id, "event": {"type": "STEP_STARTED", "stepName": "x"}})
    assert "agent_event" in (await alice.error("FORBIDDEN"))["message"]
    await tasks.event(run_id, {"type": "STEP_STARTED", "stepName": "x"})
    refused = await tasks.client.error("FORBIDDEN")
    assert "files" in refused["message"] and refused["ref"] == run_id
    await files.event(run_id, {"type": "TEXT_MESSAGE_CONTENT", "messageId": "nope", "delta": "x"})
    assert "TEXT_MESSAGE_START" in (await files.client.error("INVALID_MESSAGE"))["message"]
    await files.event(run_id, {"type": "THINKING_START"})
    assert "THINKING_START" in (await files.client.error("INVALID_MESSAGE"))["message"]
    await files.event("run-never-started", {"type": "STEP_STARTED", "stepName": "x"})
    await files.client.error("NOT_FOUND")
    await files.start(run_id, None)
    await files.client.error("CONFLICT")
    await files.client.send("agent_response", {"text": "hi", "runId": run_id + "x"})
    await files.client.error("NOT_FOUND")
    await tasks.client.send("agent_response", {"text": "hi", "runId": run_id})
    await tasks.client.error("FORBIDDEN")

    await files.event(run_id, {"type": "RUN_ERROR", "message": "gave up", "code": "TEST"})
    await files.event(run_id, {"type": "STEP_STARTED", "stepName": "after"})
    assert "finished" in (await files.client.error("CONFLICT"))["message"]
    events = await run_events(alice, run_id, 2)
    assert [(e["seq"], e["event"]["type"]) for e in events] == [(2, "RUN_ERROR")], "refused events leave no gap"
    for client in (alice, files.client, tasks.client):
        await client.close()


async def open_tool_call(files: RawAgent, alice: Client, call_id: str = "tc1") -> tuple[str, dict[str, Any]]:
    run_id = new_run()
    asked = await alice.say("@files deploy it")
    await files.start(run_id, asked["id"])
    await files.tool_call(run_id, call_id, "deploy", {"env": "prod"})
    await run_events(alice, run_id, 4)
    return run_id, asked


async def test_approvals_viewers_quorum_of_two_different_people_and_closed_requests(server) -> None:
    alice = await connect_as(server.url, "alice")
    bob = await connect_as(server.url, "bob")
    vera = await connect_as(server.url, "vera", "viewer")
    files = await agent(server.url, "files")
    run_id, asked = await open_tool_call(files, alice)

    await files.client.send("approval_request", {
        "runId": run_id, "toolCallId": "tc1", "tool": "deploy", "args": {"env": "prod"}, "reason": "ship v2",
        "to": {"users": ["alice", "bob", "vera"], "quorum": 2}, "expiresInSeconds": 600})
    request = await vera.expect("approval_request", runId=run_id)
    SERVER_FRAME.validate_python({"type": "approval_request", "data": request})
    assert request["status"] == "pending" and request["requestedBy"] == "files" and request["approvedBy"] == []
    assert request["replyTo"] == asked["id"] and request["approvalId"].startswith("ap-")
    approval_id = request["approvalId"]

    await vera.send("approval_decision", {"approvalId": approval_id, "decision": "approve"})
    assert "Viewers" in (await vera.error("FORBIDDEN"))["message"]
    carol = await connect_as(server.url, "carol")
    await carol.send("approval_decision", {"approvalId": approval_id, "decision": "approve"})
    assert "alice" in (await carol.error("FORBIDDEN"))["message"]
    assert await carol.expect("approval_request", approvalId=approval_id), "everyone sees it pending on joining"

    await alice.send("approval_decision", {"approvalId": approval_id, "decision": "approve"})
    progress = await bob.expect("approval_request", approvalId=approval_id, approvedBy=["alice"])
    assert progress["status"] == "pending"
    await alice.send("approval_decision", {"approvalId": approval_id, "decision": "approve"})
    assert "already approved" in (await alice.error("CONFLICT"))["message"]
    await bob.send("approval_decision", {"approvalId": approval_id, "decision": "approve"})
    resolved = await files.client.expect("approval_resolved", approvalId=approval_id)
    assert resolved["outcome"] == "approved" and resolved["by"] == ["alice", "bob"]
    SERVER_FRAME.validate_python({"type": "approval_resolved", "data": resolved})
    await bob.send("approval_decision", {"approvalId": approval_id, "decision": "deny"})
    assert "closed" in (await bob.error("CONFLICT"))["message"]
    await bob.send("approval_decision", {"approvalId": "ap-none", "decision": "deny"})
    await bob.error("NOT_FOUND")

    # Asking again for the same tool call answers with how it ended: never a second approval.
    await files.client.send("approval_request", {"runId": run_id, "toolCallId": "tc1", "tool": "deploy",
                                                 "to": {"user": "alice"}})
    again = await files.client.expect("approval_resolved", approvalId=approval_id)
    assert again["outcome"] == "approved"
    await alice.send("approval_request", {"runId": run_id, "toolCallId": "tc1", "tool": "deploy", "to": {"user": "alice"}})
    await alice.error("FORBIDDEN")
    await files.client.send("approval_request", {"runId": run_id, "toolCallId": "tc-unknown", "tool": "deploy",
                                                 "to": {"user": "alice"}})
    assert "TOOL_CALL_START" in (await files.client.error("INVALID_MESSAGE"))["message"]
    for client in (alice, bob, carol, vera, files.client):
        await client.close()


async def test_a_deny_closes_it_and_an_expired_one_resolves_as_expired(server) -> None:
    alice = await connect_as(server.url, "alice")
    files = await agent(server.url, "files")
    run_id, _ = await open_tool_call(files, alice, "tc-a")
    await files.tool_call(run_id, "tc-b", "wipe", {})
    await files.client.send("approval_request", {"runId": run_id, "toolCallId": "tc-a", "tool": "deploy",
                                                 "to": {"role": "developer"}})
    first = await alice.expect("approval_request", toolCallId="tc-a")
    await alice.send("approval_decision", {"approvalId": first["approvalId"], "decision": "deny"})
    denied = await files.client.expect("approval_resolved", approvalId=first["approvalId"])
    assert denied["outcome"] == "denied" and denied["by"] == ["alice"]

    await files.client.send("approval_request", {"runId": run_id, "toolCallId": "tc-b", "tool": "wipe",
                                                 "to": {"user": "alice"}, "expiresInSeconds": 1})
    second = await alice.expect("approval_request", toolCallId="tc-b")
    expired = await files.client.expect("approval_resolved", approvalId=second["approvalId"])
    assert expired["outcome"] == "expired" and expired["by"] == []
    await alice.send("approval_decision", {"approvalId": second["approvalId"], "decision": "approve"})
    assert "expired" in (await alice.error("CONFLICT"))["message"]
    for client in (alice, files.client):
        await client.close()


async def test_stop_cancels_open_approvals_and_ending_a_run_closes_them(server) -> None:
    alice = await connect_as(server.url, "alice")
    files = await agent(server.url, "files")
    run_id, _ = await open_tool_call(files, alice)
    await files.client.send("approval_request", {"runId": run_id, "toolCallId": "tc1", "tool": "deploy",
                                                 "to": {"user": "alice"}})
    pending = await alice.expect("approval_request", runId=run_id)
    await alice.send("stop_agent", {"agent": "files"})
    cancelled = await alice.expect("approval_resolved", approvalId=pending["approvalId"])
    assert cancelled["outcome"] == "cancelled" and cancelled["by"] == ["alice"]
    await files.client.expect("stop_agent", agent="files")

    await files.tool_call(run_id, "tc2", "deploy", {})
    await files.client.send("approval_request", {"runId": run_id, "toolCallId": "tc2", "tool": "deploy",
                                                 "to": {"user": "alice"}})
    second = await alice.expect("approval_request", toolCallId="tc2")
    await files.event(run_id, {"type": "RUN_ERROR", "message": "cancelled"})
    closed = await alice.expect("approval_resolved", approvalId=second["approvalId"])
    assert closed["outcome"] == "cancelled"
    for client in (alice, files.client):
        await client.close()


async def test_queued_requests_are_seen_and_replaced_by_their_run(server) -> None:
    alice = await connect_as(server.url, "alice")
    files = await agent(server.url, "files")
    asked = await alice.say("@files later please")
    await files.client.send("run_queued", {"runId": "run-q1", "replyTo": asked["id"], "position": 2})
    queued = await alice.expect("run_queued", runId="run-q1")
    assert queued["agent"] == "files" and queued["position"] == 2
    SERVER_FRAME.validate_python({"type": "run_queued", "data": queued})
    dave = await connect_as(server.url, "dave")
    assert await dave.expect("run_queued", runId="run-q1"), "a newcomer sees what waits"
    await files.start("run-q1", asked["id"])
    await run_events(alice, "run-q1", 1)
    erin = await connect_as(server.url, "erin")
    frames = await erin.quiet(0.5)
    assert not [f for f in frames if f["type"] == "run_queued"]
    assert [f["data"]["seq"] for f in frames if f["type"] == "agent_event" and f["data"]["runId"] == "run-q1"] == [1]
    await alice.send("run_queued", {"runId": "run-q2", "replyTo": asked["id"]})
    await alice.error("FORBIDDEN")
    for client in (alice, dave, erin, files.client):
        await client.close()


@pytest.mark.parametrize("bad", [
    {"runId": "has space", "event": {"type": "STEP_STARTED", "stepName": "x"}},
    {"runId": "r", "event": {"type": "STEP_STARTED"}},
    {"runId": "r", "event": {"type": "CUSTOM", "name": "big", "value": "x" * 70_000}},
])
async def test_bad_events_are_invalid_messages(server, bad: dict[str, Any]) -> None:
    files = await connect_as(server.url, "files", "agent")
    await files.send("agent_event", bad)
    await files.error("INVALID_MESSAGE")
    await files.close()


async def test_a_run_in_a_private_room_stays_in_that_room(server) -> None:
    alice = await connect_as(server.url, "alice")
    bob = await connect_as(server.url, "bob")
    files = await agent(server.url, "files")
    await alice.send("room_create", {"name": f"ops {next(_ids)}", "kind": "private", "members": ["files"]})
    room = (await alice.expect("room"))["room"]
    room_id = room["roomId"]
    asked = await alice.say("@files check the deploy", roomId=room_id)
    run_id = new_run()
    await files.event(run_id, {"type": "RUN_STARTED", "threadId": "x", "runId": run_id}, replyTo=asked["id"])
    assert "room" in (await files.client.error("INVALID_MESSAGE"))["message"], "replyTo must be in the run's room"
    await files.event(run_id, {"type": "RUN_STARTED", "threadId": "x", "runId": run_id}, replyTo=asked["id"],
                      roomId=room_id)
    await files.tool_call(run_id, "tc1", "deploy", {})
    first = await run_events(alice, run_id, 4)
    assert first[0]["roomId"] == room_id and first[0]["event"]["threadId"] == room_id
    await files.client.send("approval_request", {"runId": run_id, "toolCallId": "tc1", "tool": "deploy",
                                                 "to": {"role": "developer"}})
    request = await alice.expect("approval_request", runId=run_id)
    assert request["roomId"] == room_id

    await bob.send("approval_decision", {"approvalId": request["approvalId"], "decision": "approve"})
    await bob.error("FORBIDDEN")
    await bob.send("run_subscribe", {"runId": run_id})
    await bob.error("NOT_FOUND")
    carol = await connect_as(server.url, "carol")
    assert not [f for f in await carol.quiet(0.5) + await bob.quiet(0.1)
                if f["type"] in ("agent_event", "approval_request") and f["data"].get("runId") == run_id]
    late = await connect_as(server.url, "alice")  # a member's second tab gets the run and its approval
    assert [e["seq"] for e in await run_events(late, run_id, 4)] == [1, 2, 3, 4]
    await late.expect("approval_request", runId=run_id)
    await alice.send("approval_decision", {"approvalId": request["approvalId"], "decision": "approve"})
    await files.client.expect("approval_resolved", approvalId=request["approvalId"], outcome="approved")
    for client in (alice, bob, carol, late, files.client):
        await client.close()
