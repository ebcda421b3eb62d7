"""Presence in this process's memory: the default, one server process."""

from __future__ import annotations

from datetime import datetime

from agentchat_client.protocol import utc_now

from .base import Presence

__all__ = ["MemoryPresence"]


class MemoryPresence(Presence):
    def __init__(self) -> None:
        self._connections: dict[str, set[str]] = {}
        self._last_seen: dict[str, datetime] = {}

    async def connect(self, user_id: str, connection_id: str) -> bool:
        conns = self._connections.setdefault(user_id, set())
        first = not conns
        conns.add(connection_id)
        return first

    async def disconnect(self, user_id: str, connection_id: str) -> bool:
        conns = self._connections.get(user_id)
        if not conns or connection_id not in conns:
            return False
        conns.discard(connection_id)
        if conns:
            return False
        del self._connections[user_id]
        self._last_seen[user_id] = utc_now()
        return True

    async def online(self) -> set[str]:
        return set(self._connections)

    def last_seen(self, user_id: str) -> datetime | None:
        return self._last_seen.get(user_id)
