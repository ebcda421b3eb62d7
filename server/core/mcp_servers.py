"""The ``mcp_servers`` table of the agents config: which MCP servers LLM agents may use.

The fields follow the widespread ``mcpServers`` convention (Claude Desktop, Cursor, VS Code):
``command`` / ``args`` / ``env`` start a server over stdio, ``url`` / ``headers`` reach one over
Streamable HTTP.  AgentChat adds ``per_user`` (each person's own token, HTTP only: a stdio
server is one process with one environment, so it cannot carry a different token per call),
``timeout`` (seconds for connecting, listing and each call) and ``description`` (shown on the
settings page).  Pure: the agents config reads the file; this checks the table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["McpServerSpec", "parse_mcp_servers", "DEFAULT_TIMEOUT", "SERVER_NAME"]

DEFAULT_TIMEOUT = 30.0
"""Seconds an MCP server gets to connect, list its tools or answer one call."""
SERVER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,48}$")
FIELDS = {"command", "args", "env", "cwd", "url", "headers", "per_user", "timeout", "description", "type"}


@dataclass(frozen=True, slots=True)
class McpServerSpec:
    """One entry of ``mcp_servers``: a stdio command or a Streamable HTTP URL."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    per_user: bool = False
    """Each call carries the asking person's own token (``Authorization: Bearer <token>``)."""
    timeout: float = DEFAULT_TIMEOUT
    description: str = ""

    @property
    def transport(self) -> str:
        return "stdio" if self.command else "http"


def _strings(value: Any, what: str, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError(f"{where}: '{what}' is a table of text values (e.g. {{ API_KEY = \"...\" }})")
    return dict(value)


def _one(name: str, entry: Any, where: str) -> McpServerSpec:
    if not SERVER_NAME.match(name):
        raise ValueError(f"{where}: the name {name!r} must be 1-48 letters, digits, _ or -")
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: each server is a table with 'command' (stdio) or 'url' (Streamable HTTP)")
    unknown = sorted(set(entry) - FIELDS)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)} (allowed: {', '.join(sorted(FIELDS))})")
    command, url = entry.get("command"), entry.get("url")
    if (command is None) == (url is None):
        raise ValueError(f"{where}: give either 'command' (a stdio server) or 'url' (a Streamable HTTP server)")
    if command is not None and (not isinstance(command, str) or not command.strip()):
        raise ValueError(f"{where}: 'command' must be the program to start, e.g. \"npx\" or \"python\"")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        raise ValueError(f"{where}: 'url' must start with http:// or https://")
    args = entry.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ValueError(f"{where}: 'args' is a list of text arguments")
    if command is not None and "headers" in entry:
        raise ValueError(f"{where}: 'headers' are for HTTP servers ('url'); a stdio server takes 'env'")
    if url is not None and ("env" in entry or "args" in entry or "cwd" in entry):
        raise ValueError(f"{where}: 'env', 'args' and 'cwd' are for stdio servers ('command'); "
                         "an HTTP server takes 'headers'")
    per_user = entry.get("per_user", False)
    if not isinstance(per_user, bool):
        raise ValueError(f"{where}: 'per_user' is true or false")
    if per_user and command is not None:
        raise ValueError(f"{where}: 'per_user' needs an HTTP server ('url'): a stdio server is one process with one "
                         "environment, so it cannot carry each person's own token")
    timeout = entry.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
        raise ValueError(f"{where}: 'timeout' is a number of seconds from 0 to 600")
    kind = entry.get("type")
    if kind is not None and kind not in ("stdio", "http", "streamable-http", "streamableHttp"):
        raise ValueError(f"{where}: 'type' is \"stdio\" or \"http\" (or leave it out)")
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise ValueError(f"{where}: 'description' must be text")
    cwd = entry.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise ValueError(f"{where}: 'cwd' must be a directory path")
    return McpServerSpec(name=name, command=command, args=tuple(args), env=_strings(entry.get("env"), "env", where),
                         cwd=cwd, url=url, headers=_strings(entry.get("headers"), "headers", where),
                         per_user=per_user, timeout=float(timeout), description=description)


def parse_mcp_servers(data: Any, where: str = "agents config") -> dict[str, McpServerSpec]:
    """The top-level ``mcp_servers`` table (JSON: an object; ``mcpServers`` is accepted too)."""
    if not isinstance(data, Mapping):
        return {}
    table = data.get("mcp_servers", data.get("mcpServers"))
    if table is None:
        return {}
    if not isinstance(table, Mapping):
        raise ValueError(f"{where}: mcp_servers must be a table of server name -> server")
    return {str(name): _one(str(name), entry, f"{where}: mcp_servers.{name}") for name, entry in table.items()}
