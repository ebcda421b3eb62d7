"""The agents config file (``AGENTCHAT_AGENTS_CONFIG``): TOML or JSON, a list of agents.

Each entry is either an LLM agent (``model`` + ``system_prompt``, optionally ``tools``: Python
functions it may call) or Python code (``entry = "package.module:attr"``): an ``Agent`` subclass,
or a TelegramManager-era factory called with the manager.  A top-level ``[tool_policies.<agent>]``
table says, per tool, ``ask`` / ``allow`` / ``deny`` and who approves.  A top-level
``[mcp_servers.<name>]`` table lists MCP servers (``core.mcp_servers``); an LLM agent's
``mcp_servers = ["name", ...]`` gives it their tools.  A mistake stops the server with the file,
the entry and the field named.
"""

from __future__ import annotations

import importlib
import json
import os
import tomllib
from pathlib import Path
from typing import Any

from agentchat_client.protocol import is_valid_username
from agentchat_client.runs import Policies, Tool
from ..core.mcp_servers import McpServerSpec, parse_mcp_servers
from ..settings import Settings
from .base import Agent
from .errors import ConfigError
from .llm import LLMAgent, LLMSpec
from .host import TelegramAgent
from .mcp_sessions import McpToolbox

__all__ = ["ConfigError", "load_agents", "parse_agents", "load_tool_policies", "parse_tool_policies",
           "load_mcp_servers", "mcp_servers_of"]

LLM_FIELDS = {"name", "model", "system_prompt", "description", "base_url", "api_key", "api_key_env",
              "temperature", "max_tokens", "context_messages", "timeout", "tools", "max_tool_rounds",
              "mcp_servers"}
CODE_FIELDS = {"name", "entry", "description", "role"}


def _read(path: Path) -> Any:
    try:
        raw = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(f"AGENTCHAT_AGENTS_CONFIG: cannot read {path}: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(raw) if path.suffix.lower() != ".json" else json.loads(raw)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'TOML'}: {exc}") from None


def load_agents(path: Path, settings: Settings) -> list[Agent | TelegramAgent]:
    return parse_agents(_read(path), settings, str(path))


def load_tool_policies(path: Path) -> dict[str, Policies]:
    return parse_tool_policies(_read(path), str(path))


def load_mcp_servers(path: Path) -> dict[str, McpServerSpec]:
    """The ``mcp_servers`` of the file (the HTTP API lists the per-user ones for the settings page)."""
    return mcp_servers_of(_read(path), str(path))


def mcp_servers_of(data: Any, where: str = "agents config") -> dict[str, McpServerSpec]:
    try:
        return parse_mcp_servers(data, where)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def parse_tool_policies(data: Any, where: str = "agents config") -> dict[str, Policies]:
    """``[tool_policies.<agent>]``: tool name (or ``"*"``) -> ``"ask"`` | ``"allow"`` | ``"deny"`` or
    ``{policy = "ask", approve = {...}, expires_in_seconds = 600}``."""
    table = data.get("tool_policies") if isinstance(data, dict) else None
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: tool_policies must be a table of agent name -> table of tool -> policy")
    policies: dict[str, Policies] = {}
    for agent, tools in table.items():
        try:
            policies[str(agent)] = Policies.parse(tools, f"tool_policies.{agent}")
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return policies


