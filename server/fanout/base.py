"""Fan-out: how an accepted event reaches every server process (and so every client).

Every broadcast goes ``publish`` -> (in-process or Redis) -> ``deliver`` on each process,
including the one that published, so one path serves one process and many.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from agentchat_client.protocol import MessageType

__all__ = ["Event", "Fanout", "Deliver"]


@dataclass(slots=True)
class Event:
    """One broadcast: the encoded frame, plus what the hub needs to route it."""

    kind: MessageType
    frame: bytes
    message_id: int | None = None
    exclude_user: str | None = None
    """Do not send to this user (typing indicators are not echoed to the typist)."""
    target_user: str | None = None
    """Send only to this user's connections (control frames for an external agent)."""
    _data: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = orjson.loads(self.frame)["data"]
        return self._data

    def to_bytes(self) -> bytes:
        header = {"k": self.kind.value, "m": self.message_id, "x": self.exclude_user, "t": self.target_user}
        return orjson.dumps(header) + b"\n" + self.frame

    @classmethod
    def from_bytes(cls, raw: bytes) -> Event:
        head, _, frame = raw.partition(b"\n")
        header = orjson.loads(head)
        return cls(MessageType(header["k"]), frame, header["m"], header["x"], header["t"])


Deliver = Callable[[Event], None]


class Fanout(ABC):
    @abstractmethod
    async def start(self, deliver: Deliver) -> None:
        """Begin delivering events (from this and, where shared, other processes)."""

    @abstractmethod
    def publish(self, event: Event) -> None:
        """Queue an event; never blocks, keeps the order of calls."""

    @abstractmethod
    async def close(self) -> None: ...

    def delivered_id(self) -> int | None:
        """The newest message id handed to ``deliver``; None when delivery is immediate."""
        return None

    async def wait_delivered(self, message_id: int, timeout: float = 2.0) -> None:  # noqa: B027
        """Wait (bounded) until messages up to ``message_id`` were handed to ``deliver``.

        A connecting client's catch-up reads the database, which may be ahead of a fan-out that
        reorders; waiting lets the hub drop those messages from the live stream instead of
        sending them twice.  Immediate fan-outs have nothing to wait for.
        """
