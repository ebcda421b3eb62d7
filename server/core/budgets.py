"""Daily budgets the server enforces: which apply, when one is spent, when to warn, when it resets.

A budget is per person (everything the agents spent answering them) or per agent (everything it
spent, for anyone), in US dollars and/or tokens per UTC day.  Once a budget is spent the next
request is refused before the model is called; a request that crosses ``soft_fraction`` (80 %
by default) gets a notice in the chat.  The day is the UTC day: every budget resets at 00:00 UTC.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from .costs import usd_text

__all__ = ["Limit", "Budget", "Budgets", "Spent", "parse_budgets", "usage_day", "seconds_until_reset",
           "is_spent", "spent_fraction", "crossed_soft", "first_spent", "refusal_text", "budget_error_text",
           "soft_notice_text"]

LIMIT_FIELDS = ("usd_per_day", "tokens_per_day")
TOP_FIELDS = ("per_person_usd_per_day", "per_person_tokens_per_day", "soft_percent", "people", "agents")


@dataclass(frozen=True, slots=True)
class Limit:
    usd_per_day: float | None = None
    tokens_per_day: int | None = None


@dataclass(frozen=True, slots=True)
class Budget:
    """One budget that applies to a request: whose, and its limit."""

    scope: Literal["person", "agent"]
    subject: str
    limit: Limit

    @property
    def label(self) -> str:
        return f"{self.subject}'s daily budget" if self.scope == "person" else f"@{self.subject}'s daily budget"


@dataclass(frozen=True, slots=True)
class Spent:
    usd: float = 0.0
    tokens: int = 0

    def plus(self, usd: float, tokens: int) -> Spent:
        return Spent(self.usd + usd, self.tokens + tokens)

    def minus(self, usd: float, tokens: int) -> Spent:
        return Spent(max(0.0, self.usd - usd), max(0, self.tokens - tokens))


@dataclass(frozen=True, slots=True)
class Budgets:
    """``[budgets]`` of the agents config."""

    per_person: Limit | None = None
    people: Mapping[str, Limit] = field(default_factory=dict)
    agents: Mapping[str, Limit] = field(default_factory=dict)
    soft_fraction: float = 0.8

    def applying(self, agent: str, person: str | None) -> list[Budget]:
        """The budgets a request of ``person`` to ``agent`` counts against (the agent's first)."""
        found: list[Budget] = []
        if agent in self.agents:
            found.append(Budget("agent", agent, self.agents[agent]))
        person_limit = self.people.get(person, self.per_person) if person else None
        if person and person_limit is not None:
            found.append(Budget("person", person, person_limit))
        return found


def usage_day(moment: datetime) -> str:
    """The UTC day a call counts on, ``YYYY-MM-DD``."""
    return moment.astimezone(UTC).date().isoformat()


def seconds_until_reset(now: datetime) -> float:
    """Seconds until the next 00:00 UTC, when every daily budget starts again (never 0)."""
    now = now.astimezone(UTC)
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    return max(1.0, math.ceil((midnight - now).total_seconds()))


def spent_fraction(spent: Spent, limit: Limit) -> float:
    """How much of the limit is used (the larger of dollars and tokens); a limit of 0 is all used."""
    parts = []
    if limit.usd_per_day is not None:
        parts.append(math.inf if limit.usd_per_day == 0 else spent.usd / limit.usd_per_day)
    if limit.tokens_per_day is not None:
        parts.append(math.inf if limit.tokens_per_day == 0 else spent.tokens / limit.tokens_per_day)
    return max(parts, default=0.0)


def is_spent(spent: Spent, limit: Limit) -> bool:
    return spent_fraction(spent, limit) >= 1.0


def crossed_soft(before: Spent, after: Spent, limit: Limit, soft_fraction: float) -> bool:
    """True for the one call that moved the budget over the soft threshold (once a day)."""
    return spent_fraction(before, limit) < soft_fraction <= spent_fraction(after, limit)


def first_spent(checks: Iterable[tuple[Budget, Spent]]) -> tuple[Budget, Spent] | None:
    """The first budget that is spent, with what was spent; None when the request may go ahead."""
    for budget, spent in checks:
        if is_spent(spent, budget.limit):
            return budget, spent
    return None


def _duration(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _limit_text(limit: Limit) -> str:
    parts = []
    if limit.usd_per_day is not None:
        parts.append(usd_text(limit.usd_per_day))
    if limit.tokens_per_day is not None:
        parts.append(f"{limit.tokens_per_day:,} tokens")
    return " / ".join(parts)


def refusal_text(budget: Budget, retry_after: float) -> str:
    """What the room reads when a request is refused."""
    return (f"{budget.label} ({_limit_text(budget.limit)}) is spent, so I did not call the model. "
            f"It resets at 00:00 UTC, in {_duration(retry_after)}.")


def budget_error_text(budget: Budget, agent: str, retry_after: float) -> str:
    """What the asker reads in the ``BUDGET_EXCEEDED`` error."""
    return (f"@{agent} did not answer: {budget.label} ({_limit_text(budget.limit)}) is spent. "
            f"It resets at 00:00 UTC, in {_duration(retry_after)}.")


def soft_notice_text(budget: Budget, spent: Spent) -> str:
    """The notice when a budget crosses its soft threshold."""
    percent = min(999, math.floor(spent_fraction(spent, budget.limit) * 100))
    return (f"Heads-up: {percent} % of {budget.label} ({_limit_text(budget.limit)}) is spent "
            "(resets at 00:00 UTC).")


# --- config ------------------------------------------------------------------------------------


def _number(value: Any, where: str, *, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{where} must be a number, 0 or more (got {value!r})")
    if integer and not float(value).is_integer():
        raise ValueError(f"{where} must be a whole number of tokens (got {value!r})")
    return value


def _limit(entry: Any, where: str) -> Limit:
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where} must be a table with usd_per_day and/or tokens_per_day")
    unknown = sorted(set(entry) - set(LIMIT_FIELDS))
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)} (allowed: {', '.join(LIMIT_FIELDS)})")
    if not entry:
        raise ValueError(f"{where}: give usd_per_day and/or tokens_per_day")
    usd = entry.get("usd_per_day")
    tokens = entry.get("tokens_per_day")
    return Limit(None if usd is None else float(_number(usd, f"{where}.usd_per_day")),
                 None if tokens is None else int(_number(tokens, f"{where}.tokens_per_day", integer=True)))


