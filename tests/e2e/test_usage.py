"""Usage in a real browser: the quiet line under an LLM agent's answer (a fake OpenAI-compatible
endpoint streams the usage), and /admin → Usage: the chart and the table of the usage ledger, per
agent or per person, and the CSV export."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from playwright.sync_api import expect

from server.store import UsageRecord
from tests.e2e.conftest import shot
from server.store.sql import SqlStore


class Model(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        usage = {"prompt_tokens": 1000, "completion_tokens": 234, "total_tokens": 1234}
        self.wfile.write(f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': 'Counted.'}}]})}\n\n"
                         f"data: {json.dumps({'choices': [], 'usage': usage})}\n\ndata: [DONE]\n\n".encode())
        self.wfile.flush()


@pytest.fixture
def llm_agent(stack) -> Iterator[str]:
    """The server restarted with an LLM agent on a fake endpoint; restarted without it afterwards."""
    model = ThreadingHTTPServer(("127.0.0.1", 0), Model)
    threading.Thread(target=model.serve_forever, daemon=True).start()
    config = stack.workdir / "usage-agents.toml"
    config.write_text('[[agents]]\nname = "e2e-llm"\nmodel = "gpt-e2e"\n'
                      '[prices."gpt-e2e"]\ninput_per_million = 1.0\noutput_per_million = 4.0\n')
    saved = {k: stack.env.get(k) for k in ("AGENTCHAT_AGENTS_CONFIG", "AGENTCHAT_LLM_BASE_URL")}
    stack.env.update({"AGENTCHAT_AGENTS_CONFIG": str(config),
                      "AGENTCHAT_LLM_BASE_URL": f"http://127.0.0.1:{model.server_address[1]}/v1"})
    stack.restart_server(pause=0.3)
    try:
        yield "e2e-llm"
    finally:
        for key, value in saved.items():
            if value is None:
                stack.env.pop(key, None)
            else:
                stack.env[key] = value
        stack.restart_server(pause=0.3)
        model.shutdown()
        model.server_close()


def test_an_answer_shows_its_tokens_cost_and_model_quietly(llm_agent, people) -> None:
    ann = people("ann")
    ann.send(f"@{llm_agent} count my words")
    answer = ann.page.locator(f'.message[data-sender="{llm_agent}"]', has_text="Counted.").last
    expect(answer.locator(".answer-usage")).to_have_text("1,234 tokens · $0.001936 · gpt-e2e")


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

    page.get_by_role("radio", name="7 d").click()
    expect(page.get_by_text("over the last 7 days")).to_be_visible()
    expect(table).to_contain_text("e2e-writer")

    with page.expect_download() as download:
        page.get_by_role("button", name="CSV").click()
    saved = Path(download.value.path())
    text = saved.read_text("utf-8")
    assert text.startswith("day,agent,person,calls,") and ",e2e-writer,e2e-alice,1,1000,234," in text
