"""The agents config file: TOML and JSON, LLM and Python entries, and clear mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.agents import Agent, TelegramAgent
from server.agents.builtin import HelperAgent
from server.agents.config import ConfigError, load_agents
from server.agents.llm import LLMAgent
from server.settings import Settings


def test_config_file_formats_and_mistakes(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, llm_base_url="http://llm/v1")
    toml = tmp_path / "agents.toml"
    toml.write_text('[[agents]]\nname = "critic"\nmodel = "llama3.1"\nsystem_prompt = "Be blunt."\ntemperature = 0.2\n')
    (agent,) = load_agents(toml, settings)
    assert isinstance(agent, LLMAgent)
    assert agent.name == "critic" and agent.spec.base_url == "http://llm/v1" and agent.spec.temperature == 0.2

    for text, expected in [
        ('[[agents]]\nname = "x"\n', "'model' is required"),
        ('[[agents]]\nname = "bad name"\nmodel = "m"\n', "'name' must be a user name"),
        ('[[agents]]\nname = "x"\nmodel = "m"\nprompt = "typo"\n', "unknown field(s) prompt"),
        ('[[agents]]\nname = "x"\nentry = "nowhere.module:Thing"\n', "cannot load nowhere.module:Thing"),
        ("agents = 3\n", "expected a list of agents"),
        ("[[agents]\n", "not valid TOML"),
    ]:
        toml.write_text(text)
        with pytest.raises(ConfigError, match="agents.toml") as info:
            load_agents(toml, settings)
        assert expected in str(info.value)


def test_python_entries_json(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    path = tmp_path / "agents.json"
    path.write_text(json.dumps({"agents": [
        {"name": "guide", "entry": "server.agents.builtin:HelperAgent", "description": "Our guide"},
        {"name": "alice", "entry": "tests.test_agents_host:TelegramStyleAlice", "role": "reviewer"},
        {"name": "writer", "model": "m", "api_key_env": "AGENTCHAT_TEST_NO_SUCH_VAR"},
    ]}))
    guide, alice, writer = load_agents(path, settings)
    assert isinstance(guide, HelperAgent) and isinstance(guide, Agent)
    assert guide.name == "guide" and guide.description == "Our guide"
    assert isinstance(alice, TelegramAgent) and alice.role == "reviewer"
    assert isinstance(writer, LLMAgent) and writer.spec.api_key == ""

    path.write_text(json.dumps({"agents": [{"name": "x", "entry": "json:loads_nothing"}]}))
    with pytest.raises(ConfigError, match="cannot load json:loads_nothing"):
        load_agents(path, settings)
    path.write_text(json.dumps([{"name": "x", "entry": "json"}]))
    with pytest.raises(ConfigError, match="package.module:ClassOrFunction"):
        load_agents(path, settings)
    with pytest.raises(ConfigError, match="cannot read"):
        load_agents(tmp_path / "nope.toml", settings)


def test_agent_set_up_mistakes_name_the_setting(tmp_path: Path) -> None:
    from server.agents import AgentManager
    from server.websocket_manager import WebSocketManager

    settings = Settings(data_dir=tmp_path, builtin_agents=["helper", "butler"])
    with pytest.raises(ConfigError, match="AGENTCHAT_BUILTIN_AGENTS: unknown agent 'butler'"):
        AgentManager(WebSocketManager(settings=settings), settings)

    path = tmp_path / "agents.toml"
    path.write_text('[[agents]]\nname = "helper"\nmodel = "m"\n')
    settings = Settings(data_dir=tmp_path, builtin_agents=["helper"], agents_config=path)
    with pytest.raises(ConfigError, match="two agents are named 'helper'"):
        AgentManager(WebSocketManager(settings=settings), settings)

    settings = Settings(data_dir=tmp_path, builtin_agents="")
    assert AgentManager(WebSocketManager(settings=settings), settings).agents == {}
