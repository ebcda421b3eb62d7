"""The bridge against a real companion server: auth, history, reconnect with recovery."""

from __future__ import annotations

import asyncio
import socket

import pytest

from agentchat_app import bridge as bridges
from agentchat_app.chat.session import LOCAL_CONNECTION, ConnectionState
from server.agents.testing import ChatTestClient
from server.auth import issue_token
from agentchat_client.protocol import MessageType
from server.runtime import ServerRuntime
from server.settings import Settings

SECRET = "b" * 48


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path, upload_dir=tmp_path / "uploads", jwt_secret=SECRET, port=free_port(),
                    agents_enabled=False, response_delay_seconds=0)


async def frames_until(bridge: bridges.Bridge, want, timeout: float = 10.0) -> list[dict]:
    """Apply frames to the bridge's session until ``want(frame)``; returns what arrived."""
    seen: list[dict] = []
    async with asyncio.timeout(timeout):
        while True:
            batch = await bridge.next_batch(timeout=1.0, limit=1)  # one at a time: none skipped
            for frame in batch:
                bridge.session.apply(frame)
                seen.append(frame)
                if want(frame):
                    return seen


def is_type(kind: str, **data):
    return lambda f: f.get("type") == kind and all((f.get("data") or {}).get(k) == v for k, v in data.items())


async def test_bridge_resumes_after_a_server_restart(settings):
    runtime = ServerRuntime(settings)
    await runtime.start()
    alice = bridges.open_bridge("tab-a", runtime.url, "alice", "developer",
                                issue_token(SECRET, "alice", "developer"))
    bob = bridges.open_bridge("tab-b", runtime.url, "bob", "developer", issue_token(SECRET, "bob", "developer"))
    try:
        await frames_until(alice, is_type(MessageType.HISTORY.value))
        await frames_until(bob, is_type(MessageType.HISTORY.value))
        assert alice.session.connection == ConnectionState.CONNECTED
        assert await bob.send(MessageType.MESSAGE, {"text": "before"})
        await frames_until(alice, lambda f: (f.get("data") or {}).get("text") == "before")
        await frames_until(bob, lambda f: (f.get("data") or {}).get("text") == "before")

        await runtime.stop()
        await frames_until(alice, is_type(LOCAL_CONNECTION, state=ConnectionState.RECONNECTING))
        assert not await alice.send(MessageType.MESSAGE, {"text": "lost?"})  # refused, never silently lost

        runtime = ServerRuntime(settings)
        await runtime.start()
        await frames_until(bob, is_type(MessageType.AUTH_RESPONSE.value, success=True), timeout=20)
        await frames_until(bob, is_type(MessageType.RECOVERY.value))
        assert await bob.send(MessageType.MESSAGE, {"text": "after"})
        await frames_until(alice, lambda f: (f.get("data") or {}).get("text") == "after", timeout=20)
        texts = [m.text for m in alice.session.window.messages]
        assert texts == ["before", "after"]
        assert alice.session.connection == ConnectionState.CONNECTED
    finally:
        await bridges.close_all()
        await runtime.stop()


async def test_a_refused_token_stops_the_bridge(settings):
    runtime = ServerRuntime(settings)
    await runtime.start()
    try:
        bad = bridges.open_bridge("tab-x", runtime.url, "mallory", "developer",
                                  issue_token("not-the-secret" * 4, "mallory", "admin"))
        seen = await frames_until(bad, is_type(MessageType.AUTH_RESPONSE.value))
        assert seen[-1]["data"]["success"] is False
        for _ in range(200):  # it closes itself right after the refusal
            if bad.closed and bad.session.connection == ConnectionState.DISCONNECTED:
                break
            await asyncio.sleep(0.05)
        assert bad.closed and bad.session.connection == ConnectionState.DISCONNECTED
    finally:
        await bridges.close_all()
        await runtime.stop()


async def test_a_new_bridge_resumes_after_the_messages_already_shown(settings):
    runtime = ServerRuntime(settings)
    await runtime.start()
    try:
        first = bridges.open_bridge("tab-s", runtime.url, "sue", "developer", issue_token(SECRET, "sue", "developer"))
        await frames_until(first, is_type(MessageType.HISTORY.value))
        for text in ("one", "two"):
            assert await first.send(MessageType.MESSAGE, {"text": text})
            await frames_until(first, lambda f, t=text: (f.get("data") or {}).get("text") == t)
        shown = list(first.session.window.messages)
        # The reaper closed the bridge (the browser was away); the state still shows the messages.
        await bridges.close_bridge("tab-s")
        second = bridges.open_bridge("tab-s", runtime.url, "sue", "developer",
                                     issue_token(SECRET, "sue", "developer"), shown=shown)
        assert second is not first
        seen = await frames_until(second, is_type(MessageType.RECOVERY.value))
        assert not any(f.get("type") == MessageType.HISTORY.value for f in seen)
        assert [m.text for m in second.session.window.messages] == ["one", "two"]
    finally:
        await bridges.close_all()
        await runtime.stop()


async def test_a_bridge_whose_queue_overflowed_reloads_instead_of_resuming(settings, monkeypatch):
    """Frames dropped from a full queue never reached the screen: the next connect must ask for
    a fresh page, not resume after messages the session never showed."""
    monkeypatch.setattr(bridges, "QUEUE_LIMIT", 5)
    runtime = ServerRuntime(settings)
    await runtime.start()
    try:
        away = bridges.open_bridge("tab-o", runtime.url, "olga", "developer", issue_token(SECRET, "olga", "developer"))
        await frames_until(away, is_type(MessageType.HISTORY.value))
        async with ChatTestClient(runtime.url, "pat", issue_token(SECRET, "pat", "developer")) as pat:
            for i in range(12):  # nobody reads olga's bridge meanwhile
                await pat.say(f"m{i}")
        await frames_until(away, lambda f: (f.get("data") or {}).get("text") == "m11")
        assert away.overflowed
        shown = [m.text for m in away.session.window.messages]
        assert "m0" not in shown and shown[-1] == "m11"  # the session missed some

        await runtime.stop()
        await frames_until(away, is_type(LOCAL_CONNECTION, state=ConnectionState.RECONNECTING))
        runtime = ServerRuntime(settings)
        await runtime.start()
        seen = await frames_until(away, is_type(MessageType.HISTORY.value), timeout=20)
        assert not any(f.get("type") == MessageType.RECOVERY.value for f in seen)
        assert [m.text for m in away.session.window.messages] == [f"m{i}" for i in range(12)]
    finally:
        await bridges.close_all()
        await runtime.stop()
