"""Fan-out of events to every server process: in-process by default, Redis to scale out."""

from .base import Deliver, Event, Fanout
from .local import LocalFanout

__all__ = ["Event", "Fanout", "Deliver", "LocalFanout"]
