"""Fan-out of events to every server process: in memory (one process) or through Redis."""

from .base import Deliver, Fanout
from .memory import MemoryFanout

__all__ = ["Fanout", "Deliver", "MemoryFanout"]
