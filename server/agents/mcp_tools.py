"""MCP tools as an LLM agent offers them to its model: the pure part, no sessions.

An MCP server lists tools with a name, a description, a JSON Schema of their input and
annotations; a model takes OpenAI-style ``{"type": "function", ...}`` tools.  Names must be
unique across the agent's config tools and all its MCP servers: a name two servers share is
offered as ``<server>__<tool>`` (both of them), so a policy can still name each.  A tool whose
annotations say ``destructiveHint: true`` needs an approval (``ask``) unless the config's
``[tool_policies.<agent>]`` says otherwise; every other MCP tool runs (``allow``).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentchat_client.runs import MAX_RESULT_CHARS

__all__ = ["McpToolInfo", "USER_META_KEY", "from_listing", "expose", "result_text", "missing_token_message",
           "user_meta", "SETTINGS_PAGE"]

USER_META_KEY = "agentchat/userId"
"""The key of the asking person's user name in each call's ``_meta``."""
SETTINGS_PAGE = "/settings"
_NAME = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True, slots=True)
class McpToolInfo:
    """One tool one MCP server lists, and the name the model sees it under."""

    server: str
    name: str
    description: str = ""
    input_schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    destructive: bool = False
    exposed: str = ""

    @property
    def offered_name(self) -> str:
        return self.exposed or self.name


def _schema(value: Any) -> dict[str, Any]:
    schema = dict(value) if isinstance(value, Mapping) else {}
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    schema.pop("title", None)
    return schema


def from_listing(server: str, tools: Iterable[Any]) -> list[McpToolInfo]:
    """``tools/list`` results (``mcp_types.Tool`` objects or their dicts) as :class:`McpToolInfo`."""
    out: list[McpToolInfo] = []
    for item in tools:
        data = item.model_dump(by_alias=True) if hasattr(item, "model_dump") else dict(item)
        annotations = data.get("annotations") or {}
        destructive = isinstance(annotations, Mapping) and annotations.get("destructiveHint") is True
        name = str(data.get("name") or "")
        if not name:
            continue
        out.append(McpToolInfo(server, name, str(data.get("description") or data.get("title") or ""),
                               _schema(data.get("inputSchema")), destructive))
    return out


def _clean(name: str) -> str:
    return _NAME.sub("_", name)[:64] or "tool"


def expose(by_server: Mapping[str, Sequence[McpToolInfo]], taken: Iterable[str] = ()) -> list[McpToolInfo]:
    """Every server's tools with unique names the model may use (``taken``: the config tools')."""
    taken = set(taken)
    counts = Counter(_clean(t.name) for tools in by_server.values() for t in tools)
    out: list[McpToolInfo] = []
    for server, tools in by_server.items():
        for info in tools:
            plain = _clean(info.name)
            name = plain if counts[plain] == 1 and plain not in taken else _clean(f"{server}__{info.name}")
            if name in taken:
                continue  # a config tool of the same name wins; the model could not tell them apart
            taken.add(name)
            out.append(McpToolInfo(info.server, info.name, info.description, info.input_schema, info.destructive, name))
    return out


def result_text(result: Any) -> tuple[str, bool]:
    """A ``CallToolResult`` (object or dict) as the text the model reads, and whether it is an error."""
    data = result.model_dump(by_alias=True) if hasattr(result, "model_dump") else dict(result)
    parts: list[str] = []
    for block in data.get("content") or ():
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind == "text":
            parts.append(str(block.get("text", "")))
        elif kind == "resource":
            resource = block.get("resource") or {}
            parts.append(str(resource.get("text") or f"[resource {resource.get('uri', '')}]"))
        elif kind == "resource_link":
            parts.append(f"[link {block.get('name', '')}: {block.get('uri', '')}]")
        elif kind in ("image", "audio"):
            parts.append(f"[{kind} {block.get('mimeType', '')}]")
    text = "\n".join(p for p in parts if p)
    if not text and data.get("structuredContent") is not None:
        text = json.dumps(data["structuredContent"], ensure_ascii=False, default=str)
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + f"\n…({len(text) - MAX_RESULT_CHARS} more characters not shown)"
    return text, bool(data.get("isError"))


def missing_token_message(user: str, server: str) -> str:
    return (f"{user} has not added a token for the MCP server '{server}', and its tools run with each person's "
            f"own token. Add one on the Settings page ({SETTINGS_PAGE}), then ask again.")


def user_meta(user: str | None) -> dict[str, Any] | None:
    """The call's ``_meta``: who asked (the MCP server may log or check it)."""
    return {USER_META_KEY: user} if user else None
