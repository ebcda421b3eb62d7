"""Test support: a real server process on a free port, and a small protocol client."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import websockets
from agentchat_client.protocol import MessageType, client_frame
from agentchat_client.session import ClientSession, decode_server_frame
from websockets.asyncio.client import ClientConnection

from server.auth import issue_token

ROOT = Path(__file__).resolve().parents[1]
SECRET = "test-secret-0123456789abcdef0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def token(user: str, role: str = "developer", secret: str = SECRET) -> str:
    return issue_token(secret, user, role)


class ServerProcess:
    """``python -m server`` as a child process, as a user would run it."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {
            **os.environ,
            "AGENTCHAT_HOST": "127.0.0.1",
            "AGENTCHAT_PORT": str(self.port),
            "AGENTCHAT_DATA_DIR": str(data_dir),
            "AGENTCHAT_JWT_SECRET": SECRET,
            "AGENTCHAT_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self, timeout: float = 120.0) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "server"], cwd=ROOT, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not become healthy: " + self.log_path.read_text()[-2000:])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Client:
    """A protocol client for tests: frames in a queue, helpers to wait for a type.

    Deliberately low level (it may send anything, before or after ``auth``, even raw bytes), but
    authentication, encoding and decoding go through ``agentchat_client``'s client core, as in
    every other client.
    """

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.closed = asyncio.Event()
        self.backlog: list[dict[str, Any]] = []
        self.welcome: dict[str, Any] = {}
        self.initial_history: dict[str, Any] = {}
        self.session: ClientSession | None = None
        """The core of the last ``auth()``: its state and the newest message id seen."""
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, url: str, **kwargs: Any) -> Client:
        return cls(await websockets.connect(url, max_size=None, **kwargs))

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = decode_server_frame(raw)
                if self.session is not None:
                    self.session.receive(frame)
                await self.frames.put(frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed.set()

    async def send(self, kind: str, data: dict[str, Any] | None = None) -> None:
        await self.ws.send(client_frame(MessageType(kind), data), text=True)

    async def send_raw(self, raw: str | bytes) -> None:
        await self.ws.send(raw)

    async def next(self, timeout: float = 20.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.frames.get(), timeout)

    async def expect(self, kind: str, timeout: float = 20.0, **match: Any) -> dict[str, Any]:
        """The first frame of ``kind`` whose data matches ``match``; others wait in a backlog."""

        def matches(frame: dict[str, Any]) -> bool:
            return frame["type"] == kind and all(frame.get("data", {}).get(k) == v for k, v in match.items())

        for i, frame in enumerate(self.backlog):
            if matches(frame):
                del self.backlog[i]
                return frame["data"]
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no {kind} frame matching {match} within {timeout}s")
            try:
                frame = await self.next(remaining)
            except TimeoutError:
                raise AssertionError(f"no {kind} frame matching {match} within {timeout}s") from None
            if matches(frame):
                return frame["data"]
            self.backlog.append(frame)

    async def error(self, code: str, timeout: float = 20.0) -> dict[str, Any]:
        return await self.expect("error", timeout, code=code)

    async def quiet(self, seconds: float = 0.3) -> list[dict[str, Any]]:
        """Everything that arrives within ``seconds``."""
        await asyncio.sleep(seconds)
        got, self.backlog = self.backlog, []
        while not self.frames.empty():
            got.append(self.frames.get_nowait())
        return got

    async def auth(self, user: str, role: str = "developer", last_message_id: int | None = None,
                   **extra: Any) -> dict[str, Any]:
        """Authenticate as ``user`` (``extra`` fields are sent along) and return the answer."""
        session = ClientSession(user, token(user, role), resume_from=last_message_id)
        session.connecting()  # the socket is already open
        frame = session.auth_frame(extra)
        self.session = session
        await self.ws.send(frame, text=True)
        return await self.expect("auth_response")

    async def say(self, text: str, **data: Any) -> dict[str, Any]:
        """Send a message and return the server's copy of it."""
        client_id = data.pop("id", f"c-{time.monotonic_ns()}")
        await self.send("message", {"id": client_id, "text": text, **data})
        return await self.expect("message", clientId=client_id)

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()


async def connect_as(url: str, user: str, role: str = "developer", **kwargs: Any) -> Client:
    """An authenticated client whose catch-up (the initial history) is already read."""
    client = await Client.connect(url)
    response = await client.auth(user, role, **kwargs)
    assert response["success"], response
    client.welcome = response
    if kwargs.get("last_message_id") is None:
        client.initial_history = await client.expect("history")
    return client


# --- an in-process server with agents (the agent tests) -------------------------------------


@contextlib.asynccontextmanager
async def running_server(tmp_path: Path, *agents: Any, **overrides: Any) -> AsyncIterator[Any]:
    """A ``ServerRuntime`` on a free port, in this process, with ``agents`` added to its host.

    Generous limits and the test secret; ``overrides`` are ``Settings`` fields."""
    from server.runtime import ServerRuntime
    from server.settings import Settings

    options: dict[str, Any] = {
        "port": 0, "data_dir": tmp_path, "jwt_secret": SECRET, "response_delay_seconds": 0,
        "upload_dir": tmp_path / "uploads", "max_messages_per_hour": 100_000, **overrides,
    }
    runtime = ServerRuntime(Settings(**options))
    await runtime.start()
    try:
        for agent in agents:
            assert runtime.agents is not None
            await runtime.agents.add(agent)
        yield runtime
    finally:
        await runtime.stop()


def chat_client(runtime: Any, name: str, role: str = "developer") -> Any:
    """A recording test client (``ChatTestClient``) for ``name`` on ``runtime``."""
    from server.agents.testing import ChatTestClient

    return ChatTestClient(runtime.url, name, token(name, role))
