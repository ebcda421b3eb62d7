"""``UsageService``: the usage ledger and the daily budgets, around the pure rules of
``core.costs`` and ``core.budgets``.

An LLM agent asks :meth:`admit` before it calls its model (a spent budget refuses the request:
the asker gets a ``BUDGET_EXCEEDED`` error, wherever they are connected) and hands every call's
usage to :meth:`record`, which prices it, stores it, and says which budgets it pushed over their
soft threshold.  The answer that ends the run carries the run's sum (:meth:`answer_usage`).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from agentchat_client.protocol import AnswerUsage, ErrorCode, MessageType, error_frame, utc_now

from ..core.budgets import Budget, Budgets, Spent, crossed_soft, first_spent, seconds_until_reset, usage_day
from ..core.costs import Price, call_cost
from ..core.events import Event
from ..store import Store, UsageRecord

__all__ = ["UsageService", "Refusal"]

log = logging.getLogger(__name__)
RUNS_REMEMBERED = 1000
"""Runs whose usage is kept for their answer; older ones (runs that never answered) are dropped."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request refused because ``budget`` is spent; it resets in ``retry_after`` seconds."""

    budget: Budget
    spent: Spent
    retry_after: float


class UsageService:
    def __init__(self, store: Store, publish: Callable[[Event], None]) -> None:
        self.store = store
        self.publish = publish
        self.prices: dict[str, Price] = {}
        self.budgets = Budgets()
        self._runs: OrderedDict[str, list[UsageRecord]] = OrderedDict()

    def configure(self, prices: dict[str, Price], budgets: Budgets) -> None:
        self.prices, self.budgets = dict(prices), budgets

    async def _spent(self, budget: Budget, day: str) -> Spent:
        if budget.scope == "agent":
            return await self.store.usage_spent(day, agent=budget.subject)
        return await self.store.usage_spent(day, person=budget.subject)

    # before the call -----------------------------------------------------------------------
    async def admit(self, agent: str, person: str | None, now: datetime | None = None) -> Refusal | None:
        """None when ``person`` may ask ``agent`` now; the spent budget otherwise."""
        now = now or utc_now()
        day = usage_day(now)
        checks = [(b, await self._spent(b, day)) for b in self.budgets.applying(agent, person)]
        found = first_spent(checks)
        return None if found is None else Refusal(found[0], found[1], seconds_until_reset(now))

    def refuse(self, person: str, refusal: Refusal, text: str) -> None:
        """Tell ``person`` (every tab, on every process) that the request was refused.  No ``ref``:
        their message itself was accepted (``ref`` names a refused frame)."""
        frame = error_frame(ErrorCode.BUDGET_EXCEEDED, text, retryAfter=refusal.retry_after)
        self.publish(Event(MessageType.ERROR, frame, target_user=person))

    # after the call ------------------------------------------------------------------------
    async def record(self, record: UsageRecord) -> list[tuple[Budget, Spent]]:
        """Price and store one call; the budgets it moved over their soft threshold (with what is
        spent now), each once a day."""
        record = replace(record, cost_usd=call_cost(self.prices.get(record.model), record.input_tokens,
                                                    record.output_tokens, record.cached_input_tokens),
                         day=record.day or usage_day(record.at))
        await self.store.add_usage(record)
        self._runs.setdefault(record.run_id, []).append(record)
        self._runs.move_to_end(record.run_id)
        while len(self._runs) > RUNS_REMEMBERED:
            self._runs.popitem(last=False)
        crossed = []
        for budget in self.budgets.applying(record.agent, record.person):
            after = await self._spent(budget, record.day)
            before = after.minus(record.cost_usd, record.total_tokens)
            if crossed_soft(before, after, budget.limit, self.budgets.soft_fraction):
                crossed.append((budget, after))
        return crossed

    def answer_usage(self, run_id: str) -> AnswerUsage | None:
        """The run's calls summed, for the answer that ends it (once: the run is forgotten)."""
        calls = self._runs.pop(run_id, None)
        if not calls:
            return None
        usage: AnswerUsage = {
            "inputTokens": sum(c.input_tokens for c in calls),
            "outputTokens": sum(c.output_tokens for c in calls),
            "totalTokens": sum(c.total_tokens for c in calls),
            "model": calls[-1].model,
            "costUsd": round(sum(c.cost_usd for c in calls), 8),
        }
        cached, reasoning = sum(c.cached_input_tokens for c in calls), sum(c.reasoning_tokens for c in calls)
        if cached:
            usage["cachedInputTokens"] = cached
        if reasoning:
            usage["reasoningTokens"] = reasoning
        return usage
