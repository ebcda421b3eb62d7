"""The MCP side proper, on the official ``mcp`` SDK: the low-level ``Server`` with the tool list
and tool calls, and its Streamable HTTP session manager.

Imported only when the first authenticated request reaches ``/mcp`` (the SDK costs about a
second of CPU to import, which every server start and every test would otherwise pay).
"""

from __future__ import annotations

import logging
from typing import Any

import mcp_types as types
import orjson
from agentchat_client.protocol import ProtocolError
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from ..core.identity import Identity
from .calls import ChatTools
from .endpoint import IDENTITY_KEY
from .tools import ToolRefused, ToolSpec, check_arguments, tools_for

__all__ = ["INSTRUCTIONS", "session_manager"]

log = logging.getLogger(__name__)

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


def session_manager(tools: ChatTools) -> StreamableHTTPSessionManager:
    """The SDK's session manager for ``tools``: stateless, JSON responses (see ``endpoint``)."""

    async def list_tools(ctx: ServerRequestContext[Any, Any],
                         params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[_tool(spec) for spec in tools_for(_caller(ctx).role)])

    async def call_tool(ctx: ServerRequestContext[Any, Any],
                        params: types.CallToolRequestParams) -> types.CallToolResult:
        try:
            who = _caller(ctx)
            args = check_arguments(params.name, who.role, params.arguments)
            result = await getattr(tools, params.name)(who, args)
        except ToolRefused as exc:
            return _failure(str(exc))
        except ProtocolError as exc:
            return _failure(f"{exc.code.value}: {exc.message}")
        except Exception:
            log.exception("MCP tool %s failed", params.name)
            return _failure("Something went wrong on the server; please try again.")
        return _success(result)

    server: Server[Any] = Server("agentchat", title="AgentChat", instructions=INSTRUCTIONS,
                                 on_list_tools=list_tools, on_call_tool=call_tool)
    sdk_log = logging.getLogger("mcp.server.streamable_http")
    if sdk_log.level == logging.NOTSET:  # one "Terminating session: None" per request is noise
        sdk_log.setLevel(logging.WARNING)
    return StreamableHTTPSessionManager(server, stateless=True, json_response=True)
