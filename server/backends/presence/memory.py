"""Presence in this process's memory: the default, one server process."""

from __future__ import annotations

from .base import Presence

__all__ = ["MemoryPresence"]


class MemoryPresence(Presence):
    def __init__(self) -> None:
        self._connections: dict[str, set[str]] = {}

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
        return True

    async def online(self) -> set[str]:
        return set(self._connections)

