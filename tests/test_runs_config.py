"""Tool policies in the agents config: parsed, checked against each agent's tools, applied."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentchat_client.runs import DEFAULT_APPROVERS, Policies, Tool, ToolPolicy, tool
from server.agents import AgentManager
from server.agents.config import ConfigError, load_agents, load_tool_policies
from server.agents.llm import LLMAgent
from server.settings import Settings


def test_policies_parse_with_clear_mistakes() -> None:
    policies = Policies.parse({
        "deploy": {"policy": "ask", "approve": {"users": ["alice", "bob"], "quorum": 2}, "expires_in_seconds": 60},
        "read": "allow",
        "*": "deny",
    })
    assert policies.for_tool("deploy") == ToolPolicy("ask", {"users": ["alice", "bob"], "quorum": 2}, 60.0)
    assert policies.for_tool("read").action == "allow" and policies.for_tool("other").action == "deny"
    for bad, message in [
        ({"x": "maybe"}, "ask, allow or deny"),
        ({"x": {"policy": "ask", "approve": {"role": "viewer"}}}, "approve must be"),
        ({"x": {"policy": "ask", "approve": {"users": ["a"], "quorum": 2}}}, "more than the 1 people"),
        ({"x": {"policy": "ask", "expires_in_seconds": 0}}, "expires_in_seconds"),
        ({"x": {"policy": "ask", "who": "me"}}, r"unknown field\(s\) who"),
    ]:
        with pytest.raises(ValueError, match=message):
            Policies.parse(bad)


def test_defaults_changes_ask_reads_run_and_authors_may_choose() -> None:
    empty = Policies()
    assert empty.for_tool("x", Tool("x", changes=True)).action == "ask"
    assert empty.for_tool("x", Tool("x", changes=False)).action == "allow"
    assert empty.for_tool("x", Tool("x", changes=True, policy=ToolPolicy("allow"))).action == "allow"
    assert Policies.parse({"x": "ask"}).for_tool("x", Tool("x", changes=False)).action == "ask", "config wins"
    assert ToolPolicy("ask").approvers("alice") == DEFAULT_APPROVERS
    assert ToolPolicy("ask", "requester").approvers("alice") == {"user": "alice"}

    @tool(changes=False)
    def peek(path: str, depth: int = 1) -> str:
        """Look at a path."""
        return path

    assert peek.changes is False and peek.description == "Look at a path."
    assert peek.parameters["required"] == ["path"] and peek.parameters["properties"]["depth"]["default"] == 1
    assert Tool.from_function(lambda service: service).changes is True, "a plain function asks"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agents.toml"
    path.write_text(text)
    return path


def test_config_tools_and_tool_policies(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, llm_base_url="http://llm/v1")
    path = write(tmp_path, '[[agents]]\nname = "ops"\nmodel = "m"\n'
                           'tools = ["tests.test_runs_llm:disk_usage", "tests.test_runs_llm:restart_service"]\n'
                           '[tool_policies.ops]\nrestart_service = { policy = "ask", approve = { role = "admin" } }\n')
    (ops,) = load_agents(path, settings)
    assert isinstance(ops, LLMAgent) and [t.name for t in ops.tools] == ["disk_usage", "restart_service"]
    assert load_tool_policies(path)["ops"].for_tool("restart_service").approve == {"role": "admin"}

    for text, message in [
        ('[[agents]]\nname = "x"\nmodel = "m"\ntools = ["nowhere:thing"]\n', "cannot load tool nowhere:thing"),
        ('[[agents]]\nname = "x"\nmodel = "m"\ntools = "tests.test_runs_llm:disk_usage"\n', "'tools' is a list"),
    ]:
        with pytest.raises(ConfigError, match=message):
            load_agents(write(tmp_path, text), settings)
    only_policies = write(tmp_path, '[tool_policies.x]\ndeploy = "sometimes"\n')
    assert load_agents(only_policies, settings) == [], "a file may set only policies"
    with pytest.raises(ConfigError, match="tool_policies.x.deploy"):
        load_tool_policies(only_policies)


def test_a_policy_for_a_tool_an_agent_lacks_stops_the_server(tmp_path: Path) -> None:
    config = write(tmp_path, '[tool_policies.tasks]\ndelete_taks = "ask"\n')
    settings = Settings(data_dir=tmp_path, agents_config=config, builtin_agents=["tasks"])
    with pytest.raises(ConfigError, match="tasks has no tool delete_taks"):
        AgentManager(_FakeManager(), settings)
    write(tmp_path, '[tool_policies.tasks]\ndelete_task = { policy = "ask", approve = "requester" }\n')
    agents = AgentManager(_FakeManager(), settings)
    assert agents.agents["tasks"].policies.for_tool("delete_task").approve == "requester"


class _FakeManager:
    """Only what adding agents needs (binding); the manager's own tests use a real server."""

    hub = None
