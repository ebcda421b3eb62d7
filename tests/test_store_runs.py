"""The run and approval store contract, the same in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from agentchat_client.protocol import Role, utc_now

from server.core.approvals import Approval, Audience, decide
from server.store import AuditEntry, Run, RunEvent, Store, open_store


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "memory":
        url = "memory://"
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'chat.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    opened = open_store(url)
    await opened.start()
    yield opened
    await opened.close()


def events_of(run_id: str, count: int, finish: bool) -> list[RunEvent]:
    events = [RunEvent(run_id, 1, {"type": "RUN_STARTED", "threadId": "general", "runId": run_id, "timestamp": 1})]
    for seq in range(2, count + 1):
        events.append(RunEvent(run_id, seq, {"type": "CUSTOM", "name": "n", "value": None, "text": "\x00 ü"}))
    if finish:
        events.append(RunEvent(run_id, count + 1, {"type": "RUN_FINISHED", "threadId": "general", "runId": run_id,
                                                   "outcome": {"type": "cancelled"}}))
    return events


async def test_events_are_stored_in_order_and_broadcast_only_after_their_commit(store: Store) -> None:
    committed: list[tuple[str, int]] = []
    runs = [Run("r1", "files", reply_to=5, thread_id=3), Run("r2", "tasks", room_id="r-ops")]
    futures = []
    for run, finish in zip(runs, (True, False)):
        for event in events_of(run.run_id, 30, finish):
            futures.append(store.queue_run_event(run, event, lambda r, e: committed.append((r.run_id, e.seq))))
    assert all(await asyncio.gather(*futures))
    assert committed == [("r1", s) for s in range(1, 32)] + [("r2", s) for s in range(1, 31)]

    done = await store.get_run("r1")
    assert done is not None and done.status == "cancelled" and done.finished_at is not None and done.last_seq == 31
    assert done.reply_to == 5 and done.agent == "files" and done.room_id == "general" and done.thread_id == 3
    assert running.room_id == "r-ops" if (running := await store.get_run("r2")) else False
    running = await store.get_run("r2")
    assert running is not None and running.status == "running" and running.last_seq == 30
    assert [r.run_id for r in await store.runs_in_progress()] == ["r2"]
    assert await store.get_run("nope") is None

    tail = await store.run_events("r1", after_seq=28)
    assert [e.seq for e in tail] == [29, 30, 31] and tail[-1].type == "RUN_FINISHED"
    assert tail[0].event["text"] == "\x00 ü"  # any JSON survives, NUL escapes included
    assert [e.seq for e in await store.run_events("r2", 0, limit=3)] == [1, 2, 3]
    assert await store.run_events("nope") == []


def approval(**changes: object) -> Approval:
    now = utc_now()
    base = Approval("ap-1", "r1", "t1", "ops", "deploy", Audience(users=("alice", "bob"), quorum=2), now,
                    now + timedelta(minutes=10), args={"env": "prod", "n": [1, 2]}, reason="ship it", reply_to=9)
    return replace(base, **changes)  # type: ignore[arg-type]


def line(action: str, actor: str) -> AuditEntry:
    return AuditEntry(action, actor, "ap-1", "r1", "ops", "deploy", detail={"x": 1})


async def test_approvals_compare_and_set_with_their_audit_lines(store: Store) -> None:
    first = await store.add_approval(approval(), line("requested", "ops"))
    again = await store.add_approval(approval(approval_id="ap-2"), line("requested", "ops"))
    assert again.approval_id == "ap-1", "one request per run and tool call"
    assert [a.approval_id for a in await store.pending_approvals()] == ["ap-1"]

    stored = await store.get_approval("ap-1")
    assert stored == first
    once = decide(stored, "alice", Role.DEVELOPER, "approve", utc_now())
    twice = decide(once, "bob", Role.DEVELOPER, "approve", utc_now())
    assert await store.update_approval(once, 0, [line("approve", "alice")])
    assert not await store.update_approval(once, 0, [line("approve", "alice")]), "a stale version loses"
    assert await store.update_approval(twice, 1, [line("approve", "bob"), line("approved", "bob")])

    final = await store.get_approval("ap-1")
    assert final is not None and final.status == "approved" and final.resolved_by == ("alice", "bob")
    assert final.approved_by == ["alice", "bob"] and final.version == 2 and final.args == {"env": "prod", "n": [1, 2]}
    assert final.decisions[0].at.tzinfo is not None and final.expires_at.tzinfo is not None
    assert await store.pending_approvals() == []
    assert await store.get_approval("nope") is None

    log = await store.audit_log()
    assert [(e.action, e.actor) for e in log] == [("approved", "bob"), ("approve", "bob"), ("approve", "alice"),
                                                  ("requested", "ops")]
    assert log[0].detail == {"x": 1} and log[0].tool == "deploy"
    older = await store.audit_log(limit=2, before_id=log[1].id)
    assert [(e.action, e.actor) for e in older] == [("approve", "alice"), ("requested", "ops")]
