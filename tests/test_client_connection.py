"""The asyncio client connection against a real companion server: states, resume, refusal, closing."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import websockets
from agentchat_client import AuthError, Backoff, ClientSession, Connection, LinkState, NotConnected
from agentchat_client.protocol import CloseCode, MessageType

from server.agents.testing import ChatTestClient
from server.auth import issue_token
from server.runtime import ServerRuntime
from server.settings import Settings

SECRET = "c" * 48


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, upload_dir=tmp_path / "uploads", jwt_secret=SECRET, port=free_port(),
                    agents_enabled=False, response_delay_seconds=0)


@pytest_asyncio.fixture
async def runtime(settings: Settings) -> AsyncIterator[ServerRuntime]:
    rt = ServerRuntime(settings)
    await rt.start()
    try:
        yield rt
    finally:
        await rt.stop()


class Recorder:
    """Collects frames and states, and wakes a test waiting for one."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.states: list[LinkState] = []
        self._changed = asyncio.Event()

    def frame(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)
        self._changed.set()

    def state(self, state: LinkState) -> None:
        self.states.append(state)
        self._changed.set()

    async def until(self, check: Callable[[], bool], timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            while not check():
                self._changed.clear()
                await self._changed.wait()

    def texts(self) -> list[str]:
        return [f["data"]["text"] for f in self.frames if f["type"] == MessageType.MESSAGE]


def connection(url: str, user: str, recorder: Recorder, token: str | None = None, **options: Any) -> Connection:
    session = ClientSession(user, token or issue_token(SECRET, user, "developer"), backoff=Backoff(first=0.1, most=1))
    return Connection(url, session, recorder.frame, on_state=recorder.state, **options)


async def test_a_connection_survives_a_server_restart_and_misses_nothing(settings: Settings) -> None:
    runtime = ServerRuntime(settings)
    await runtime.start()
    seen = Recorder()
    reader = connection(runtime.url, "reader", seen)
    reader.start()
    try:
        await reader.wait_connected(10)
        assert seen.states == [LinkState.CONNECTING, LinkState.AUTHENTICATING, LinkState.LIVE]
        async with ChatTestClient(runtime.url, "writer", issue_token(SECRET, "writer", "developer")) as writer:
            await writer.say("before")
        await seen.until(lambda: "before" in seen.texts())

        await runtime.stop()
        await seen.until(lambda: LinkState.DISCONNECTED in seen.states)
        assert not reader.connected.is_set()
        with pytest.raises(NotConnected):
            await reader.send(MessageType.MESSAGE, {"text": "lost?"})  # refused, never silently dropped

        runtime = ServerRuntime(settings)
        await runtime.start()
        await reader.wait_connected(20)
        # Said while the reader was away: it arrives through recovery, after the resume point.
        async with ChatTestClient(runtime.url, "writer", issue_token(SECRET, "writer", "developer")) as writer:
            await writer.say("after")
        await seen.until(lambda: "after" in seen.texts())
        assert seen.texts() == ["before", "after"]
        assert [f["type"] for f in seen.frames].count(MessageType.HISTORY) == 1  # resumed, not reloaded
        assert seen.states[-1] is LinkState.LIVE and seen.states.count(LinkState.LIVE) == 2

        await reader.send(MessageType.MESSAGE, {"text": "back"})
        await seen.until(lambda: "back" in seen.texts())
    finally:
        await reader.close()
        await runtime.stop()
    assert seen.states[-1] is LinkState.CLOSED


async def test_a_refused_token_ends_the_connection_without_retrying(runtime: ServerRuntime) -> None:
    seen = Recorder()
    refused = connection(runtime.url, "mallory", seen, token=issue_token("x" * 48, "mallory", "admin"))
    refused.start()
    with pytest.raises(AuthError, match="authentication failed"):
        await refused.wait_connected(10)
    assert seen.states == [LinkState.CONNECTING, LinkState.AUTHENTICATING, LinkState.AUTH_REJECTED]
    assert seen.frames[0]["type"] == MessageType.AUTH_RESPONSE and seen.frames[0]["data"]["success"] is False
    assert refused.session.rejection["code"] == "AUTH_FAILED"
    await refused.close()


async def test_close_during_the_backoff_ends_at_once(settings: Settings) -> None:
    seen = Recorder()
    nobody = ClientSession("alice", "tok", backoff=Backoff(first=60, most=60))
    conn = Connection(f"ws://127.0.0.1:{settings.port}/ws", nobody, seen.frame, on_state=seen.state)
    task = conn.start()
    await seen.until(lambda: LinkState.DISCONNECTED in seen.states)  # nothing listens there
    async with asyncio.timeout(5):
        await conn.close()
    assert task.done() and seen.states[-1] is LinkState.CLOSED
    with pytest.raises(NotConnected, match="closed"):
        await conn.wait_connected(1)


async def test_without_reconnect_the_reason_is_raised(settings: Settings) -> None:
    seen = Recorder()
    conn = connection(f"ws://127.0.0.1:{settings.port}/ws", "alice", seen, reconnect=False)
    with pytest.raises(OSError):
        await conn.run()
    assert conn.state is LinkState.DISCONNECTED


async def test_a_server_that_never_answers_auth_is_left_and_tried_again() -> None:
    """A socket that accepts and stays silent (a wedged server) must not hang the client."""
    attempts = 0

    async def silent(ws: websockets.asyncio.server.ServerConnection) -> None:
        nonlocal attempts
        attempts += 1
        await ws.recv()  # the auth frame, never answered
        await ws.wait_closed()

    async with websockets.serve(silent, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        seen = Recorder()
        conn = connection(f"ws://127.0.0.1:{port}/ws", "alice", seen, auth_timeout=0.3)
        conn.start()
        try:
            await seen.until(lambda: seen.states.count(LinkState.AUTHENTICATING) >= 2)
            assert attempts >= 2 and conn.session.failures >= 1 and not seen.frames
        finally:
            await conn.close()


async def test_a_session_the_server_ends_is_not_retried(runtime: ServerRuntime) -> None:
    """Close code 4001 (session ended) or 4003 (account disabled): reconnecting would not help."""
    seen = Recorder()
    reader = connection(runtime.url, "ended", seen)
    task = asyncio.ensure_future(reader.run())
    await reader.wait_connected(10)
    hub = runtime.manager.hub
    assert hub is not None
    for conn in hub.connections.of_user("ended"):
        await conn.ws.close(CloseCode.SESSION_ENDED, "session ended")
    with pytest.raises(AuthError, match="session ended"):
        await asyncio.wait_for(task, 20)
    assert seen.states.count(LinkState.CONNECTING) == 1, "no second attempt"
