"""LLM agents with MCP tools: a real MCP server (the official SDK, ``tests/mcp_server_app.py``) over
stdio and over Streamable HTTP (uvicorn on a free port), and a fake OpenAI-compatible endpoint
over real HTTP that streams ``tool_calls``.  The endpoint calls the tool its model name says
(arguments from ``ARGS``) and then answers ``Result: <the tool's result>``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import pytest_asyncio
import uvicorn
from agentchat_client.protocol import MessageType

from server.agents.llm import LLMAgent
from server.agents.testing import ChatTestClient
from server.auth import issue_token
from server.runtime import ServerRuntime
from server.settings import Settings
from tests import mcp_server_app
from tests.test_runs_llm import chunk, events

SECRET = "test-secret-for-mcp-agents-0123456789"
ROOT = Path(__file__).resolve().parent.parent
ARGS: dict[str, dict[str, Any]] = {
    "add": {"a": 2, "b": 3}, "delete_file": {"path": "/tmp/report.txt"}, "slow": {"seconds": 60},
    "whoami": {}, "learn_trick": {},
}


class ScriptedModel(BaseHTTPRequestHandler):
    """Streams a call of the tool named by the model (``"add"``), then answers with its result."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ScriptedModel.requests.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        tool = body["model"]
        offered = [t["function"]["name"] for t in body.get("tools", [])]
        results = [m for m in body["messages"] if m.get("role") == "tool"]
        if results:
            parts = [chunk({"content": "Result: "}), chunk({"content": results[-1]["content"]})]
        elif tool in offered:
            args = json.dumps(ARGS.get(tool, {}))
            parts = [chunk({"tool_calls": [{"index": 0, "id": f"call_{tool}", "type": "function",
                                            "function": {"name": tool, "arguments": ""}}]}),
                     chunk({"tool_calls": [{"index": 0, "function": {"arguments": args}}]})]
        else:
            system = body["messages"][0]["content"].split("\n\n")[-1]
            parts = [chunk({"content": f"No tool {tool}. {system}"})]
        for part in parts:
            self.wfile.write(part)
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


@pytest.fixture
def model_url() -> Iterator[str]:
    ScriptedModel.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedModel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


class McpHttpServer:
    """``tests/mcp_server_app.py`` over Streamable HTTP: uvicorn in a thread, on a free port."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        app = mcp_server_app.build().streamable_http_app()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="on", timeout_graceful_shutdown=1))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self) -> McpHttpServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the MCP test server did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        assert not self.thread.is_alive(), "the MCP test server did not stop"


@pytest.fixture
def mcp_http() -> Iterator[McpHttpServer]:
    mcp_server_app.CALLS.clear()
    server = McpHttpServer().start()
    try:
        yield server
    finally:
        server.stop()


def config_text(mcp_url: str) -> str:
    stdio = json.dumps(sys.executable)
    return f"""
[mcp_servers.local]
command = {stdio}
args = ["-m", "tests.mcp_server_app"]
cwd = {json.dumps(str(ROOT))}
timeout = 20

[mcp_servers.shared]
url = "{mcp_url}"
timeout = 2

[mcp_servers.remote]
url = "{mcp_url}"
per_user = true
description = "The test server, with your own token"

[mcp_servers.remote_slow]
url = "{mcp_url}"
per_user = true
timeout = 2

[mcp_servers.gone]
command = "/nonexistent/mcp-server"
timeout = 5

[[agents]]
name = "calc"
model = "add"
mcp_servers = ["local", "gone"]

[[agents]]
name = "cleaner"
model = "delete_file"
mcp_servers = ["shared"]

[[agents]]
name = "learner"
model = "learn_trick"
mcp_servers = ["shared"]

[[agents]]
name = "me"
model = "whoami"
mcp_servers = ["remote"]

[[agents]]
name = "sloth"
model = "slow"
mcp_servers = ["shared"]

[[agents]]
name = "sloth2"
model = "slow"
mcp_servers = ["remote_slow"]

[[agents]]
name = "adder"
model = "add"
mcp_servers = ["shared"]

