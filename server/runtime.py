"""``ServerRuntime``: the whole companion server (chat + agents) as one object to start and stop.

Used by ``python -m server`` and by the Reflex app, which runs it in-process as a lifespan
task unless ``AGENTCHAT_SERVER_URL`` names a server that is already running.
"""

from __future__ import annotations

from .agents import AgentManager
from .websocket_manager import WebSocketManager
from .settings import Settings, get_settings

__all__ = ["ServerRuntime"]


class ServerRuntime:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.manager = WebSocketManager(settings=self.settings)
        self.agents: AgentManager | None = None

    @property
    def url(self) -> str:
        return self.manager.url

    @property
    def port(self) -> int:
        return self.manager.port

    async def start(self) -> None:
        await self.manager.prepare()
        try:
            if self.settings.agents_enabled and self.settings.agent_host:  # one process hosts the agents
                self.agents = AgentManager(self.manager, self.settings)
                await self.agents.start()
            await self.manager.start_server()
        except BaseException:
            await self.stop()  # release the store (and agents) opened so far, then report
            raise

    async def stop(self) -> None:
        if self.agents is not None:
            await self.agents.stop()
        await self.manager.stop_server()
