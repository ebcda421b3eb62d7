"""Usage and budgets for agents that call a model (``LLMAgent``): the agent's side of the hub's
``UsageService``.

``admit`` runs before the first call to the model: a spent budget raises :class:`BudgetExceeded`
(the asker gets a ``BUDGET_EXCEEDED`` error, the room the agent's short notice, and the model is
never called).  ``meter`` records one finished call (tokens from the endpoint's ``usage``, time to
first token, duration) and posts the soft notice of a budget it pushed past 80 %.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, TypedDict

from agentchat_client.message import ParsedMessage
from agentchat_client.runs import Run

from ..core.budgets import budget_error_text, refusal_text, soft_notice_text
from ..store import UsageRecord
from .base import Agent, UsageError

__all__ = ["BudgetExceeded", "CallClock", "Metered", "TokenCounts", "openai_tokens"]

log = logging.getLogger(__name__)


class BudgetExceeded(UsageError):
    """A daily budget is spent: answered with a notice, the model not called."""


@dataclass(slots=True)
class CallClock:
    """When one model call started and when its first piece arrived (monotonic seconds)."""

    started: float = field(default_factory=time.monotonic)
    first: float | None = None

    def tick(self) -> None:
        if self.first is None:
            self.first = time.monotonic()

    def first_token_ms(self) -> int | None:
        return None if self.first is None else round((self.first - self.started) * 1000)

    def duration_ms(self) -> int:
        return round((time.monotonic() - self.started) * 1000)


class TokenCounts(TypedDict):
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    reasoning_tokens: int | None
    cached_input_tokens: int | None


def openai_tokens(usage: dict[str, Any]) -> TokenCounts:
    """An OpenAI-style ``usage`` object as AG-UI ``TokenUsage`` fields (None where it says nothing)."""

    def number(value: Any) -> int | None:
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

    completion = usage.get("completion_tokens_details")
    prompt = usage.get("prompt_tokens_details")
    completion = completion if isinstance(completion, dict) else {}
    prompt = prompt if isinstance(prompt, dict) else {}
    return {"input_tokens": number(usage.get("prompt_tokens")), "output_tokens": number(usage.get("completion_tokens")),
            "total_tokens": number(usage.get("total_tokens")),
            "reasoning_tokens": number(completion.get("reasoning_tokens")),
            "cached_input_tokens": number(prompt.get("cached_tokens"))}


class Metered(Agent):
    """An agent whose model calls are metered and whose requests obey the budgets."""

    async def admit(self, msg: ParsedMessage) -> None:
        """Refuse the request (before any model call) when a budget that applies is spent."""
        hub = self.manager.hub
        if hub is None:
            return
        refusal = await hub.usage.admit(self.name, msg.sender)
        if refusal is None:
            return
        hub.usage.refuse(msg.sender, refusal, budget_error_text(refusal.budget, self.name, refusal.retry_after))
        raise BudgetExceeded(refusal_text(refusal.budget, refusal.retry_after))

    async def meter(self, run: Run, model: str, usage: dict[str, Any] | None, clock: CallClock) -> None:
        """Record one call in the ledger; a budget it moved past the soft threshold gets a notice."""
        hub = self.manager.hub
        if hub is None or not usage:
            return  # an endpoint that reports no usage is not counted
        tokens = openai_tokens(usage)
        record = UsageRecord(run.run_id, self.name, run.requester, run.room_id, model,
                             input_tokens=tokens["input_tokens"] or 0, output_tokens=tokens["output_tokens"] or 0,
                             cached_input_tokens=tokens["cached_input_tokens"] or 0,
                             reasoning_tokens=tokens["reasoning_tokens"] or 0,
                             first_token_ms=clock.first_token_ms(), duration_ms=clock.duration_ms())
        try:
            crossed = await hub.usage.record(record)
        except Exception:  # the answer matters more than its bookkeeping
            log.exception("%s: could not record the usage of a call in run %s", self.name, run.run_id)
            return
        for budget, spent in crossed:
            await self.say(soft_notice_text(budget, spent), room_id=run.room_id, thread_id=run.thread_id)
