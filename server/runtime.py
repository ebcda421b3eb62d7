"""``ServerRuntime``: the whole companion server (chat + agents) as one object to start and stop.

Used by ``python -m server`` and by the Reflex app, which runs it in-process as a lifespan
task unless ``AGENTCHAT_SERVER_URL`` names a server that is already running.
"""

from __future__ import annotations

import logging
from typing import Any

from .manager import WebSocketManager
from .settings import Settings, get_settings

__all__ = ["ServerRuntime"]

log = logging.getLogger(__name__)


class ServerRuntime:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.manager = WebSocketManager(settings=self.settings)
        self.agents: Any = None

    @property
    def url(self) -> str:
        return self.manager.url

    @property
    def port(self) -> int:
        return self.manager.port

    async def start(self) -> None:
        await self.manager.prepare()
        if self.settings.agents_enabled and self.settings.agent_host:  # one process hosts the agents
            self.agents = self._make_agents()
            if self.agents is not None:
                await self.agents.start()
        await self.manager.start_server()

    def _make_agents(self) -> Any:
        try:
            from .agents import AgentManager
        except ImportError:
            log.info("agent system not available; running without agents")
            return None
        return AgentManager(self.manager, self.settings)

    async def stop(self) -> None:
        if self.agents is not None:
            await self.agents.stop()
        await self.manager.stop_server()
