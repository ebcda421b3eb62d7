"""Which agents exist, wherever they run: in memory (one process) or in Redis (several)."""

from .base import AgentDirectory
from .memory import MemoryAgentDirectory

__all__ = ["AgentDirectory", "MemoryAgentDirectory"]
