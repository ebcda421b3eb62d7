"""``GET /runs/{runId}/events`` over real HTTP on the companion server's port: Server-Sent Events."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from agentchat_client.protocol import AGUI_EVENT

from tests.support import connect_as, token
from tests.test_runs import RawAgent, agent, new_run, run_events


def base(server: Any) -> str:
    return f"http://127.0.0.1:{server.port}"


def parse_sse(text: str) -> list[tuple[int, dict[str, Any]]]:
    """``(id, data)`` of every SSE event (comment lines skipped), checked as AG-UI events."""
    out = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith(":") or not line:
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        if fields:
            event = json.loads(fields["data"])
            AGUI_EVENT.validate_python(event)
            out.append((int(fields["id"]), event))
    return out


async def read_stream(http: httpx.AsyncClient, url: str, headers: dict[str, str], until: int | None = None,
                      into: list[tuple[int, dict[str, Any]]] | None = None) -> tuple[int, list[tuple[int, dict[str, Any]]]]:
    """Read an SSE response to its end (or until the event with id ``until``)."""
    got = into if into is not None else []
    async with http.stream("GET", url, headers=headers) as response:
        if response.status_code != 200:
            await response.aread()
            return response.status_code, got
        assert response.headers["content-type"].startswith("text/event-stream")
        buffer = ""
        async for chunk in response.aiter_text():
            buffer += chunk
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                got += parse_sse(block + "\n\n")
                if until is not None and got and got[-1][0] >= until:
                    return 200, got
    return 200, got


async def started_run(server: Any) -> tuple[RawAgent, str]:
    files = await agent(server.url, "files")
    alice = await connect_as(server.url, "alice")
    asked = await alice.say("@files go")
    run_id = new_run()
    await files.start(run_id, asked["id"])
    await files.tool_call(run_id, "tc1", "read_csv", {"file": "a.csv"})
    await run_events(alice, run_id, 4)
    await alice.close()
    return files, run_id


async def test_an_ag_ui_client_watches_a_run_live_and_resumes_with_last_event_id(server) -> None:
    files, run_id = await started_run(server)
    url = f"{base(server)}/runs/{run_id}/events"
    auth = {"Authorization": f"Bearer {token('watcher')}"}
    async with httpx.AsyncClient(timeout=30) as http:
        got: list[tuple[int, dict[str, Any]]] = []
        reader = asyncio.create_task(read_stream(http, url, auth, into=got))
        while len(got) < 4:  # the events so far arrive first
            await asyncio.sleep(0.05)
        assert [seq for seq, _ in got] == [1, 2, 3, 4] and got[0][1]["type"] == "RUN_STARTED"
        await files.result(run_id, "tc1", "3 rows")
        await files.event(run_id, {"type": "TEXT_MESSAGE_START", "messageId": "m", "role": "assistant"})
        await files.event(run_id, {"type": "TEXT_MESSAGE_CONTENT", "messageId": "m", "delta": "3 rows\nin a.csv"})
        await files.event(run_id, {"type": "TEXT_MESSAGE_END", "messageId": "m"})
        await files.finish(run_id)
        status, _ = await asyncio.wait_for(reader, 20)  # the stream ends after the terminal event
        assert status == 200
        assert [seq for seq, _ in got] == list(range(1, 10))
        assert got[-1][1]["type"] == "RUN_FINISHED" and got[6][1]["delta"] == "3 rows\nin a.csv"

        status, resumed = await read_stream(http, url, {**auth, "Last-Event-ID": "6"})
        assert status == 200 and [seq for seq, _ in resumed] == [7, 8, 9], "exactly the missing events"
        assert resumed == got[6:]
        status, none = await read_stream(http, url, {**auth, "Last-Event-ID": "9"})
        assert status == 200 and none == []
    await files.client.close()


async def test_a_client_that_joins_mid_run_and_resumes_gets_no_gap_and_no_repeat(server) -> None:
    files, run_id = await started_run(server)
    url = f"{base(server)}/runs/{run_id}/events"
    auth = {"Authorization": f"Bearer {token('watcher')}"}
    async with httpx.AsyncClient(timeout=30) as http:
        status, first = await read_stream(http, url, auth, until=4)
        assert [seq for seq, _ in first] == [1, 2, 3, 4]
        await files.result(run_id, "tc1", "ok")  # seq 5, while nobody watches
        got: list[tuple[int, dict[str, Any]]] = []
        reader = asyncio.create_task(read_stream(http, url, {**auth, "Last-Event-ID": "4"}, into=got))
        while not got:
            await asyncio.sleep(0.05)
        await files.finish(run_id)
        await asyncio.wait_for(reader, 20)
        assert [seq for seq, _ in got] == [5, 6] and got[-1][1]["type"] == "RUN_FINISHED"
    await files.client.close()


async def test_the_endpoint_needs_a_token_and_a_run_the_caller_may_read(server) -> None:
    files, run_id = await started_run(server)
    url = f"{base(server)}/runs/{run_id}/events"
    async with httpx.AsyncClient(timeout=30) as http:
        for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": f"Basic {token('x')}"}):
            response = await http.get(url, headers=headers)
            assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
        auth = {"Authorization": f"Bearer {token('watcher', 'viewer')}"}
        response = await http.get(f"{base(server)}/runs/run-nobody/events", headers=auth)
        assert response.status_code == 404 and "run-nobody" in response.json()["error"]["message"]
        response = await http.get(url, headers={**auth, "Last-Event-ID": "soon"})
        assert response.status_code == 400

        owner = await connect_as(server.url, "olga")
        await owner.send("room_create", {"name": f"secret {run_id}", "kind": "private", "members": ["files"]})
        room_id = (await owner.expect("room"))["room"]["roomId"]
        asked = await owner.say("@files private", roomId=room_id)
        private_run = new_run()
        await files.event(private_run, {"type": "RUN_STARTED", "threadId": "x", "runId": private_run},
                          replyTo=asked["id"], roomId=room_id)
        await run_events(owner, private_run, 1)
        response = await http.get(f"{base(server)}/runs/{private_run}/events", headers=auth)
        assert response.status_code == 404, "a private room's run does not exist for outsiders"
        await files.event(private_run, {"type": "RUN_FINISHED", "threadId": "x", "runId": private_run})
        status, events = await read_stream(http, f"{base(server)}/runs/{private_run}/events",
                                           {"Authorization": f"Bearer {token('olga')}"})
        assert status == 200 and [e["type"] for _, e in events] == ["RUN_STARTED", "RUN_FINISHED"]
        await owner.close()
    await files.client.close()


async def test_admins_read_the_approvals_audit_log(server) -> None:
    admin = await connect_as(server.url, "root", "admin")
    alice = await connect_as(server.url, "alice")
    files = await agent(server.url, "files")
    asked = await alice.say("@files deploy")
    run_id = new_run()
    await files.start(run_id, asked["id"])
    await files.tool_call(run_id, "tc1", "deploy", {"env": "prod"})
    await files.client.send("approval_request", {"runId": run_id, "toolCallId": "tc1", "tool": "deploy",
                                                 "args": {"env": "prod"}, "reason": "asked", "to": {"user": "alice"}})
    request = await alice.expect("approval_request", runId=run_id)
    await alice.send("approval_decision", {"approvalId": request["approvalId"], "decision": "deny"})
    await alice.expect("approval_resolved", approvalId=request["approvalId"])
    async with httpx.AsyncClient(timeout=30) as http:
        url = f"{base(server)}/api/admin/approvals"
        response = await http.get(url, headers={"Authorization": f"Bearer {token('alice')}"})
        assert response.status_code == 403
        response = await http.get(url, headers={"Authorization": f"Bearer {token('root', 'admin')}"})
        assert response.status_code == 200
        mine = [e for e in response.json()["entries"] if e["approvalId"] == request["approvalId"]]
        assert [(e["action"], e["actor"]) for e in mine] == [("denied", "alice"), ("deny", "alice"), ("requested", "files")]
        assert mine[-1]["detail"]["args"] == {"env": "prod"} and mine[-1]["tool"] == "deploy"
        assert mine[-1]["runId"] == run_id and mine[0]["at"].endswith("Z")
        page = await http.get(url, params={"limit": "1"}, headers={"Authorization": f"Bearer {token('root', 'admin')}"})
        assert len(page.json()["entries"]) == 1 and page.json()["hasMore"]
    for client in (admin, alice, files.client):
        await client.close()
