"""A pending approval survives a server restart, on SQLite and PostgreSQL, and can then be decided.

A real ``python -m server`` process and an ``AgentClient`` waiting for the approval: the server
stops and starts again, the agent reconnects, the person reconnects and gets the pending request
after authenticating, approves it, and the agent's tool runs once; the run's events are gap-free
across the restart.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from agentchat_client import AgentClient, ParsedMessage
from agentchat_client.protocol import AGUI_EVENT
from agentchat_client.runs import Tool

from tests.support import Client, ServerProcess, connect_as, token


async def collect_run(client: Client, run_id: str) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while not got or got[-1]["event"]["type"] not in ("RUN_FINISHED", "RUN_ERROR"):
        got.append(await client.expect("agent_event", runId=run_id))
    return got


async def test_a_pending_approval_survives_a_restart(tmp_path: Path, db_url: str) -> None:
    env = {"AGENTCHAT_AGENTS_ENABLED": "false", "AGENTCHAT_RESPONSE_DELAY_SECONDS": "0"}
    if db_url.startswith("postgresql"):
        env["AGENTCHAT_DATABASE_URL"] = db_url
    server = ServerProcess(tmp_path / "server", **env).start()
    ran: list[str] = []

    async def restart(service: str) -> str:
        ran.append(service)
        return f"{service} restarted"

    ops = AgentClient(server.url, "ops", token("ops", "agent"), min_backoff=0.2, max_backoff=0.5,
                      tools=[Tool.from_function(restart)],
                      policies={"restart": {"policy": "ask", "approve": {"user": "alice"}}})

    @ops.on_message
    async def handle(msg: ParsedMessage) -> None:
        async with ops.current_run.step("restart"):
            done = await ops.current_run.tool_call("restart", {"service": "api"})
        await ops.reply(msg, f"{done}.")

    try:
        await ops.start()
        alice = await connect_as(server.url, "alice")
        sent = await alice.say("@ops restart the api")
        request = await alice.expect("approval_request", requestedBy="ops")
        before = await alice.expect("agent_event", runId=request["runId"], seq=5)  # TOOL_CALL_END, then nothing
        assert before["event"]["type"] == "TOOL_CALL_END"
        await alice.close()

        server.stop()
        server.start()

        alice = await connect_as(server.url, "alice")
        again = await alice.expect("approval_request", approvalId=request["approvalId"])
        assert again["status"] == "pending" and again["args"] == {"service": "api"}
        assert ran == []
        await alice.send("approval_decision", {"approvalId": request["approvalId"], "decision": "approve"})
        resolved = await alice.expect("approval_resolved", approvalId=request["approvalId"])
        assert resolved["outcome"] == "approved" and resolved["by"] == ["alice"]
        answer = await alice.expect("agent_response", sender="ops", replyTo=sent["id"])
        assert answer["text"] == "api restarted." and answer["runId"] == request["runId"]
        assert ran == ["api"]

        await alice.send("approval_decision", {"approvalId": request["approvalId"], "decision": "approve"})
        await alice.error("CONFLICT")
        viewer = await connect_as(server.url, "vera", "viewer")
        await viewer.send("run_subscribe", {"runId": request["runId"]})
        replay = await collect_run(viewer, request["runId"])
        assert [e["seq"] for e in replay] == list(range(1, len(replay) + 1)), "no gap across the restart"
        for data in replay:
            AGUI_EVENT.validate_python(data["event"])
        assert [e["event"]["type"] for e in replay][4:7] == ["TOOL_CALL_END", "TOOL_CALL_RESULT", "STEP_FINISHED"]
        assert replay[-1]["event"]["type"] == "RUN_FINISHED"
        await asyncio.sleep(0.3)
        assert ran == ["api"], "the tool ran once"
        for client in (alice, viewer):
            await client.close()
    finally:
        await ops.close()
        server.stop()
