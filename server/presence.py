"""Who is online: a user is online while at least one of their connections is open.

Pure bookkeeping (connection ids in, "became online/offline" out), so multi-tab rules are
tested without sockets.  The Redis implementation shares it across processes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime

from agentchat_client.protocol import utc_now

__all__ = ["Presence", "LocalPresence", "PresenceChange"]

PresenceChange = Callable[[list[str], str], None]
"""Called with (users, "online" | "offline") when presence changes without a connection event
(a dead process's users expire); the hub publishes ``user_presence`` for them."""


class Presence(ABC):
    @abstractmethod
    async def connect(self, user_id: str, connection_id: str) -> bool:
        """Count a connection; True if the user just came online."""

    @abstractmethod
    async def disconnect(self, user_id: str, connection_id: str) -> bool:
        """Forget a connection; True if the user just went offline."""

    @abstractmethod
    async def online(self) -> set[str]: ...

    def last_seen(self, user_id: str) -> datetime | None:
        return None

    async def start(self, on_change: PresenceChange) -> None:  # noqa: B027 - optional hook
        """Begin background work (heart-beat, expiry of dead processes) where presence is shared."""

    async def register_agents(self, agents: dict[str, str], hosted: bool) -> list[str]:
        """Make agents (name -> description) known to every process; hosted ones count as online.

        Returns the agents that just came online.  One process has nothing to share.
        """
        return []

    async def agents(self) -> dict[str, str]:
        """Agents registered by any process (name -> description)."""
        return {}

    async def close(self) -> None:  # noqa: B027 - optional hook
        pass


class LocalPresence(Presence):
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
