"""LLM agents' runs against a local OpenAI-compatible server that streams reasoning and tool calls.

The endpoint streams, in its first answer, reasoning (``reasoning_content``) and a tool call whose
arguments arrive in fragments; once the request carries the tool's result, a text answer and the
token usage.  The room sees each as AG-UI events; the tool runs through its policy.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import pytest_asyncio

from agentchat_client.protocol import AGUI_EVENT, MessageType
from server.agents.testing import ChatTestClient
from server.auth import issue_token
from server.runtime import ServerRuntime
from server.settings import Settings

SECRET = "test-secret-for-llm-runs-0123456789"
CALLED: list[dict[str, Any]] = []


async def disk_usage(path: str = "/") -> dict[str, Any]:
    """How full a disk is."""
    CALLED.append({"tool": "disk_usage", "path": path})
    return {"path": path, "used": "71%"}


def restart_service(name: str) -> str:
    """Restart a service (changes things: asks first)."""
    CALLED.append({"tool": "restart_service", "name": name})
    return f"{name} restarted"


def chunk(delta: dict[str, Any], **extra: Any) -> bytes:
    return f"data: {json.dumps({'choices': [{'index': 0, 'delta': delta}], **extra})}\n\n".encode()


class ToolModel(BaseHTTPRequestHandler):
    """First answer: reasoning, then a call of the tool the model name says; after it: the answer."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ToolModel.requests.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        tool = "restart_service" if body["model"] == "asks" else "disk_usage"
        args = '{"name": "api"}' if tool == "restart_service" else '{"path": "/var"}'
        results = [m for m in body["messages"] if m.get("role") == "tool"]
        if not results:
            parts = [chunk({"reasoning_content": "The user wants "}), chunk({"reasoning_content": "disk space."}),
                     chunk({"tool_calls": [{"index": 0, "id": "call_9", "type": "function",
                                            "function": {"name": tool, "arguments": ""}}]})]
            parts += [chunk({"tool_calls": [{"index": 0, "function": {"arguments": args[i:i + 6]}}]})
                      for i in range(0, len(args), 6)]
        else:
            parts = [chunk({"content": "The disk "}), chunk({"content": f"says: {results[-1]['content']}"})]
        parts.append(f"data: {json.dumps({'choices': [], 'usage': {'prompt_tokens': 40, 'completion_tokens': 9, 'total_tokens': 49, 'completion_tokens_details': {'reasoning_tokens': 4}}})}\n\n".encode())
        for part in parts:
            self.wfile.write(part)
            self.wfile.flush()
            time.sleep(0.02)
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


@pytest.fixture
def model_url() -> Iterator[str]:
    ToolModel.requests = []
    CALLED.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), ToolModel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@pytest_asyncio.fixture
async def runtime(tmp_path: Path, model_url: str) -> AsyncIterator[ServerRuntime]:
    config = tmp_path / "agents.toml"
    config.write_text(
        '[[agents]]\nname = "ops"\nmodel = "tools"\n'
        'tools = ["tests.test_runs_llm:disk_usage", "tests.test_runs_llm:restart_service"]\n'
        '[[agents]]\nname = "careful"\nmodel = "asks"\n'
        'tools = ["tests.test_runs_llm:disk_usage", "tests.test_runs_llm:restart_service"]\n'
        '[tool_policies.ops]\ndisk_usage = "allow"\n'
        '[tool_policies.careful]\nrestart_service = { policy = "ask", approve = "requester" }\n'
    )
    settings = Settings(port=0, data_dir=tmp_path, jwt_secret=SECRET, response_delay_seconds=0,
                        upload_dir=tmp_path / "uploads", agents_config=config, llm_base_url=model_url,
                        builtin_agents=[])
    rt = ServerRuntime(settings)
    await rt.start()
    try:
        yield rt
    finally:
        await rt.stop()


def events(client: ChatTestClient, run_id: str) -> list[dict[str, Any]]:
    got = client.matching(MessageType.AGENT_EVENT, runId=run_id)
    assert [d["seq"] for d in got] == list(range(1, len(got) + 1))
    for data in got:
        AGUI_EVENT.validate_python(data["event"])
    return [d["event"] for d in got]


