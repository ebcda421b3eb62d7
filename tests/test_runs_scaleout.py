"""Runs and approvals across two server processes sharing PostgreSQL and Redis.

An agent on process A runs; people on process B watch it live, join it mid-run, replay it and
decide its approval; the agent then moves to B and carries on the same run without a gap.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from agentchat_client.protocol import AGUI_EVENT
from tests.support import ServerProcess, connect_as
from tests.test_runs import RawAgent, run_events

REDIS_URL = "redis://127.0.0.1:6379/0"
PG_ADMIN = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServerProcess]]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({exc})")
    prefix = "agentchat_runs_" + uuid.uuid4().hex[:10]
    database = "agentchat_runs_" + uuid.uuid4().hex[:10]
    try:
        subprocess.run([*PG_ADMIN, f"CREATE DATABASE {database}"], check=True, capture_output=True, timeout=30)
    except (subprocess.CalledProcessError, FileNotFoundError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432 ({exc})")
    common = {"AGENTCHAT_DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{database}",
              "AGENTCHAT_REDIS_URL": REDIS_URL, "AGENTCHAT_REDIS_PREFIX": prefix,
              "AGENTCHAT_RESPONSE_DELAY_SECONDS": "0", "AGENTCHAT_AGENTS_ENABLED": "false"}
    a = ServerProcess(Path(tmp_path_factory.mktemp("a")), **common)
    b = ServerProcess(Path(tmp_path_factory.mktemp("b")), **common)
    try:
        a.start()
        b.start()
        yield {"a": a, "b": b}
    finally:
        for proc in (a, b):
            proc.stop()
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
        client.close()
        subprocess.run([*PG_ADMIN, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"], capture_output=True, timeout=30)


async def test_a_run_on_one_process_is_watched_replayed_and_approved_on_the_other(cluster) -> None:
    a, b = cluster["a"], cluster["b"]
    files = RawAgent(await connect_as(a.url, "files", "agent"), "files")
    alice = await connect_as(b.url, "alice")
    asked = await alice.say("@files deploy it")
    run_id = "run-scale-1"
    await files.start(run_id, asked["id"])
    await files.event(run_id, {"type": "STEP_STARTED", "stepName": "deploy"})
    await files.tool_call(run_id, "tc1", "deploy", {"env": "prod"})
    live = await run_events(alice, run_id, 5)
    assert [e["seq"] for e in live] == [1, 2, 3, 4, 5]

    carol = await connect_as(b.url, "carol")  # joins mid-run on the other process
    assert [e["seq"] for e in await run_events(carol, run_id, 5)] == [1, 2, 3, 4, 5]
    await carol.send("run_subscribe", {"runId": run_id, "afterSeq": 3})
    assert [e["seq"] for e in await run_events(carol, run_id, 5)] == [4, 5]

    await files.client.send("approval_request", {"runId": run_id, "toolCallId": "tc1", "tool": "deploy",
                                                 "to": {"users": ["alice", "carol"], "quorum": 2}})
    request = await alice.expect("approval_request", runId=run_id)
    await alice.send("approval_decision", {"approvalId": request["approvalId"], "decision": "approve"})
    await carol.expect("approval_request", approvalId=request["approvalId"], approvedBy=["alice"])
    await carol.send("approval_decision", {"approvalId": request["approvalId"], "decision": "approve"})
    resolved = await files.client.expect("approval_resolved", approvalId=request["approvalId"])
    assert resolved["outcome"] == "approved" and resolved["by"] == ["alice", "carol"]

    # The agent moves to process B and carries on the same run.
    await files.client.close()
    moved = RawAgent(await connect_as(b.url, "files", "agent"), "files")
    await moved.result(run_id, "tc1", "deployed")
    await moved.event(run_id, {"type": "STEP_FINISHED", "stepName": "deploy"})
    await moved.finish(run_id)
    rest = await run_events(alice, run_id, 8)
    assert [e["seq"] for e in rest] == [6, 7, 8] and rest[-1]["event"]["type"] == "RUN_FINISHED"

    watcher = await connect_as(a.url, "vera", "viewer")
    await watcher.send("run_subscribe", {"runId": run_id})
    replay = await run_events(watcher, run_id, 8)
    assert [e["seq"] for e in replay] == list(range(1, 9))
    for data in replay:
        AGUI_EVENT.validate_python(data["event"])
    for client in (alice, carol, moved.client, watcher):
        await client.close()
