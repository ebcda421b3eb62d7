"""Presence in this process's memory: the default, one server process."""

from __future__ import annotations

from .base import Presence

__all__ = ["MemoryPresence"]


class MemoryPresence(Presence):
    def __init__(self) -> None:
        # Per user, their connections' ids (a dict used as an ordered set: half a set's memory).
        self._connections: dict[str, dict[str, None]] = {}

    async def connect(self, user_id: str, connection_id: str) -> bool:
        conns = self._connections.setdefault(user_id, {})
        first = not conns
        conns[connection_id] = None
        return first

    async def disconnect(self, user_id: str, connection_id: str) -> bool:
        conns = self._connections.get(user_id)
        if not conns or connection_id not in conns:
            return False
        del conns[connection_id]
        if conns:
            return False
        del self._connections[user_id]
        return True

    async def online(self) -> set[str]:
        return set(self._connections)

