"""``[prices]`` and ``[budgets]`` of the agents config file: what each model costs and the daily
budgets the server enforces (rules in ``core.costs`` and ``core.budgets``; docs/agents.md)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..core.budgets import Budgets, parse_budgets
from ..core.costs import Price, parse_prices
from .config import _read
from .errors import ConfigError

__all__ = ["UsageRules", "load_usage_rules", "parse_usage_rules"]

UsageRules = tuple[dict[str, Price], Budgets]


def load_usage_rules(path: Path, agents: Iterable[str]) -> UsageRules:
    return parse_usage_rules(_read(path), agents, str(path))


def parse_usage_rules(data: Any, agents: Iterable[str], where: str = "agents config") -> UsageRules:
    """Prices and budgets; a budget for an agent not hosted here is a mistake (it would never apply)."""
    data = data if isinstance(data, dict) else {}
    try:
        prices = parse_prices(data.get("prices"))
        budgets = parse_budgets(data.get("budgets"))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    unknown = sorted(set(budgets.agents) - set(agents))
    if unknown:
        raise ConfigError(f"{where}: budgets.agents names {', '.join(unknown)}, which is not an agent hosted here "
                          "(budgets apply to the LLM agents of this file)")
    return prices, budgets
