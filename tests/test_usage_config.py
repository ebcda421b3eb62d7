"""``[prices]`` and ``[budgets]`` in the agents config: read at start, mistakes stop the server
with the file and the field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.agents import AgentManager
from server.agents.config import ConfigError
from server.core.budgets import Limit
from server.core.costs import Price
from server.settings import Settings

AGENT = '[[agents]]\nname = "writer"\nmodel = "gpt-x"\n'


def manager_for(tmp_path: Path, text: str) -> AgentManager:
    config = tmp_path / "agents.toml"
    config.write_text(text)
    settings = Settings(data_dir=tmp_path, agents_config=config, builtin_agents=[], llm_base_url="http://llm/v1")
    return AgentManager(object(), settings)  # type: ignore[arg-type]  # only the config is read here


def test_prices_and_budgets_are_read(tmp_path: Path) -> None:
    manager = manager_for(tmp_path, AGENT + '[prices."gpt-x"]\ninput_per_million = 0.15\noutput_per_million = 0.6\n'
                                            '[budgets]\nper_person_usd_per_day = 1.5\n'
                                            '[budgets.agents.writer]\ntokens_per_day = 200000\n')
    prices, budgets = manager.usage_rules
    assert prices == {"gpt-x": Price(0.15, 0.6)}
    assert budgets.per_person == Limit(1.5) and budgets.agents == {"writer": Limit(None, 200_000)}


@pytest.mark.parametrize("text, words", [
    ('[prices."gpt-x"]\ninput_per_million = "cheap"\noutput_per_million = 1\n',
     "prices.\"gpt-x\".input_per_million must be a number of US dollars per million tokens"),
    ('[prices."gpt-x"]\ninput_per_million = 1\n', 'prices."gpt-x": output_per_million is required'),
    ("[budgets]\nper_person_usd_per_day = -1\n", "budgets.per_person.usd_per_day must be a number, 0 or more"),
    ("[budgets]\ndaily = 3\n", "budgets: unknown field(s) daily"),
    ('[budgets.agents."ghost"]\nusd_per_day = 1\n', "budgets.agents names ghost, which is not an agent hosted here"),
])
def test_mistakes_name_the_file_and_the_field(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        manager_for(tmp_path, AGENT + text)
    assert "agents.toml" in str(caught.value) and words in str(caught.value)