def parse_agents(data: Any, settings: Settings, where: str = "agents config") -> list[Agent | TelegramAgent]:
    entries = data.get("agents") if isinstance(data, dict) else data
    if entries is None and isinstance(data, dict) and ({"tool_policies", "mcp_servers", "mcpServers"} & set(data)):
        entries = []  # a file that only sets tool policies or MCP servers (no agents of its own)
    servers = mcp_servers_of(data, where)
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: expected a list of agents (TOML: [[agents]] tables; JSON: {{\"agents\": [...]}})")
    agents: list[Agent | TelegramAgent] = []
    for index, entry in enumerate(entries):
        label = f"{where}: agents[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{label}: each agent is a table/object")
        name = entry.get("name")
        if not isinstance(name, str) or not is_valid_username(name):
            raise ConfigError(f"{label}: 'name' must be a user name (letters, digits, _ and -, up to 32)")
        label = f"{where}: agent {name!r}"
        if "entry" in entry:
            agents.append(_code_agent(entry, label))
        else:
            agents.append(LLMAgent(_llm_spec(entry, settings, label), _tools(entry.get("tools"), label),
                                   _mcp(entry.get("mcp_servers"), servers, label)))
    return agents


def _tools(value: Any, label: str) -> list[Tool]:
    """``tools = ["package.module:function", ...]``: Python functions (or ``@tool`` objects) a model may call."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and ":" in v for v in value):
        raise ConfigError(f"{label}: 'tools' is a list of \"package.module:function\"")
    tools: list[Tool] = []
    for target in value:
        module_name, _, attr = target.partition(":")
        try:
            obj = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"{label}: cannot load tool {target}: {exc}") from None
        if not callable(obj) and not isinstance(obj, Tool):
            raise ConfigError(f"{label}: tool {target} is not a function")
        tools.append(obj if isinstance(obj, Tool) else Tool.from_function(obj))
    names = [t.name for t in tools]
    if len(set(names)) != len(names):
        raise ConfigError(f"{label}: two tools share a name ({', '.join(sorted(n for n in set(names) if names.count(n) > 1))})")
    return tools


def _mcp(value: Any, servers: dict[str, McpServerSpec], label: str) -> McpToolbox | None:
    """``mcp_servers = ["name", ...]``: servers of the top-level ``mcp_servers`` table."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{label}: 'mcp_servers' is a list of names from the top-level mcp_servers table")
    unknown = [v for v in value if v not in servers]
    if unknown:
        known = ", ".join(sorted(servers)) or "none are defined"
        raise ConfigError(f"{label}: mcp_servers names {', '.join(unknown)}, which the mcp_servers table does not "
                          f"define ({known})")
    if len(set(value)) != len(value):
        raise ConfigError(f"{label}: mcp_servers names a server twice")
    return McpToolbox([servers[v] for v in value]) if value else None


def _check_fields(entry: dict[str, Any], allowed: set[str], label: str) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ConfigError(f"{label}: unknown field(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")


def _llm_spec(entry: dict[str, Any], settings: Settings, label: str) -> LLMSpec:
    _check_fields(entry, LLM_FIELDS, label)
    model = entry.get("model")
    if not isinstance(model, str) or not model:
        raise ConfigError(f"{label}: 'model' is required (e.g. \"llama3.1\" or \"gpt-4o-mini\"), or give 'entry' for Python code")
    prompt = entry.get("system_prompt", "You are a helpful assistant.")
    if not isinstance(prompt, str):
        raise ConfigError(f"{label}: 'system_prompt' must be text")
    api_key = entry.get("api_key", settings.llm_api_key)
    if "api_key_env" in entry:
        api_key = os.environ.get(str(entry["api_key_env"]), "")
    try:
        return LLMSpec(
            name=entry["name"],
            model=model,
            system_prompt=prompt,
            description=str(entry.get("description", "")),
            base_url=str(entry.get("base_url", settings.llm_base_url)),
            api_key=str(api_key),
            temperature=None if entry.get("temperature") is None else float(entry["temperature"]),
            max_tokens=None if entry.get("max_tokens") is None else int(entry["max_tokens"]),
            context_messages=max(1, min(200, int(entry.get("context_messages", 20)))),
            timeout=float(entry.get("timeout", 120.0)),
            max_tool_rounds=max(1, min(50, int(entry.get("max_tool_rounds", 8)))),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{label}: {exc}") from None


def _code_agent(entry: dict[str, Any], label: str) -> Agent | TelegramAgent:
    _check_fields(entry, CODE_FIELDS, label)
    target = entry["entry"]
    if not isinstance(target, str) or ":" not in target:
        raise ConfigError(f"{label}: 'entry' must look like \"package.module:ClassOrFunction\"")
    module_name, _, attr = target.partition(":")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{label}: cannot load {target}: {exc}") from None
    name, description = entry["name"], str(entry.get("description", ""))
    if isinstance(obj, type) and issubclass(obj, Agent):
        agent = obj()
        agent.name = name
        if description:
            agent.description = description
        if "role" in entry:
            agent.role = str(entry["role"])
        return agent
    if not callable(obj):
        raise ConfigError(f"{label}: {target} is neither an Agent subclass nor a callable")
    return TelegramAgent(name, description, obj, str(entry.get("role", "assistant")))
