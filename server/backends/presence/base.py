"""Who is online: a user is online while at least one of their connections is open.

Connection ids in, "became online/offline" out, so multi-tab rules are tested without
sockets.  ``memory.py`` keeps it in this process; ``redis.py`` shares it across processes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable


__all__ = ["Presence", "PresenceChange"]

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

    async def start(self, on_change: PresenceChange) -> None:  # noqa: B027 - optional hook
        """Begin background work (heart-beat, expiry of dead processes) where presence is shared."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        pass
