"""``/mcp``: AgentChat as an MCP server (Streamable HTTP, through the official ``mcp`` SDK).

Every request carries ``Authorization: Bearer <token>`` (a person's access token, a development
token or an agent key) and is authenticated on its own: a missing or bad token is a 401 with a
clear message before the SDK sees the request, and an account disabled or a key revoked stops
working at the next call.  The SDK's session manager runs *stateless* with JSON responses: no
session lives in one process's memory, so any worker behind the port answers any request.

The session manager needs a running task group (the SDK expects the ASGI lifespan to provide
it; the server's uvicorn runs without one), so :meth:`McpEndpoint.start` runs it in a task of
its own until :meth:`McpEndpoint.stop`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import mcp_types as types
import orjson
from agentchat_client.protocol import ProtocolError
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from ..accounts import AccountError, AccountService
from ..core.identity import Identity
from ..http.api import error_response
from .calls import ChatTools
from .tools import ToolRefused, ToolSpec, check_arguments, tools_for

if TYPE_CHECKING:
    from ..hub import Hub

__all__ = ["MCP_PATH", "McpEndpoint"]

log = logging.getLogger(__name__)

MCP_PATH = "/mcp"
IDENTITY_KEY = "agentchat.identity"
"""Where the authenticated caller rides in the ASGI scope, for the tool handlers to find."""
INSTRUCTIONS = (
    "AgentChat is a team chat where people and AI agents work together. Rooms are named by roomId; "
    "'general' is the room everyone is in. Read with read_messages and search_messages, see who is "
    "there with list_members, and post_message to write as yourself (mention @name to address "
    "someone; a mentioned agent answers in the chat)."
)


def _tool(spec: ToolSpec) -> types.Tool:
    return types.Tool(
        name=spec.name, title=spec.title, description=spec.description, input_schema=spec.input_schema,
        annotations=types.ToolAnnotations(title=spec.title, read_only_hint=spec.read_only,
                                          destructive_hint=False, open_world_hint=False),
    )


def _failure(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


def _success(result: dict[str, Any]) -> types.CallToolResult:
    text = orjson.dumps(result).decode()
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=result)


def _caller(ctx: ServerRequestContext[Any, Any]) -> Identity:
    request = ctx.request
    identity = request.scope.get(IDENTITY_KEY) if request is not None else None
    if not isinstance(identity, Identity):  # only reachable past the authenticating wrapper
        raise ToolRefused("Not authenticated: send Authorization: Bearer <token>.")
    return identity


class McpEndpoint:
    """The MCP server, its session manager, and the authenticated ASGI route in front of them."""

    def __init__(self, hub: Hub, accounts: AccountService) -> None:
        self.accounts = accounts
        self.tools = ChatTools(hub)
        self.server: Server[Any] = Server(
            "agentchat", title="AgentChat", instructions=INSTRUCTIONS,
            on_list_tools=self._list_tools, on_call_tool=self._call_tool,
        )
        self.sessions = StreamableHTTPSessionManager(self.server, stateless=True, json_response=True)
        sdk_log = logging.getLogger("mcp.server.streamable_http")
        if sdk_log.level == logging.NOTSET:  # one "Terminating session: None" per request is noise
            sdk_log.setLevel(logging.WARNING)
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    # lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        ready = asyncio.Event()

        async def run() -> None:
            async with self.sessions.run():
                ready.set()
                await self._stopping.wait()

        self._task = asyncio.create_task(run(), name="mcp-sessions")
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({self._task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if self._task.done():
            self._task.result()  # the reason it could not start

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            try:
                await self._task
            except Exception:
                log.exception("the MCP session manager did not stop cleanly")
            self._task = None

    def routes(self) -> list[BaseRoute]:
        return [Route(MCP_PATH, _Authenticated(self.accounts, self.sessions))]

    # MCP handlers -------------------------------------------------------------------------
    async def _list_tools(self, ctx: ServerRequestContext[Any, Any],
                          params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[_tool(spec) for spec in tools_for(_caller(ctx).role)])

    async def _call_tool(self, ctx: ServerRequestContext[Any, Any],
                         params: types.CallToolRequestParams) -> types.CallToolResult:
        try:
            who = _caller(ctx)
            args = check_arguments(params.name, who.role, params.arguments)
            result = await getattr(self.tools, params.name)(who, args)
        except ToolRefused as exc:
            return _failure(str(exc))
        except ProtocolError as exc:
            return _failure(f"{exc.code.value}: {exc.message}")
        except Exception:
            log.exception("MCP tool %s failed", params.name)
            return _failure("Something went wrong on the server; please try again.")
        return _success(result)


class _Authenticated:
    """The ASGI app at ``/mcp``: authenticate the bearer token, then hand over to the SDK."""

    def __init__(self, accounts: AccountService, sessions: StreamableHTTPSessionManager) -> None:
        self.accounts = accounts
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            await self._refuse("Send Authorization: Bearer <token> (an agent key or a person's access token).",
                               scope, receive, send)
            return
        try:
            identity = await self.accounts.authenticate(token.strip())
        except AccountError as exc:
            await self._refuse(exc.message, scope, receive, send)
            return
        scope[IDENTITY_KEY] = identity
        # The SDK compares this principal on session-bound requests; it also names the caller in its logs.
        scope["user"] = AuthenticatedUser(AccessToken(token="", client_id=identity.user_id,
                                                      scopes=[identity.role.value], subject=identity.user_id))
        await self.sessions.handle_request(scope, receive, send)

    @staticmethod
    async def _refuse(message: str, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(401, "unauthorized", message)
        response.headers["WWW-Authenticate"] = 'Bearer realm="agentchat"'
        await response(scope, receive, send)
