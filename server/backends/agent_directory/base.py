"""The agent directory: which agents exist, wherever they run, and what each one does.

Separate from presence (an agent is *known* here whether or not it is connected).  In-process
agents are registered by the process hosting them; external agents when they first connect.
``memory.py`` keeps it in this process; ``redis.py`` shares it between processes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

__all__ = ["AgentDirectory"]


class AgentDirectory(ABC):
    @abstractmethod
    async def register(self, agents: dict[str, str]) -> None:
        """Make agents (name -> description) known to every process."""

    @abstractmethod
    async def all(self) -> dict[str, str]:
        """Every known agent (name -> description)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        pass