@pytest.mark.asyncio
async def test_streamed_tool_calls_reasoning_and_usage_become_run_events(runtime: ServerRuntime) -> None:
    async with ChatTestClient(runtime.url, "alice", issue_token(SECRET, "alice", "developer")) as alice:
        sent = await alice.say("@ops how full is /var?")
        answer = await alice.expect(MessageType.AGENT_RESPONSE, sender="ops", replyTo=sent["id"])
        assert answer["text"] == 'The disk says: {"path": "/var", "used": "71%"}'
        await alice.expect(MessageType.AGENT_EVENT, runId=answer["runId"], where=lambda d: d["event"]["type"] == "RUN_FINISHED")
        evs = events(alice, answer["runId"])
    kinds = [e["type"] for e in evs]
    assert kinds[:4] == ["RUN_STARTED", "REASONING_START", "REASONING_MESSAGE_START", "REASONING_MESSAGE_CONTENT"]
    reasoning = "".join(e["delta"] for e in evs if e["type"] == "REASONING_MESSAGE_CONTENT")
    assert reasoning == "The user wants disk space."
    start = next(e for e in evs if e["type"] == "TOOL_CALL_START")
    assert start["toolCallId"] == "call_9" and start["toolCallName"] == "disk_usage"
    assert "".join(e["delta"] for e in evs if e["type"] == "TOOL_CALL_ARGS") == '{"path": "/var"}'
    assert kinds.index("REASONING_END") < kinds.index("TOOL_CALL_START") < kinds.index("TOOL_CALL_END") \
        < kinds.index("TOOL_CALL_RESULT") < kinds.index("TEXT_MESSAGE_START")
    result = next(e for e in evs if e["type"] == "TOOL_CALL_RESULT")
    assert json.loads(result["content"]) == {"path": "/var", "used": "71%"}
    assert evs[-1]["type"] == "RUN_FINISHED"
    assert evs[-1]["usage"] == [{"model": "tools", "inputTokens": 80, "outputTokens": 18, "totalTokens": 98,
                                 "reasoningTokens": 8}], "two model calls, summed"
    assert CALLED == [{"tool": "disk_usage", "path": "/var"}]

    first, second = ToolModel.requests[-2:]
    assert [t["function"]["name"] for t in first["tools"]] == ["disk_usage", "restart_service"]
    assert first["tools"][0]["function"]["parameters"]["properties"]["path"]["type"] == "string"
    assert first["stream_options"] == {"include_usage": True}
    called = second["messages"][-2]
    assert called["role"] == "assistant" and called["tool_calls"][0]["id"] == "call_9"
    assert second["messages"][-1] == {"role": "tool", "tool_call_id": "call_9",
                                      "content": '{"path": "/var", "used": "71%"}'}


@pytest.mark.asyncio
async def test_a_model_calls_a_tool_that_needs_an_approval(runtime: ServerRuntime) -> None:
    async with ChatTestClient(runtime.url, "alice", issue_token(SECRET, "alice", "developer")) as alice, \
            ChatTestClient(runtime.url, "bob", issue_token(SECRET, "bob", "developer")) as bob:
        sent = await alice.say("@careful restart the api")
        request = await bob.expect(MessageType.APPROVAL_REQUEST, requestedBy="careful")
        assert request["tool"] == "restart_service" and request["args"] == {"name": "api"}
        assert request["to"] == {"user": "alice"} and request["toolCallId"] == "call_9"
        await bob.send(MessageType.APPROVAL_DECISION, {"approvalId": request["approvalId"], "decision": "approve"})
        await bob.expect(MessageType.ERROR, code="FORBIDDEN")
        assert CALLED == []
        await alice.send(MessageType.APPROVAL_DECISION, {"approvalId": request["approvalId"], "decision": "deny"})
        answer = await alice.expect(MessageType.AGENT_RESPONSE, sender="careful", replyTo=sent["id"])
        assert answer["text"] == "The disk says: I did not run restart_service: alice denied it."
        assert CALLED == []
        assert ToolModel.requests[-1]["messages"][-1]["content"] == "I did not run restart_service: alice denied it."
