"""What agents need from around them, as interfaces: the chat they talk through, and the other
agents they may describe.  ``WebSocketManager`` provides the first, ``AgentManager`` the second;
neither is imported here, so agents depend on no concrete host (and ``base`` does not import
``manager``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from agentchat_client.message import ParsedMessage

from ..settings import Settings
from ..store import Message, Store

if TYPE_CHECKING:
    from ..hub import Hub

__all__ = ["ChatHost", "AgentDirectory"]


class ChatHost(Protocol):
    """The chat as an agent host sees it (``server.websocket_manager.WebSocketManager``)."""

    settings: Settings

    @property
    def store(self) -> Store: ...

    @property
    def hub(self) -> Hub | None: ...

    def add_message_handler(self, handler: Callable[[ParsedMessage], Any], *, all_rooms: bool = False,
                            on_loop: bool = False) -> None: ...

    def add_stop_handler(self, callback: Callable[[str, str], None]) -> None: ...

    def register_agent(self, name: str, description: str = "") -> None: ...

    async def post_agent_response(
        self, agent: str, text: str, reply_to: int | None = None, agent_status: str | None = None,
        stream_id: str | None = None, attachment_ids: list[str] | tuple[str, ...] = (), room_id: str = ...,
        thread_id: int | None = None, run_id: str | None = None,
    ) -> Message: ...

    async def set_status(self, agent: str, status: str, current_task: str | None = None,
                         progress: float | None = None) -> None: ...

    def stream(self, agent: str, stream_id: str, delta: str, reply_to: int | None = None, room_id: str = ...,
               thread_id: int | None = None) -> None: ...

    async def ask(self, agent: str, to: str, text: str, choices: list[str], timeout: float = 300.0,
                  reply_to: int | None = None, room_id: str = ...) -> str | None: ...


class AgentDirectory(Protocol):
    """The other agents, as an agent may describe them (``AgentManager``)."""

    @property
    def agents(self) -> Mapping[str, Any]:
        """Name -> ``Agent`` (typed loosely: this module sits below ``base``)."""
        ...

    def directory(self) -> list[dict[str, Any]]: ...

    def help_lines(self, name: str) -> Sequence[str] | None: ...
