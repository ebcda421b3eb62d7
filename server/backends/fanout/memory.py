"""Fan-out inside this process: the default, zero set-up, one server process."""

from __future__ import annotations

from ...core.events import Event
from .base import Deliver, Fanout

__all__ = ["MemoryFanout"]


class MemoryFanout(Fanout):
    def __init__(self) -> None:
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    def publish(self, event: Event) -> None:
        if self._deliver is not None:
            self._deliver(event)

    async def close(self) -> None:
        self._deliver = None
