"""The pure parts of MCP tools: the ``mcp_servers`` table, tool conversion and names, results,
and the encrypted store of people's tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mcp_types
import pytest

from server.accounts.tool_tokens import ToolTokens, mask
from server.agents.config import ConfigError, parse_agents
from server.agents.llm import LLMAgent
from server.agents.mcp_tools import expose, from_listing, result_text, user_meta
from server.core.mcp_servers import parse_mcp_servers
from server.settings import Settings


def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, jwt_secret="x" * 32, builtin_agents=[])


def test_servers_follow_the_mcpServers_convention() -> None:
    servers = parse_mcp_servers({"mcp_servers": {
        "files": {"command": "npx", "args": ["-y", "server-files", "/srv"], "env": {"DEBUG": "1"}},
        "github": {"url": "https://mcp.example.com/mcp", "headers": {"X-Org": "acme"}, "per_user": True,
                   "timeout": 10, "description": "GitHub"},
    }})
    assert servers["files"].transport == "stdio" and servers["files"].args == ("-y", "server-files", "/srv")
    assert servers["files"].env == {"DEBUG": "1"} and not servers["files"].per_user
    assert servers["github"].transport == "http" and servers["github"].per_user and servers["github"].timeout == 10
    assert parse_mcp_servers({"mcpServers": {"a": {"url": "http://x/mcp"}}})["a"].url == "http://x/mcp"
    assert parse_mcp_servers({"agents": []}) == {}


@pytest.mark.parametrize(("entry", "says"), [
    ({}, "either 'command'"),
    ({"command": "x", "url": "http://x"}, "either 'command'"),
    ({"url": "ftp://x"}, "http:// or https://"),
    ({"command": "x", "per_user": True}, "'per_user' needs an HTTP server"),
    ({"url": "http://x", "env": {"A": "1"}}, "for stdio servers"),
    ({"command": "x", "headers": {"A": "1"}}, "for HTTP servers"),
    ({"command": "x", "args": "a b"}, "'args' is a list"),
    ({"url": "http://x", "headers": {"A": 1}}, "'headers' is a table of text"),
    ({"url": "http://x", "timeout": 0}, "'timeout'"),
    ({"url": "http://x", "per_user": "yes"}, "'per_user' is true or false"),
    ({"url": "http://x", "token": "t"}, "unknown field(s) token"),
])
def test_bad_server_entries_are_named(entry: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match="mcp_servers.s") as info:
        parse_mcp_servers({"mcp_servers": {"s": entry}})
    assert says in str(info.value)


def test_llm_agents_name_their_servers(tmp_path: Path) -> None:
    data = {"mcp_servers": {"files": {"command": "npx"}},
            "agents": [{"name": "ops", "model": "m", "mcp_servers": ["files"]}, {"name": "plain", "model": "m"}]}
    ops, plain = parse_agents(data, settings(tmp_path))
    assert isinstance(ops, LLMAgent) and ops.mcp is not None and [s.name for s in ops.mcp.specs] == ["files"]
    assert isinstance(plain, LLMAgent) and plain.mcp is None
    with pytest.raises(ConfigError, match=r"agent 'ops': mcp_servers names nope, which the mcp_servers table "
                                          r"does not define \(files\)"):
        parse_agents({**data, "agents": [{"name": "ops", "model": "m", "mcp_servers": ["nope"]}]}, settings(tmp_path))
    with pytest.raises(ConfigError, match="'mcp_servers' is a list of names"):
        parse_agents({**data, "agents": [{"name": "ops", "model": "m", "mcp_servers": "files"}]}, settings(tmp_path))
    with pytest.raises(ConfigError, match="mcp_servers.files: 'command' must be"):
        parse_agents({"mcp_servers": {"files": {"command": ""}}, "agents": []}, settings(tmp_path))


def test_listed_tools_become_model_tools_with_unique_names() -> None:
    listed = [mcp_types.Tool(name="search", description="Find things", input_schema={
        "type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"], "title": "searchArguments"}),
        mcp_types.Tool(name="drop table", input_schema={"type": "object"},
                       annotations=mcp_types.ToolAnnotations(destructive_hint=True))]
    a = from_listing("a", listed)
    assert a[0].input_schema == {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    assert not a[0].destructive and a[1].destructive
    b = from_listing("b", [mcp_types.Tool(name="search", input_schema={"type": "object"})])
    exposed = expose({"a": a, "b": b}, taken=["drop_table"])
    assert [(t.server, t.offered_name) for t in exposed] == [("a", "a__search"), ("a", "a__drop_table"),
                                                             ("b", "b__search")]
    assert [t.offered_name for t in expose({"a": a})] == ["search", "drop_table"]


def test_results_become_text_for_the_model() -> None:
    ok = mcp_types.CallToolResult(content=[mcp_types.TextContent(type="text", text="42 rows")])
    assert result_text(ok) == ("42 rows", False)
    failed = mcp_types.CallToolResult(content=[mcp_types.TextContent(type="text", text="no such table")], is_error=True)
    assert result_text(failed) == ("no such table", True)
    structured = mcp_types.CallToolResult(content=[], structured_content={"n": 1})
    assert result_text(structured) == ('{"n": 1}', False)
    assert user_meta("alice") == {"agentchat/userId": "alice"} and user_meta(None) is None


def test_tokens_are_encrypted_at_rest_and_listed_masked(tmp_path: Path) -> None:
    tokens = ToolTokens(tmp_path)
    hint = tokens.set("alice", "github", "ghp_secret_value_1234")
    assert hint.hint == "••••1234" and mask("short") == "••••"
    assert tokens.get("alice", "github") == "ghp_secret_value_1234"
    assert tokens.get("bob", "github") is None
    assert "ghp_secret" not in (tmp_path / "mcp_tokens.json").read_text()
    assert (tmp_path / "mcp_tokens.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "mcp_tokens.json").stat().st_mode & 0o777 == 0o600
    assert [(h.server, h.hint) for h in ToolTokens(tmp_path).listing("alice")] == [("github", "••••1234")]
    with pytest.raises(ValueError):
        tokens.set("alice", "github", "two\nlines")
    assert tokens.clear("alice", "github") and not tokens.clear("alice", "github")
    assert tokens.listing("alice") == [] and tokens.get("alice", "github") is None


@pytest.mark.asyncio
async def test_a_person_without_a_token_gets_a_note_when_the_server_lists_nothing(tmp_path: Path) -> None:
    from server.agents.mcp_sessions import McpLink, McpToolbox
    from server.agents.mcp_tools import missing_token_message
    from server.core.mcp_servers import McpServerSpec

    spec = McpServerSpec("tracker", url="http://127.0.0.1:9/mcp", per_user=True)
    toolbox = McpToolbox([spec])
    toolbox.links = [McpLink(spec, ToolTokens(tmp_path))]
    toolbox.links[0].listed.set()  # listed nothing without a token
    tools, notes = await toolbox.tools_for("carol")
    assert tools == [] and notes == [missing_token_message("carol", "tracker")]
    assert "Add one on the Settings page (/settings)" in notes[0]
