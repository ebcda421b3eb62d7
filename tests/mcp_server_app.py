"""A real MCP server for the tests, built with the official SDK (``MCPServer``, FastMCP's 2.x name).

``python -m tests.mcp_server_app stdio`` serves it over stdin/stdout; ``build().streamable_http_app()``
under uvicorn serves it over Streamable HTTP.  Its tools record who called them: the
``Authorization`` header (HTTP only) and the caller's ``_meta`` ``agentchat/userId``.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ToolAnnotations

CALLS: list[dict[str, Any]] = []
"""Every call this process served: tool, arguments, Authorization header, ``_meta`` user id."""


def _record(ctx: Context, tool: str, **args: Any) -> dict[str, Any]:
    headers = ctx.headers or {}
    meta = ctx.request_context.meta
    user = None
    if meta is not None:
        extra = meta if isinstance(meta, dict) else meta.model_dump(by_alias=True)
        user = extra.get("agentchat/userId")
    entry = {"tool": tool, "args": args, "authorization": headers.get("authorization"), "user": user}
    CALLS.append(entry)
    return entry


def build() -> MCPServer:
    server = MCPServer("agentchat-test-tools")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    async def add(a: int, b: int, ctx: Context) -> str:
        """Add two whole numbers."""
        _record(ctx, "add", a=a, b=b)
        return f"{a} + {b} = {a + b}"

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    async def whoami(ctx: Context) -> str:
        """Say which token and user the call carried."""
        entry = _record(ctx, "whoami")
        return f"authorization={entry['authorization']} user={entry['user']}"

    @server.tool(annotations=ToolAnnotations(destructive_hint=True))
    async def delete_file(path: str, ctx: Context) -> str:
        """Delete a file (destructive: asks first)."""
        _record(ctx, "delete_file", path=path)
        return f"deleted {path}"

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    async def slow(seconds: float, ctx: Context) -> str:
        """Wait, then answer (for timeouts)."""
        _record(ctx, "slow", seconds=seconds)
        await asyncio.sleep(seconds)
        return "finally"

    @server.tool()
    async def learn_trick(ctx: Context) -> str:
        """Add a tool named ``trick`` and tell listeners the tool list changed."""
        _record(ctx, "learn_trick")

        def trick() -> str:
            """A tool that appears at run time."""
            return "ta-da"

        server.add_tool(trick, annotations=ToolAnnotations(read_only_hint=True))
        if ctx.protocol_version and ctx.protocol_version >= "2026":
            await ctx.notify_tools_changed()  # to subscriptions/listen streams
        else:
            await ctx.session.send_tool_list_changed()  # an initialize-era session: a plain notification
        return "learned trick"

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    async def calls(ctx: Context) -> list[dict[str, Any]]:
        """The calls served so far (for the tests)."""
        return list(CALLS)

    return server


if __name__ == "__main__":
    build().run("stdio" if len(sys.argv) < 2 else sys.argv[1])  # type: ignore[call-overload]