[tool_policies.learner]
learn_trick = "allow"
"""


@pytest_asyncio.fixture
async def runtime(tmp_path: Path, model_url: str, mcp_http: McpHttpServer) -> AsyncIterator[ServerRuntime]:
    config = tmp_path / "agents.toml"
    config.write_text(config_text(mcp_http.url))
    settings = Settings(port=0, data_dir=tmp_path, jwt_secret=SECRET, response_delay_seconds=0,
                        upload_dir=tmp_path / "uploads", agents_config=config, llm_base_url=model_url,
                        builtin_agents=[])
    rt = ServerRuntime(settings)
    await rt.start()
    try:
        yield rt
    finally:
        await rt.stop()


def token(user: str) -> str:
    return issue_token(SECRET, user, "developer")


async def answer_to(client: ChatTestClient, text: str, agent: str) -> dict[str, Any]:
    sent = await client.say(text)
    answer = await client.expect(MessageType.AGENT_RESPONSE, sender=agent, replyTo=sent["id"], timeout=60)
    await client.expect(MessageType.AGENT_EVENT, runId=answer["runId"], timeout=30,
                        where=lambda d: d["event"]["type"] in ("RUN_FINISHED", "RUN_ERROR"))
    return answer


def tool_steps(client: ChatTestClient, run_id: str) -> dict[str, Any]:
    evs = events(client, run_id)
    start = next(e for e in evs if e["type"] == "TOOL_CALL_START")
    args = "".join(e["delta"] for e in evs if e["type"] == "TOOL_CALL_ARGS")
    result = next(e for e in evs if e["type"] == "TOOL_CALL_RESULT")
    return {"name": start["toolCallName"], "args": json.loads(args), "result": result["content"],
            "kinds": [e["type"] for e in evs]}


@pytest.mark.asyncio
async def test_a_mention_calls_the_stdio_servers_tool_and_answers_with_its_result(runtime: ServerRuntime) -> None:
    async with ChatTestClient(runtime.url, "alice", token("alice")) as alice:
        answer = await answer_to(alice, "@calc what is 2 + 3?", "calc")
        assert answer["text"] == "Result: 2 + 3 = 5"
        steps = tool_steps(alice, answer["runId"])
    assert steps["name"] == "add" and steps["args"] == {"a": 2, "b": 3} and steps["result"] == "2 + 3 = 5"
    assert steps["kinds"].index("TOOL_CALL_START") < steps["kinds"].index("TOOL_CALL_END") \
        < steps["kinds"].index("TOOL_CALL_RESULT")
    offered = {t["function"]["name"]: t["function"] for t in ScriptedModel.requests[0]["tools"]}
    assert {"add", "whoami", "delete_file", "slow"} <= set(offered)
    assert offered["add"]["parameters"]["required"] == ["a", "b"]
    assert offered["add"]["description"] == "Add two whole numbers."


@pytest.mark.asyncio
async def test_a_destructive_tool_waits_for_an_approval_by_default(runtime: ServerRuntime) -> None:
    async with ChatTestClient(runtime.url, "alice", token("alice")) as alice:
        sent = await alice.say("@cleaner delete the report")
        request = await alice.expect(MessageType.APPROVAL_REQUEST, requestedBy="cleaner", timeout=60)
        assert request["tool"] == "delete_file" and request["args"] == {"path": "/tmp/report.txt"}
        assert request["to"] == {"role": "developer", "quorum": 1}, "no policy in the config: destructiveHint asks"
        assert not alice.matching(MessageType.AGENT_RESPONSE, sender="cleaner")
        await alice.send(MessageType.APPROVAL_DECISION, {"approvalId": request["approvalId"], "decision": "approve"})
        answer = await alice.expect(MessageType.AGENT_RESPONSE, sender="cleaner", replyTo=sent["id"], timeout=60)
        assert answer["text"] == "Result: deleted /tmp/report.txt"


def test_a_destructive_tool_defaults_to_ask_without_a_policy() -> None:
    from server.agents.mcp_sessions import McpLink, _as_tool
    from server.agents.mcp_tools import McpToolInfo
    from server.core.mcp_servers import McpServerSpec

    link = McpLink(McpServerSpec("x", url="http://127.0.0.1:1/mcp"))
    risky = _as_tool(link, McpToolInfo("x", "drop", destructive=True, exposed="drop"), "alice")
    safe = _as_tool(link, McpToolInfo("x", "read", exposed="read"), "alice")
    assert risky.default_policy().action == "ask" and safe.default_policy().action == "allow"


@pytest.mark.asyncio
async def test_each_persons_call_to_a_per_user_server_carries_their_own_token(
        runtime: ServerRuntime, mcp_http: McpHttpServer) -> None:
    base = f"http://127.0.0.1:{runtime.port}"
    async with httpx.AsyncClient(base_url=base, timeout=20) as http:
        for user in ("alice", "bob"):
            saved = await http.put("/api/me/mcp-tokens/remote", json={"token": f"{user}-secret-token-0001"},
                                   headers={"Authorization": f"Bearer {token(user)}"})
            assert saved.status_code == 200, saved.text
            assert saved.json()["hint"] == "••••0001" and f"{user}-secret" not in saved.text
    async with ChatTestClient(runtime.url, "alice", token("alice")) as alice, \
            ChatTestClient(runtime.url, "bob", token("bob")) as bob:
        first = await answer_to(alice, "@me who am I?", "me")
        second = await answer_to(bob, "@me and me?", "me")
    assert first["text"] == "Result: authorization=Bearer alice-secret-token-0001 user=alice"
    assert second["text"] == "Result: authorization=Bearer bob-secret-token-0001 user=bob"
    whoami = [c for c in mcp_server_app.CALLS if c["tool"] == "whoami"]
    assert [(c["authorization"], c["user"]) for c in whoami] == [
        ("Bearer alice-secret-token-0001", "alice"), ("Bearer bob-secret-token-0001", "bob")]


@pytest.mark.asyncio
async def test_a_person_without_a_token_is_told_where_to_add_one(runtime: ServerRuntime) -> None:
    async with ChatTestClient(runtime.url, "carol", token("carol")) as carol:
        answer = await answer_to(carol, "@me who am I?", "me")
        steps = tool_steps(carol, answer["runId"])
    assert steps["result"].startswith("Error: ")
    assert "carol has not added a token for the MCP server 'remote'" in answer["text"]
    assert "Settings page (/settings)" in answer["text"]
    assert not [c for c in mcp_server_app.CALLS if c["tool"] == "whoami"]


@pytest.mark.asyncio
async def test_a_slow_server_gives_a_failed_step_and_the_agent_still_answers(runtime: ServerRuntime) -> None:
    async with ChatTestClient(runtime.url, "alice", token("alice")) as alice:
        answer = await answer_to(alice, "@sloth take your time", "sloth")
        steps = tool_steps(alice, answer["runId"])
    assert steps["result"] == "Error: McpCallError: The MCP server 'shared' did not answer slow within 2 s."
    assert answer["text"] == "Result: " + steps["result"]


@pytest.mark.asyncio
async def test_a_slow_per_user_server_gives_a_failed_step_too(runtime: ServerRuntime) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{runtime.port}", timeout=20) as http:
        saved = await http.put("/api/me/mcp-tokens/remote_slow", json={"token": "alice-slow-token"},
                               headers={"Authorization": f"Bearer {token('alice')}"})
        assert saved.status_code == 200
    async with ChatTestClient(runtime.url, "alice", token("alice")) as alice:
        answer = await answer_to(alice, "@sloth2 take your time", "sloth2")
        steps = tool_steps(alice, answer["runId"])
        assert steps["result"] == "Error: McpCallError: The MCP server 'remote_slow' did not answer slow within 2 s."
        again = await answer_to(alice, "@sloth2 once more", "sloth2")
        assert again["text"] == answer["text"]
    slow_calls = [c for c in mcp_server_app.CALLS if c["tool"] == "slow"]
    assert [c["authorization"] for c in slow_calls] == ["Bearer alice-slow-token"] * 2


@pytest.mark.asyncio
async def test_a_dead_server_gives_a_failed_step_and_the_agent_still_answers(
        runtime: ServerRuntime, mcp_http: McpHttpServer) -> None:
    mcp_http.stop()
    async with ChatTestClient(runtime.url, "alice", token("alice")) as alice:
        answer = await answer_to(alice, "@adder 2 + 3?", "adder")
        steps = tool_steps(alice, answer["runId"])
    assert steps["result"].startswith("Error: McpCallError: The MCP server 'shared' ")
    assert answer["text"].startswith("Result: Error: McpCallError:")


@pytest.mark.asyncio
async def test_a_server_that_cannot_start_leaves_the_agent_working(runtime: ServerRuntime) -> None:
    agent = runtime.agents.agents["calc"]
    assert isinstance(agent, LLMAgent) and agent.mcp is not None
    gone = next(link for link in agent.mcp.links if link.name == "gone")
    assert gone.error is not None and not gone.tools


@pytest.mark.asyncio
async def test_the_tools_are_listed_again_when_the_server_says_they_changed(runtime: ServerRuntime) -> None:
    agent = runtime.agents.agents["learner"]
    assert isinstance(agent, LLMAgent) and agent.mcp is not None
    link = agent.mcp.links[0]
    assert "trick" not in [t.name for t in link.tools]
    async with ChatTestClient(runtime.url, "alice", token("alice")) as alice:
        answer = await answer_to(alice, "@learner learn something", "learner")
    assert answer["text"] == "Result: learned trick"
    for _ in range(600):
        if "trick" in [t.name for t in link.tools]:
            break
        await asyncio.sleep(0.05)
    assert "trick" in [t.name for t in link.tools] and link.refreshes >= 1


@pytest.mark.asyncio
async def test_the_settings_api_never_returns_a_stored_token(runtime: ServerRuntime, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{runtime.port}"
    secret = "ghp_abcdefghijklmnopqrstuvwxyz0123"
    alice = {"Authorization": f"Bearer {token('alice')}"}
    async with httpx.AsyncClient(base_url=base, timeout=20) as http:
        listed = (await http.get("/api/me/mcp-tokens", headers=alice)).json()
        assert [server["name"] for server in listed["servers"]] == ["remote", "remote_slow"], "the per-user ones"
        assert listed["servers"][0] == {"name": "remote", "description": "The test server, with your own token",
                                        "url": listed["servers"][0]["url"], "hasToken": False, "hint": None,
                                        "updatedAt": None}
        saved = await http.put("/api/me/mcp-tokens/remote", json={"token": secret}, headers=alice)
        assert saved.status_code == 200 and secret not in saved.text and saved.json()["hint"] == "••••0123"
        listed = await http.get("/api/me/mcp-tokens", headers=alice)
        assert secret not in listed.text and listed.json()["servers"][0]["hasToken"] is True
        bob = await http.get("/api/me/mcp-tokens", headers={"Authorization": f"Bearer {token('bob')}"})
        assert bob.json()["servers"][0]["hasToken"] is False
        assert (await http.get("/api/me/mcp-tokens")).status_code == 401
        assert (await http.put("/api/me/mcp-tokens/local", json={"token": "x"}, headers=alice)).status_code == 404
        assert (await http.put("/api/me/mcp-tokens/remote", json={}, headers=alice)).status_code == 400
        agent = {"Authorization": f"Bearer {issue_token(SECRET, 'bot', 'agent')}"}
        assert (await http.get("/api/me/mcp-tokens", headers=agent)).status_code == 403
        stored = (tmp_path / "mcp_tokens.json").read_text()
        assert secret not in stored and "ghp_" not in stored
        assert (tmp_path / "mcp_tokens.key").stat().st_mode & 0o777 == 0o600
        cleared = await http.delete("/api/me/mcp-tokens/remote", headers=alice)
        assert cleared.json()["hasToken"] is False
        assert (await http.get("/api/me/mcp-tokens", headers=alice)).json()["servers"][0]["hasToken"] is False


@pytest_asyncio.fixture
async def legacy_runtime(tmp_path: Path, model_url: str,
                         monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ServerRuntime]:
    """An agent whose MCP session uses the initialize handshake, as with servers before 2026-07-28."""
    from server.agents import mcp_sessions

    monkeypatch.setattr(mcp_sessions, "CONNECT_MODE", "legacy")
    config = tmp_path / "agents.toml"
    config.write_text(f'[mcp_servers.local]\ncommand = {json.dumps(sys.executable)}\n'
                      f'args = ["-m", "tests.mcp_server_app"]\ncwd = {json.dumps(str(ROOT))}\n'
                      '[[agents]]\nname = "learner"\nmodel = "learn_trick"\nmcp_servers = ["local"]\n')
    settings = Settings(port=0, data_dir=tmp_path, jwt_secret=SECRET, response_delay_seconds=0,
                        upload_dir=tmp_path / "uploads", agents_config=config, llm_base_url=model_url,
                        builtin_agents=[])
    rt = ServerRuntime(settings)
    await rt.start()
    try:
        yield rt
    finally:
        await rt.stop()


@pytest.mark.asyncio
async def test_an_older_server_tells_of_new_tools_with_a_plain_notification(legacy_runtime: ServerRuntime) -> None:
    agent = legacy_runtime.agents.agents["learner"]
    assert isinstance(agent, LLMAgent) and agent.mcp is not None
    link = agent.mcp.links[0]
    assert link._client is not None and not link._client.protocol_version.startswith("2026")
    async with ChatTestClient(legacy_runtime.url, "alice", token("alice")) as alice:
        answer = await answer_to(alice, "@learner learn something", "learner")
    assert answer["text"] == "Result: learned trick"
    for _ in range(600):
        if "trick" in [t.name for t in link.tools]:
            break
        await asyncio.sleep(0.05)
    assert "trick" in [t.name for t in link.tools] and link.refreshes == 1
