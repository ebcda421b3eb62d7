"""The agent directory in this process's memory: the default, one server process."""

from __future__ import annotations

from .base import AgentDirectory

__all__ = ["MemoryAgentDirectory"]


class MemoryAgentDirectory(AgentDirectory):
    def __init__(self) -> None:
        self._agents: dict[str, str] = {}

    async def register(self, agents: dict[str, str]) -> None:
        for name, description in agents.items():
            if description or name not in self._agents:
                self._agents[name] = description

    async def all(self) -> dict[str, str]:
        return dict(self._agents)
