"""/admin → Usage in a real browser: the chart and the table of the usage ledger, per agent or
per person, and the CSV export."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import expect

from server.store import UsageRecord
from tests.e2e.conftest import shot
from server.store.sql import SqlStore


def seed_usage(data_dir: str) -> None:
    """Two model calls in the server's database, as an LLM agent would have recorded them."""

    async def write() -> None:
        store = SqlStore(f"sqlite:///{(Path(data_dir) / 'agentchat.db').resolve()}")
        await store.start()
        try:
            now = datetime.now(UTC)
            await store.add_usage(UsageRecord("run-e2e-1", "e2e-writer", "e2e-alice", "general", "gpt-x", 1000, 234,
                                              cost_usd=0.0021, duration_ms=800, at=now))
            await store.add_usage(UsageRecord("run-e2e-2", "e2e-coder", "e2e-bob", "general", "gpt-y", 500, 100,
                                              cost_usd=0.5, duration_ms=600, at=now))
        finally:
            await store.close()

    worker = threading.Thread(target=lambda: asyncio.run(write()))  # Playwright's loop owns this thread
    worker.start()
    worker.join(60)


def test_admin_sees_usage_as_a_chart_and_a_table_and_exports_csv(stack, admin) -> None:
    seed_usage(stack.env["AGENTCHAT_DATA_DIR"])
    page = admin.page
    page.goto("/admin")
    table = page.locator(".usage-table")
    expect(table).to_contain_text("e2e-writer")
    expect(table.locator("tr", has_text="e2e-writer")).to_contain_text("1,234")
    expect(table.locator("tr", has_text="e2e-writer")).to_contain_text("$0.0021")
    expect(table.locator("tr", has_text="e2e-coder")).to_contain_text("$0.50")
    chart = page.locator(".usage-chart")
    expect(chart.locator(".recharts-bar-rectangle").first).to_be_visible()
    expect(chart.locator(".recharts-legend-wrapper")).to_contain_text("e2e-writer")
    chart.scroll_into_view_if_needed()
    shot(page, "admin-usage")
    page.get_by_role("radio", name="Per person").click()
    expect(chart.locator(".recharts-legend-wrapper")).to_contain_text("e2e-alice")

    with page.expect_download() as download:
        page.get_by_role("button", name="CSV").click()
    saved = Path(download.value.path())
    text = saved.read_text("utf-8")
    assert text.startswith("day,agent,person,calls,") and ",e2e-writer,e2e-alice,1,1000,234," in text
