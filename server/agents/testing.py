"""Helpers for testing agents over a real socket: a chat client that records every frame.

    async with ChatTestClient(runtime.url, "alice", token) as alice:
        sent = await alice.say("@helper hi")
        answer = await alice.expect("agent_response", sender="helper", replyTo=sent["id"])

It connects, authenticates and decodes through ``agentchat_client``'s client core, like every
other client, but never reconnects: a test sees exactly one connection.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any, Self

from agentchat_client.connection import AuthError, Connection
from agentchat_client.protocol import MessageType
from agentchat_client.session import ClientSession

__all__ = ["ChatTestClient"]

Predicate = Callable[[dict[str, Any]], bool]
_ids = itertools.count(1)
CONNECT_SECONDS = 10.0


class ChatTestClient:
    """One authenticated connection; ``frames`` holds every envelope received, in order."""

    def __init__(self, url: str, user: str, token: str, *, last_message_id: int | None = None) -> None:
        self.url = url
        self.user = user
        self.token = token
        self.last_message_id = last_message_id
        self.frames: list[dict[str, Any]] = []
        self.welcome: dict[str, Any] = {}
        self.session = ClientSession(user, token, resume_from=last_message_id)
        self._connection = Connection(url, self.session, self._record, reconnect=False)
        self._arrivals: list[asyncio.Future[None]] = []

    async def __aenter__(self) -> Self:
        self._connection.start()
        try:
            await self._connection.wait_connected(CONNECT_SECONDS)
        except AuthError:
            await self._connection.close()
            raise RuntimeError(f"auth failed: {self.session.rejection}") from None
        self.welcome = self.session.welcome
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._connection.close()

    def _record(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)
        arrivals, self._arrivals = self._arrivals, []
        for arrival in arrivals:
            if not arrival.done():
                arrival.set_result(None)

    async def send(self, kind: MessageType | str, data: dict[str, Any] | None = None) -> None:
        await self._connection.send(MessageType(kind), data or {})

    async def say(self, text: str, **fields: Any) -> dict[str, Any]:
        """Post a chat message and return it as the server broadcast it (with its real ``id``)."""
        client_id = f"{self.user}-{next(_ids)}"
        await self.send(MessageType.MESSAGE, {"id": client_id, "text": text, **fields})
        frame = await self.expect_any(
            lambda f: (f["type"] == MessageType.MESSAGE and f["data"].get("clientId") == client_id)
            or (f["type"] == MessageType.ERROR and f["data"].get("ref") == client_id)
        )
        if frame["type"] == MessageType.ERROR:
            raise RuntimeError(f"message refused: {frame['data']}")
        return frame["data"]

    def matching(self, kind: MessageType | str, where: Predicate | None = None, **fields: Any) -> list[dict[str, Any]]:
        """The data of every frame received so far of ``kind`` whose fields equal ``fields``."""
        found = []
        for frame in self.frames:
            if frame.get("type") != str(kind):
                continue
            data = frame.get("data") or {}
            if all(data.get(k) == v for k, v in fields.items()) and (where is None or where(data)):
                found.append(data)
        return found

    async def expect(
        self, kind: MessageType | str, where: Predicate | None = None, timeout: float = 20.0, **fields: Any
    ) -> dict[str, Any]:
        """Wait for a frame of ``kind`` matching ``fields`` (and ``where``); return its data."""

        def check(frame: dict[str, Any]) -> bool:
            data = frame.get("data") or {}
            return (
                frame.get("type") == str(kind)
                and all(data.get(k) == v for k, v in fields.items())
                and (where is None or where(data))
            )

        frame = await self.expect_any(check, timeout, f"{kind} {fields}")
        return frame.get("data") or {}

    async def expect_any(self, check: Predicate, timeout: float = 20.0, what: str = "frame") -> dict[str, Any]:
        async def wait() -> dict[str, Any]:
            seen = 0
            while True:
                if seen > len(self.frames):  # the test cleared ``frames``
                    seen = 0
                for frame in self.frames[seen:]:
                    if check(frame):
                        return frame
                seen = len(self.frames)
                arrival = asyncio.get_running_loop().create_future()
                self._arrivals.append(arrival)
                await arrival

        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            tail = [f"{f['type']}:{str(f.get('data'))[:120]}" for f in self.frames[-8:]]
            raise AssertionError(f"{self.user}: no {what} within {timeout}s; last frames: {tail}") from None
