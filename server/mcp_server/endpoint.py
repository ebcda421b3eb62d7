"""``/mcp``: AgentChat as an MCP server (Streamable HTTP, through the official ``mcp`` SDK).

Every request carries ``Authorization: Bearer <token>`` (a person's access token, a development
token or an agent key) and is authenticated on its own: a missing or bad token is a 401 with a
clear message before the SDK sees the request, and an account disabled or a key revoked stops
working at the next call.  The SDK's session manager runs *stateless* with JSON responses: no
session lives in one process's memory, so any worker behind the port answers any request.

The session manager needs a running task group (the SDK expects the ASGI lifespan to provide
it; the server's uvicorn runs without one), so it runs in a task of its own, started with the
first authenticated request (``sdk`` is imported then, not at every server start) and ended by
:meth:`McpEndpoint.stop`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from ..accounts import AccountError, AccountService
from ..http.api import error_response
from .calls import ChatTools

if TYPE_CHECKING:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

    from ..hub import Hub

__all__ = ["IDENTITY_KEY", "MCP_PATH", "McpEndpoint"]

log = logging.getLogger(__name__)

MCP_PATH = "/mcp"
IDENTITY_KEY = "agentchat.identity"
"""Where the authenticated caller rides in the ASGI scope, for the tool handlers to find."""


class McpEndpoint:
    """The authenticated ASGI route at ``/mcp`` and the lifetime of the SDK's session manager."""

    def __init__(self, hub: Hub, accounts: AccountService) -> None:
        self.accounts = accounts
        self.tools = ChatTools(hub)
        self._sessions: StreamableHTTPSessionManager | None = None
        self._starting = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def routes(self) -> list[BaseRoute]:
        return [Route(MCP_PATH, self)]  # an ASGI app (an object, not a function: Starlette passes it the raw scope)

    async def sessions(self) -> StreamableHTTPSessionManager:
        """The running session manager, started on first use."""
        if self._sessions is not None:
            return self._sessions
        async with self._starting:
            if self._sessions is None:
                from .sdk import session_manager

                manager = session_manager(self.tools)
                ready = asyncio.Event()

                async def run() -> None:
                    async with manager.run():
                        ready.set()
                        await self._stopping.wait()

                self._task = asyncio.create_task(run(), name="mcp-sessions")
                waiter = asyncio.create_task(ready.wait())
                await asyncio.wait({self._task, waiter}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if self._task.done():
                    self._task.result()  # the reason it could not start
                self._sessions = manager
            return self._sessions

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            try:
                await self._task
            except Exception:
                log.exception("the MCP session manager did not stop cleanly")
            self._task = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate the bearer token, then hand the request to the SDK."""
        header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            await _refuse("Send Authorization: Bearer <token> (an agent key or a person's access token).",
                          scope, receive, send)
            return
        try:
            identity = await self.accounts.authenticate(token.strip())
        except AccountError as exc:
            await _refuse(exc.message, scope, receive, send)
            return
        scope[IDENTITY_KEY] = identity
        sessions = await self.sessions()
        await sessions.handle_request(scope, receive, send)


async def _refuse(message: str, scope: Scope, receive: Receive, send: Send) -> None:
    response = error_response(401, "unauthorized", message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="agentchat"'
    await response(scope, receive, send)
