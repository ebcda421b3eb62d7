"""LLM agents against a local OpenAI-compatible server that streams its answers (SSE)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import pytest_asyncio

from agentchat_client.protocol import AgentState, MessageType
from server.runtime import ServerRuntime
from tests.support import chat_client, running_server

PIECES = ["Here ", "is a ", "streamed ", "answer."]


class FakeOpenAI(BaseHTTPRequestHandler):
    """``POST /v1/chat/completions``: streams PIECES, or 404 for the model ``missing``."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body["_auth"] = self.headers.get("Authorization")
        body["_path"] = self.path
        FakeOpenAI.requests.append(body)
        if body["model"] == "missing":
            payload = json.dumps({"error": {"message": "model 'missing' not found"}}).encode()
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        pause = 0.5 if body["model"] == "slow" else 0.08
        try:
            for piece in PIECES:
                chunk = {"id": "c1", "object": "chat.completion.chunk",
                         "choices": [{"index": 0, "delta": {"content": piece}}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(pause)
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the agent was stopped and hung up


@pytest.fixture
def fake_llm() -> Iterator[str]:
    FakeOpenAI.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest_asyncio.fixture
async def runtime(tmp_path: Path, fake_llm: str) -> AsyncIterator[ServerRuntime]:
    config = tmp_path / "agents.json"
    config.write_text(json.dumps({"agents": [
        {"name": "writer", "model": "fake-1", "system_prompt": "You write crisp prose.", "description": "Drafts text"},
        {"name": "ghost", "model": "missing"},
        {"name": "dawdler", "model": "slow"},
        {"name": "offline", "model": "fake-1", "base_url": f"http://127.0.0.1:{closed_port()}/v1"},
    ]}))
    async with running_server(tmp_path, agents_config=config, llm_base_url=fake_llm, llm_api_key="sk-test",
                              builtin_agents=["helper"]) as rt:
        yield rt


client = chat_client


@pytest.mark.asyncio
async def test_answer_streams_in_pieces_and_ends_complete(runtime: ServerRuntime) -> None:
    async with client(runtime, "alice") as alice, client(runtime, "bob") as bob:
        await bob.say("We ship on Friday.")
        sent = await alice.say("@writer draft the release note")
        final = await bob.expect(MessageType.AGENT_RESPONSE, sender="writer", replyTo=sent["id"])
        assert final["text"] == "".join(PIECES)
        assert final["agentStatus"] == AgentState.COMPLETED
        deltas = bob.matching(MessageType.AGENT_STREAM, streamId=final["streamId"])
        assert len(deltas) >= 2, deltas  # it arrived in pieces...
        assert "".join(d["delta"] for d in deltas) == final["text"]  # ...that add up to the answer
        assert all(d["sender"] == "writer" and d["replyTo"] == sent["id"] for d in deltas)
        first_delta = next(i for i, f in enumerate(bob.frames) if f["type"] == MessageType.AGENT_STREAM)
        final_at = next(i for i, f in enumerate(bob.frames)
                        if f["type"] == MessageType.AGENT_RESPONSE and f["data"]["sender"] == "writer")
        assert first_delta < final_at
        await bob.expect(MessageType.STATUS_UPDATE, userId="writer", status=AgentState.COMPLETED)

    request = FakeOpenAI.requests[-1]
    assert request["model"] == "fake-1" and request["stream"] is True
    assert request["_path"] == "/v1/chat/completions" and request["_auth"] == "Bearer sk-test"
    messages = request["messages"]
    assert messages[0]["role"] == "system" and "You write crisp prose." in messages[0]["content"]
    assert {"role": "user", "content": "bob: We ship on Friday."} in messages  # the conversation as context
    assert messages[-1] == {"role": "user", "content": "alice: @writer draft the release note"}


@pytest.mark.asyncio
async def test_endpoint_errors_are_reported_in_chat_and_as_stuck(runtime: ServerRuntime) -> None:
    async with client(runtime, "alice") as alice:
        sent = await alice.say("@ghost hello")
        said = await alice.expect(MessageType.AGENT_RESPONSE, sender="ghost", replyTo=sent["id"])
        assert "HTTP 404" in said["text"] and "model 'missing' not found" in said["text"]
        stuck = await alice.expect(MessageType.STATUS_UPDATE, userId="ghost", status=AgentState.STUCK)
        assert "HTTP 404" in stuck["currentTask"]

        sent = await alice.say("@offline hello")
        said = await alice.expect(MessageType.AGENT_RESPONSE, sender="offline", replyTo=sent["id"])
        assert "Cannot reach the model endpoint" in said["text"]
        await alice.expect(MessageType.STATUS_UPDATE, userId="offline", status=AgentState.STUCK)

        sent = await alice.say("@writer try again")  # the others still work
        await alice.expect(MessageType.AGENT_RESPONSE, sender="writer", replyTo=sent["id"])


@pytest.mark.asyncio
async def test_stopping_a_streaming_agent_closes_its_partial_answer(runtime: ServerRuntime) -> None:
    async with client(runtime, "alice") as alice:
        sent = await alice.say("@dawdler take your time")
        first = await alice.expect(MessageType.AGENT_STREAM, sender="dawdler", replyTo=sent["id"])
        await alice.send(MessageType.STOP_AGENT, {"agent": "dawdler"})
        await alice.expect(MessageType.STATUS_UPDATE, userId="dawdler", status=AgentState.IDLE,
                           currentTask="Stopped by alice")
        closed = await alice.expect(MessageType.AGENT_RESPONSE, sender="dawdler", streamId=first["streamId"])
        assert closed["text"].startswith(PIECES[0]) and closed["text"].endswith("…")
        assert closed["text"] != "".join(PIECES)
        assert closed["agentStatus"] == AgentState.IDLE
