"""Smoke run of the benchmark (bench/): tiny sizes, seconds, so the benchmark cannot rot.

It asserts only that every message arrived at every client, for each of the three servers;
the figures themselves are for ``python -m bench``.  Plain sync tests: they work whatever
asyncio mode pytest-asyncio is configured with (each server and client runs in its own
process anyway).
"""

from __future__ import annotations

import pytest

from bench.runner import run_scenario
from bench.scenarios import SMOKE
from bench.servers import SERVER_NAMES

pytestmark = pytest.mark.timeout(180)


@pytest.mark.parametrize("server", SERVER_NAMES)
@pytest.mark.parametrize("scenario", SMOKE, ids=[s.name for s in SMOKE])
def test_every_message_arrives(server: str, scenario) -> None:  # noqa: ANN001
    row = run_scenario(scenario, server)
    assert "error" not in row, row.get("error")
    assert row["connected"] == scenario.clients
    assert row["sent"] > 0
    assert row["lost_all_rounds"] == 0 and row["duplicated_all_rounds"] == 0, row
    assert row["delivered"] == row["sent"] * scenario.clients
    assert row["out_of_order_all_rounds"] == 0 and row["early"] == 0


@pytest.mark.timeout(600)
def test_rooms_smoke_every_member_gets_its_rooms_messages() -> None:
    """``python -m bench.rooms`` at toy size: a big room and small rooms, alone and at once."""
    from bench.rooms import Layout, cost_model, run

    rows = run(Layout(big=8, small_rooms=3, small_size=3, big_senders=2, seconds=0.6))
    assert [r["phase"] for r in rows] == ["big", "small", "big+small"]
    for row in rows:
        assert row["messages"] > 0 and row["lost"] == 0, row
    assert rows[2]["deliveries"] == rows[2]["big_messages"] * 8 + rows[2]["small_messages"] * 3
    assert set(cost_model(rows)) >= {"us_per_message", "us_per_delivery"}
