"""The usage ledger contract, the same in memory, on SQLite and on PostgreSQL; migration 0005 on
an existing database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.core.budgets import Spent
from server.store import Store, UsageRecord, open_store
from server.store.sql import SqlStore, make_engine
from tests.test_migration_accounts import upgrade

DAY1 = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
DAY2 = datetime(2026, 3, 2, 0, 1, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    url = {"memory": "memory://", "sqlite": f"sqlite:///{tmp_path / 'chat.db'}"}.get(request.param)
    opened = open_store(url or request.getfixturevalue("pg_url"))
    await opened.start()
    yield opened
    await opened.close()


def call(run: str, agent: str, person: str | None, at: datetime, i: int, o: int, cost: float) -> UsageRecord:
    return UsageRecord(run, agent, person, "general", "gpt-x", i, o, cached_input_tokens=i // 2, reasoning_tokens=1,
                       cost_usd=cost, first_token_ms=120, duration_ms=900, at=at)


async def test_calls_are_summed_per_day_agent_and_person(store: Store) -> None:
    first = await store.add_usage(call("run-a", "writer", "alice", DAY1, 100, 20, 0.5))
    assert first.id is not None and first.day == "2026-03-01"
    await store.add_usage(call("run-a", "writer", "alice", DAY1, 50, 10, 0.25))
    await store.add_usage(call("run-b", "writer", "bob", DAY1, 10, 1, 0.01))
    await store.add_usage(call("run-c", "coder", "alice", DAY2, 7, 3, 1.0))

    assert await store.usage_spent("2026-03-01", person="alice") == Spent(0.75, 180)
    assert await store.usage_spent("2026-03-01", agent="writer") == Spent(0.76, 191)
    assert await store.usage_spent("2026-03-02", agent="writer") == Spent(0.0, 0)
    assert await store.usage_spent("2026-03-02", agent="coder", person="alice") == Spent(1.0, 10)

    totals = await store.usage_totals("2026-03-01", "2026-03-02")
    assert [(t.day, t.agent, t.person, t.calls, t.total_tokens) for t in totals] == [
        ("2026-03-01", "writer", "alice", 2, 180), ("2026-03-01", "writer", "bob", 1, 11),
        ("2026-03-02", "coder", "alice", 1, 10)]
    assert totals[0].cached_input_tokens == 75 and totals[0].reasoning_tokens == 2
    assert totals[0].cost_usd == pytest.approx(0.75)
    assert await store.usage_totals("2026-03-02", "2026-03-02") == totals[2:]

    rows = await store.run_usage("run-a")
    assert [(r.input_tokens, r.output_tokens, r.first_token_ms, r.duration_ms) for r in rows] == [
        (100, 20, 120, 900), (50, 10, 120, 900)]
    assert rows[0].at == DAY1 and rows[0].person == "alice" and rows[0].model == "gpt-x"


async def test_migration_0005_applies_on_an_existing_database(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0004")
    runs = sa.table("runs", sa.column("run_id"), sa.column("room_id"), sa.column("agent"), sa.column("status"),
                    sa.column("started_at"), sa.column("last_seq"))
    with engine.begin() as connection:
        connection.execute(runs.insert(), [{"run_id": "run-old", "room_id": "general", "agent": "writer",
                                            "status": "success", "started_at": DAY1, "last_seq": 3}])
    engine.dispose()
    store = SqlStore(db_url)
    await store.start()  # migrates to head
    try:
        assert (await store.get_run("run-old")) is not None
        await store.add_usage(call("run-old", "writer", "alice", DAY1, 3, 4, 0.5))
        assert await store.usage_spent("2026-03-01") == Spent(0.5, 7)
    finally:
        await store.close()
