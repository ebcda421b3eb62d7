"""The usage ledger in SQL: one row per model call, summed per day in the database."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import func, insert, select
from sqlmodel import Session

from ...core.budgets import Spent, usage_day
from ..base import UsageStore
from ..records import UsageRecord, UsageTotal
from ..tables import UsageRow
from .database import Database

__all__ = ["SqlUsage"]

_USAGE = UsageRow.__table__  # type: ignore[attr-defined]
_COLUMNS = ("input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens")


def _values(r: UsageRecord) -> dict[str, Any]:
    return {"at": r.at, "day": r.day, "run_id": r.run_id, "agent": r.agent, "person": r.person, "room_id": r.room_id,
            "model": r.model, "input_tokens": r.input_tokens, "output_tokens": r.output_tokens,
            "cached_input_tokens": r.cached_input_tokens, "reasoning_tokens": r.reasoning_tokens,
            "cost_usd": r.cost_usd, "first_token_ms": r.first_token_ms, "duration_ms": r.duration_ms}


def _record(row: Any) -> UsageRecord:
    at = row.at if row.at.tzinfo is not None else row.at.replace(tzinfo=UTC)  # SQLite hands back naive times
    return UsageRecord(row.run_id, row.agent, row.person, row.room_id, row.model, row.input_tokens, row.output_tokens,
                       row.cached_input_tokens, row.reasoning_tokens, row.cost_usd, row.first_token_ms,
                       row.duration_ms, at, row.day, row.id)


class SqlUsage(UsageStore):
    db: Database

    async def add_usage(self, record: UsageRecord) -> UsageRecord:
        record.day = record.day or usage_day(record.at)
        values = _values(record)

        def work(s: Session) -> int:
            return int(s.execute(insert(_USAGE).values(**values).returning(_USAGE.c.id)).scalar_one())

        record.id = await self.db.write(work)
        return record

    async def usage_spent(self, day: str, *, agent: str | None = None, person: str | None = None) -> Spent:
        query = select(func.coalesce(func.sum(_USAGE.c.cost_usd), 0.0),
                       func.coalesce(func.sum(_USAGE.c.input_tokens + _USAGE.c.output_tokens), 0)
                       ).where(_USAGE.c.day == day)
        if agent is not None:
            query = query.where(_USAGE.c.agent == agent)
        if person is not None:
            query = query.where(_USAGE.c.person == person)

        def work(s: Session) -> Spent:
            usd, tokens = s.execute(query).one()
            return Spent(float(usd), int(tokens))

        return await self.db.read(work)

    async def usage_totals(self, first_day: str, last_day: str) -> list[UsageTotal]:
        keys = (_USAGE.c.day, _USAGE.c.agent, _USAGE.c.person)
        query = (
            select(*keys, func.count(), *(func.sum(_USAGE.c[c]) for c in _COLUMNS), func.sum(_USAGE.c.cost_usd))
            .where(_USAGE.c.day >= first_day, _USAGE.c.day <= last_day)
            .group_by(*keys).order_by(*keys)
        )

        def work(s: Session) -> list[UsageTotal]:
            return [UsageTotal(day, agent, person, int(calls), int(i), int(o), int(c), int(r), float(cost))
                    for day, agent, person, calls, i, o, c, r, cost in s.execute(query)]

        return await self.db.read(work)

    async def run_usage(self, run_id: str) -> list[UsageRecord]:
        query = select(_USAGE).where(_USAGE.c.run_id == run_id).order_by(_USAGE.c.id)
        return await self.db.read(lambda s: [_record(r) for r in s.execute(query)])
