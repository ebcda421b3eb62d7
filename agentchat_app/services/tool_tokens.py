"""A person's own tokens for the per-user MCP servers, as /settings asks the server for them.

``GET/PUT/DELETE /api/me/mcp-tokens``: the server answers with masked hints only, so a token,
once saved, never comes back to the browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from . import companion

__all__ = ["ToolServer", "list_servers", "save_token", "clear_token"]


@dataclass(frozen=True)
class ToolServer:
    name: str
    description: str
    has_token: bool
    hint: str
    updated_at: str


def _server(body: dict[str, Any]) -> ToolServer:
    return ToolServer(str(body["name"]), str(body.get("description") or ""), bool(body.get("hasToken")),
                      str(body.get("hint") or ""), str(body.get("updatedAt") or ""))


async def list_servers(token: str) -> list[ToolServer]:
    body = await (await companion.api()).request("GET", "/api/me/mcp-tokens", token=token)
    return [_server(s) for s in body["servers"]]


async def save_token(token: str, server: str, value: str) -> ToolServer:
    return _server(await (await companion.api()).request("PUT", f"/api/me/mcp-tokens/{quote(server, safe='')}",
                                                         token=token, json={"token": value}))


async def clear_token(token: str, server: str) -> ToolServer:
    return _server(await (await companion.api()).request("DELETE", f"/api/me/mcp-tokens/{quote(server, safe='')}",
                                                         token=token))