def _limits(table: Any, where: str) -> dict[str, Limit]:
    if table is None:
        return {}
    if not isinstance(table, Mapping):
        raise ValueError(f"{where} must be a table of name -> {{ usd_per_day, tokens_per_day }}")
    return {str(name): _limit(entry, f'{where}."{name}"') for name, entry in table.items()}


def parse_budgets(table: Any, where: str = "budgets") -> Budgets:
    """``[budgets]``: ``per_person_usd_per_day``, ``per_person_tokens_per_day``, ``soft_percent``
    (80), ``[budgets.people."name"]`` and ``[budgets.agents."name"]`` with ``usd_per_day`` /
    ``tokens_per_day``.  Raises ``ValueError`` naming the field for anything else."""
    if table is None:
        return Budgets()
    if not isinstance(table, Mapping):
        raise ValueError(f"{where} must be a table")
    unknown = sorted(set(table) - set(TOP_FIELDS))
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)} (allowed: {', '.join(TOP_FIELDS)})")
    per_person = None
    if "per_person_usd_per_day" in table or "per_person_tokens_per_day" in table:
        per_person = _limit({k[len("per_person_"):]: v for k, v in table.items() if k.startswith("per_person_")},
                            f"{where}.per_person")
    soft = _number(table.get("soft_percent", 80), f"{where}.soft_percent")
    if not 0 < soft <= 100:
        raise ValueError(f"{where}.soft_percent must be more than 0 and at most 100 (got {soft!r})")
    return Budgets(per_person, _limits(table.get("people"), f"{where}.people"),
                   _limits(table.get("agents"), f"{where}.agents"), soft / 100)
