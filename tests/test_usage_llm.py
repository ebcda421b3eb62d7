"""Usage, cost and budgets end to end: a real server (SQLite and PostgreSQL) and a fake
OpenAI-compatible endpoint over real HTTP that streams an answer and its ``usage``, and counts
every request it gets.

Each call uses 1000 input tokens (400 of them cached) and 200 output tokens; at the configured
price of ``gpt-x`` (input $1, cached input $0.50, output $4 per million) that is $0.0016.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import pytest_asyncio

from agentchat_client.protocol import ErrorCode, MessageType
from server.agents.testing import ChatTestClient
from server.auth import issue_token
from server.core.budgets import seconds_until_reset
from server.runtime import ServerRuntime
from server.settings import Settings

SECRET = "test-secret-for-usage-0123456789abcdef"
USAGE = {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200,
         "prompt_tokens_details": {"cached_tokens": 400}, "completion_tokens_details": {"reasoning_tokens": 50}}
CALL_COST = (600 * 1.0 + 400 * 0.5 + 200 * 4.0) / 1_000_000
CONFIG = """
[[agents]]
name = "writer"
model = "gpt-x"

[[agents]]
name = "cheap"
model = "gpt-x"

[prices."gpt-x"]
input_per_million = 1.0
output_per_million = 4.0
cached_input_per_million = 0.5

[budgets]
per_person_tokens_per_day = 3000

[budgets.people."bob"]
usd_per_day = 100

[budgets.agents."cheap"]
usd_per_day = 0.003
"""


class CountingModel(BaseHTTPRequestHandler):
    """Streams "Hello there." and the usage; remembers every request."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        CountingModel.requests.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in ("Hello ", "there."):
            self.wfile.write(f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': piece}}]})}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(f"data: {json.dumps({'choices': [], 'usage': USAGE})}\n\ndata: [DONE]\n\n".encode())
        self.wfile.flush()


@pytest.fixture
def model_url() -> Iterator[str]:
    CountingModel.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), CountingModel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@pytest_asyncio.fixture
async def runtime(tmp_path: Path, model_url: str, db_url: str) -> AsyncIterator[ServerRuntime]:
    config = tmp_path / "agents.toml"
    config.write_text(CONFIG)
    settings = Settings(port=0, data_dir=tmp_path, jwt_secret=SECRET, response_delay_seconds=0,
                        upload_dir=tmp_path / "uploads", agents_config=config, llm_base_url=model_url,
                        builtin_agents=[], database_url=db_url)
    rt = ServerRuntime(settings)
    await rt.start()
    try:
        yield rt
    finally:
        await rt.stop()


def client(runtime: ServerRuntime, name: str) -> ChatTestClient:
    return ChatTestClient(runtime.url, name, issue_token(SECRET, name, "developer"))


async def ask(person: ChatTestClient, agent: str) -> dict[str, Any]:
    sent = await person.say(f"@{agent} write something")
    return await person.expect(MessageType.AGENT_RESPONSE, sender=agent, replyTo=sent["id"])


async def test_the_answer_carries_usage_and_cost_and_the_ledger_has_the_call(runtime: ServerRuntime) -> None:
    async with client(runtime, "alice") as alice:
        answer = await ask(alice, "writer")
    assert answer["text"] == "Hello there."
    assert answer["usage"] == {"inputTokens": 1000, "outputTokens": 200, "totalTokens": 1200, "model": "gpt-x",
                               "costUsd": pytest.approx(CALL_COST), "cachedInputTokens": 400, "reasoningTokens": 50}
    assert CountingModel.requests[0]["stream_options"] == {"include_usage": True}

    store = runtime.manager.store
    [row] = await store.run_usage(answer["runId"])
    assert (row.agent, row.person, row.room_id, row.model) == ("writer", "alice", "general", "gpt-x")
    assert (row.input_tokens, row.output_tokens, row.cached_input_tokens, row.reasoning_tokens) == (1000, 200, 400, 50)
    assert row.cost_usd == pytest.approx(CALL_COST)
    assert row.first_token_ms is not None and row.duration_ms >= row.first_token_ms >= 0
    assert row.day == datetime.now(UTC).date().isoformat()
    stored = await store.get_message(answer["id"])  # history shows it too
    assert stored is not None and stored.extra["usage"]["totalTokens"] == 1200


