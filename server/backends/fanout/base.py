"""Fan-out: how an accepted event reaches every server process (and so every client).

Every broadcast goes ``publish`` -> (in-process or Redis) -> ``deliver`` on each process,
including the one that published, so one path serves one process and many.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from ...core.events import Event

__all__ = ["Fanout", "Deliver"]


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
