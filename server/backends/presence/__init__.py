"""Who is online: the interface, in memory (one process) and in Redis (several)."""

from .base import Presence, PresenceChange
from .memory import MemoryPresence

__all__ = ["Presence", "PresenceChange", "MemoryPresence"]