async def test_budgets_warn_at_80_percent_once_and_then_refuse_before_calling_the_model(runtime: ServerRuntime) -> None:
    async with client(runtime, "alice") as alice, client(runtime, "bob") as bob:
        for _ in range(3):  # 1200, 2400 (80 %: the notice), 3600 tokens of alice's 3000
            await ask(alice, "writer")
        notices = alice.matching(MessageType.AGENT_RESPONSE, sender="writer",
                                 where=lambda d: d["text"].startswith("Heads-up"))
        assert len(notices) == 1 and "80 % of alice's daily budget (3,000 tokens)" in notices[0]["text"]
        assert len(CountingModel.requests) == 3

        sent = await alice.say("@writer one more")
        error = await alice.expect(MessageType.ERROR, code=ErrorCode.BUDGET_EXCEEDED)
        expected = seconds_until_reset(datetime.now(UTC))
        assert 0 < error["retryAfter"] <= 86_400 and abs(error["retryAfter"] - expected) < 120
        assert "alice's daily budget" in error["message"] and "00:00 UTC" in error["message"]
        notice = await bob.expect(MessageType.AGENT_RESPONSE, sender="writer", replyTo=sent["id"])
        assert "is spent" in notice["text"] and "usage" not in notice
        assert len(CountingModel.requests) == 3  # the model was never called
        assert not bob.matching(MessageType.ERROR)  # only the asker gets the error

        # Bob has his own budget; the agent "cheap" has one too ($0.003 a day, $0.0016 a call).
        await ask(bob, "writer")
        await ask(bob, "cheap")
        await ask(bob, "cheap")  # $0.0032: over 80 % and spent at once
        cheap_notices = bob.matching(MessageType.AGENT_RESPONSE, sender="cheap",
                                     where=lambda d: d["text"].startswith("Heads-up"))
        assert len(cheap_notices) == 1 and "@cheap's daily budget ($0.003)" in cheap_notices[0]["text"]
        assert len(CountingModel.requests) == 6
        await bob.say("@cheap again")
        error = await bob.expect(MessageType.ERROR, code=ErrorCode.BUDGET_EXCEEDED)
        assert "@cheap's daily budget" in error["message"]
        assert len(CountingModel.requests) == 6

    totals = await runtime.manager.store.usage_totals("2000-01-01", "2999-12-31")
    assert {(t.agent, t.person, t.calls) for t in totals} == {("writer", "alice", 3), ("writer", "bob", 1),
                                                             ("cheap", "bob", 2)}


async def test_admins_read_usage_per_agent_person_and_day_as_json_and_csv(runtime: ServerRuntime) -> None:
    async with client(runtime, "alice") as alice, client(runtime, "bob") as bob:
        await ask(alice, "writer")
        await ask(alice, "writer")
        await ask(bob, "cheap")
        async with ChatTestClient(runtime.url, "root", issue_token(SECRET, "root", "admin")):
            pass  # the admin's account exists now
    today = datetime.now(UTC).date().isoformat()
    url = f"http://127.0.0.1:{runtime.port}/api/admin/usage"
    admin = {"Authorization": f"Bearer {issue_token(SECRET, 'root', 'admin')}"}
    async with httpx.AsyncClient(timeout=30) as http:
        for path in ("", ".csv"):
            refused = await http.get(url + path, headers={"Authorization": f"Bearer {issue_token(SECRET, 'alice', 'developer')}"})
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
            assert (await http.get(url + path)).status_code == 401

        report = (await http.get(url, headers=admin)).json()
        assert report["to"] == today and len(report["rows"]) == 2
        assert {(r["day"], r["agent"], r["person"], r["calls"], r["totalTokens"]) for r in report["rows"]} == {
            (today, "writer", "alice", 2, 2400), (today, "cheap", "bob", 1, 1200)}
        assert [(a["agent"], a["costUsd"]) for a in report["agents"]] == [
            ("cheap", pytest.approx(CALL_COST)), ("writer", pytest.approx(2 * CALL_COST))]
        assert [(p["person"], p["totalTokens"]) for p in report["people"]] == [("alice", 2400), ("bob", 1200)]

        empty = await http.get(url, params={"from": "2001-01-01", "to": "2001-01-02"}, headers=admin)
        assert empty.json()["rows"] == []
        for bad in ({"from": "yesterday"}, {"from": "2026-03-05", "to": "2026-03-01"}, {"from": "2000-01-01"}):
            wrong = await http.get(url, params=bad, headers=admin)
            assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_input"

        exported = await http.get(url + ".csv", headers=admin)
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
        assert "attachment" in exported.headers["content-disposition"]
    lines = exported.text.splitlines()
    assert lines[0] == ("day,agent,person,calls,input_tokens,output_tokens,cached_input_tokens,reasoning_tokens,"
                        "total_tokens,cost_usd")
    assert f"{today},writer,alice,2,2000,400,800,100,2400,{2 * CALL_COST:.8f}" in lines
