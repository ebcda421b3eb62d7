"""No input from any client makes the server fail: fuzzed frames of every type over real sockets.

Hypothesis draws frames of every client type, mostly well-formed enough to get past decoding
(the deep paths: storage, questions, search, history) and often not (wrong types, huge numbers,
NUL characters, unknown fields, broken JSON).  Three connections send them — a developer, a
viewer and an agent — against a real server on SQLite and on PostgreSQL.  Not one answer may be
INTERNAL_ERROR, the server log must hold no traceback, and the server must still answer after.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentchat_client.protocol import MessageType
from tests.support import Client, ServerProcess, connect_as

import os

FRAMES_PER_DATABASE = int(os.environ.get("AGENTCHAT_FUZZ_FRAMES", "30000"))
FRAMES_PER_EXAMPLE = 40  # Hypothesis draws from a bounded buffer: many small examples, not a few huge ones
EXAMPLES = FRAMES_PER_DATABASE // FRAMES_PER_EXAMPLE

weird_ints = st.sampled_from([0, 1, 2, -1, 2**31, 2**53 - 1, 2**53, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63) - 1])
weird_text = st.sampled_from(
    ["", " ", "\x00", "a\x00b", "@helper", "@tasks add [x](https://evil.example)", "/help", "/task list",
     "💥" * 100, "x" * 9000, "<script>alert(1)</script>", "\ud7ff", "Ω≈ç√", "\n\n", "null", "{}"]
)
anything = st.recursive(
    st.none() | st.booleans() | weird_ints | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | weird_text | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
ids = st.integers(min_value=1, max_value=60) | weird_ints
names = st.sampled_from(["alice", "fuzz_dev", "fuzz_viewer", "fuzz_agent", "helper", "tasks", "nobody", ""]) | st.text(max_size=70)

run_ids = st.sampled_from(["run-a", "run-b", "run-c", "bad id", ""]) | st.text(max_size=70)
call_ids = st.sampled_from(["t1", "t2", ""]) | st.text(max_size=10)
agui_types = st.sampled_from([
    "RUN_STARTED", "RUN_FINISHED", "RUN_ERROR", "STEP_STARTED", "STEP_FINISHED", "TEXT_MESSAGE_START",
    "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "TEXT_MESSAGE_CHUNK", "TOOL_CALL_START", "TOOL_CALL_ARGS",
    "TOOL_CALL_END", "TOOL_CALL_RESULT", "REASONING_START", "REASONING_MESSAGE_START", "REASONING_MESSAGE_CONTENT",
    "REASONING_MESSAGE_END", "REASONING_END", "CUSTOM", "STATE_DELTA", "THINKING_START", "nope"])
agui_events = st.fixed_dictionaries({"type": agui_types}, optional={
    "runId": run_ids, "threadId": st.text(max_size=10), "stepName": st.sampled_from(["s", "x"]),
    "messageId": st.sampled_from(["m1", "m2"]), "toolCallId": call_ids, "toolCallName": names,
    "delta": st.text(max_size=20) | anything, "content": st.text(max_size=20), "message": st.text(max_size=20),
    "name": st.text(max_size=5), "value": anything, "outcome": anything, "timestamp": weird_ints | anything,
})
approvers = st.sampled_from([{"user": "fuzz_dev"}, {"role": "developer"}, {"role": "viewer"},
                             {"users": ["fuzz_dev", "fuzz_viewer"], "quorum": 2}, {"users": [], "quorum": 0}]) | anything

FIELDS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "message": {"id": st.integers() | st.text(max_size=80), "text": st.text(max_size=200) | weird_text,
                "mentions": st.lists(names, max_size=4), "replyTo": ids, "attachments": st.lists(st.text(max_size=40), max_size=3)},
    "agent_response": {"id": st.integers() | st.text(max_size=80), "text": st.text(max_size=200) | weird_text,
                       "replyTo": ids, "agentStatus": st.sampled_from(["idle", "working", "stuck", "completed", "bad"]),
                       "streamId": st.text(max_size=70), "mentions": st.lists(names, max_size=3)},
    "agent_stream": {"streamId": st.text(max_size=70), "delta": st.text(max_size=100) | weird_text, "replyTo": ids},
    "status_update": {"userId": names, "status": st.sampled_from(["idle", "working", "stuck", "completed", "x"]),
                      "currentTask": st.text(max_size=600) | weird_text,
                      "progress": st.floats(allow_nan=False, allow_infinity=False) | weird_ints},
    "history": {"beforeId": ids, "limit": st.integers(min_value=-5, max_value=300)},
    "search": {"query": st.text(max_size=220) | weird_text, "limit": st.integers(min_value=-5, max_value=300)},
    "typing": {"typing": st.booleans() | anything},
    "stop_agent": {"agent": names},
    "agent_question": {"to": names, "text": st.text(max_size=50) | weird_text, "ref": st.text(max_size=70),
                       "questionId": st.text(max_size=70),
                       "choices": st.lists(st.text(max_size=20), max_size=12),
                       "timeoutSeconds": st.floats(min_value=-1, max_value=100000) | weird_ints, "replyTo": ids},
    "question_answer": {"questionId": st.text(max_size=70), "answer": st.text(max_size=20)},
    "agent_event": {"runId": run_ids, "replyTo": ids, "event": agui_events | anything},
    "run_subscribe": {"runId": run_ids, "afterSeq": ids},
    "run_queued": {"runId": run_ids, "replyTo": ids, "position": weird_ints},
    "approval_request": {"runId": run_ids, "toolCallId": call_ids, "tool": names, "args": anything,
                         "reason": st.text(max_size=30) | weird_text, "to": approvers,
                         "expiresInSeconds": st.floats(min_value=-1, max_value=10) | weird_ints},
    "approval_decision": {"approvalId": st.text(max_size=40), "decision": st.sampled_from(["approve", "deny", "x"])},
    "auth": {"userId": names, "token": st.text(max_size=50), "lastMessageId": ids},
    "ping": {},
}


@st.composite
def frame(draw: st.DrawFn) -> str | dict[str, Any]:
    shape = draw(st.integers(0, 19))
    if shape == 0:
        return draw(st.sampled_from(["", "{", "[]", "null", '"x"', "42", '{"type": 1}', '{"type":"message","data":[]}']))
    kind = draw(st.sampled_from(list(FIELDS) + ["error", "pong", "auth_response", "nope"]))
    fields = FIELDS.get(kind, {})
    data: dict[str, Any] = {}
    for name, strategy in fields.items():
        if draw(st.integers(0, 3)):  # mostly present
            data[name] = draw(anything) if draw(st.integers(0, 9)) == 0 else draw(strategy)
    if draw(st.integers(0, 9)) == 0:
        data[draw(st.text(max_size=10))] = draw(anything)
    return {"type": kind, "data": data if draw(st.integers(0, 19)) else draw(anything)}


def _encode(item: str | dict[str, Any]) -> str:
    return item if isinstance(item, str) else json.dumps(item)


@pytest.fixture(params=["sqlite", "postgresql"])
def fuzz_server(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    env = {
        "AGENTCHAT_AGENTS_ENABLED": "true",
        "AGENTCHAT_RESPONSE_DELAY_SECONDS": "0",
        "AGENTCHAT_MAX_MESSAGES_PER_HOUR": "1000000",
        "AGENTCHAT_LOG_LEVEL": "INFO",
    }
    if request.param == "postgresql":
        env["AGENTCHAT_DATABASE_URL"] = request.getfixturevalue("pg_url")
    server = ServerProcess(tmp_path / "fuzz", **env).start()
    yield server
    server.stop()


async def _drain(client: Client, sent: int) -> list[dict[str, Any]]:
    """Send a ping and collect everything up to its pong: the server answered all frames before it."""
    await client.send("ping")
    got = []
    while True:
        frame = await client.next(timeout=60)
        if frame["type"] == "pong":
            return got
        got.append(frame)


@pytest.mark.timeout(1500)  # 30,000 frames; a busy 2-core machine needs minutes
def test_fuzzed_frames_never_give_internal_error(fuzz_server: ServerProcess) -> None:
    answers: list[dict[str, Any]] = []
    sent = {"count": 0}

    async def open_clients() -> list[Client]:
        return [
            await connect_as(fuzz_server.url, "fuzz_dev", "developer"),
            await connect_as(fuzz_server.url, "fuzz_viewer", "viewer"),
            await connect_as(fuzz_server.url, "fuzz_agent", "agent"),
        ]

    loop = asyncio.new_event_loop()
    clients = loop.run_until_complete(open_clients())

    async def send_all(batch: list[str | dict[str, Any]]) -> None:
        for index, item in enumerate(batch):
            client = clients[index % len(clients)]
            await client.send_raw(_encode(item))
            sent["count"] += 1
        for client in clients:
            answers.extend(await _drain(client, sent["count"]))

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(frame(), min_size=FRAMES_PER_EXAMPLE, max_size=FRAMES_PER_EXAMPLE))
    def run(batch: list[str | dict[str, Any]]) -> None:
        loop.run_until_complete(send_all(batch))

    try:
        run()
        for client in clients:
            assert not client.closed.is_set(), "a fuzzed frame closed a client's connection"
    finally:
        async def close_all() -> None:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)

        loop.run_until_complete(close_all())
        loop.close()

    assert sent["count"] >= FRAMES_PER_DATABASE
    internal = [a for a in answers if a["type"] == "error" and a["data"].get("code") == "INTERNAL_ERROR"]
    assert internal == [], internal[:3]
    codes = {a["data"]["code"] for a in answers if a["type"] == "error"}
    assert {"INVALID_MESSAGE", "FORBIDDEN"} <= codes, "the fuzzer reached the rules, not only the decoder"
    assert any(a["type"] == "message" for a in answers), "some fuzzed messages were valid and stored"
    with urllib.request.urlopen(f"http://127.0.0.1:{fuzz_server.port}/healthz", timeout=10) as response:
        assert response.status == 200
    log = fuzz_server.log_path.read_text()
    assert "Traceback" not in log, log[log.find("Traceback") - 500:][:3000]
