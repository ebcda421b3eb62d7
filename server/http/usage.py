"""``GET /api/admin/usage`` and ``/api/admin/usage.csv``: the usage ledger per day, agent and
person, for admins (the /admin page's Usage chart and table, and its CSV export).

``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (UTC days, both included; the last 14 days by default, at most
366).  The JSON has ``rows`` (per day, agent and person) and their sums per day and agent
(``agents``) and per day and person (``people``); the CSV has one line per row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from agentchat_client.protocol import Role
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..accounts.errors import Forbidden, InvalidInput
from ..store import UsageTotal
from .api import ApiContext, _endpoint, _identity, json_response

__all__ = ["usage_routes", "usage_rows", "usage_csv", "DEFAULT_DAYS"]

DEFAULT_DAYS = 14
MAX_DAYS = 366
COUNTS = ("calls", "inputTokens", "outputTokens", "cachedInputTokens", "reasoningTokens", "totalTokens", "costUsd")
CSV_COLUMNS = ("day", "agent", "person", "calls", "input_tokens", "output_tokens", "cached_input_tokens",
               "reasoning_tokens", "total_tokens", "cost_usd")


def _day(raw: str | None, name: str, default: date) -> date:
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{name}: a UTC day as YYYY-MM-DD (got {raw[:20]!r})") from None


def _range(request: Request) -> tuple[date, date]:
    today = datetime.now(UTC).date()
    last = _day(request.query_params.get("to"), "to", today)
    first = _day(request.query_params.get("from"), "from", last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise InvalidInput("from: must not be after to")
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput(f"Ask for at most {MAX_DAYS} days at a time.")
    return first, last


def usage_rows(totals: Iterable[UsageTotal]) -> list[dict[str, Any]]:
    return [{"day": t.day, "agent": t.agent, "person": t.person, "calls": t.calls, "inputTokens": t.input_tokens,
             "outputTokens": t.output_tokens, "cachedInputTokens": t.cached_input_tokens,
             "reasoningTokens": t.reasoning_tokens, "totalTokens": t.total_tokens, "costUsd": round(t.cost_usd, 8)}
            for t in totals]


def _sums(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """``rows`` summed per day and ``key`` (``agent`` or ``person``)."""
    sums: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        who = row[key] or ""
        entry = sums.setdefault((row["day"], who), {"day": row["day"], key: row[key], **dict.fromkeys(COUNTS, 0)})
        for count in COUNTS:
            entry[count] += row[count]
    for entry in sums.values():
        entry["costUsd"] = round(entry["costUsd"], 8)
    return [sums[k] for k in sorted(sums)]


def _cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula is quoted (names are safe; this stays safe)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


def usage_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow([_cell(v) for v in (r["day"], r["agent"], r["person"], r["calls"], r["inputTokens"],
                                             r["outputTokens"], r["cachedInputTokens"], r["reasoningTokens"],
                                             r["totalTokens"], f"{r['costUsd']:.8f}")])
    return out.getvalue()


async def _report(request: Request, context: ApiContext) -> tuple[date, date, list[dict[str, Any]]]:
    identity = await _identity(request, context)
    if identity.role is not Role.ADMIN:
        raise Forbidden("Only admins can read usage and costs.")
    first, last = _range(request)
    return first, last, usage_rows(await context.store.usage_totals(first.isoformat(), last.isoformat()))


async def usage_json(request: Request, context: ApiContext) -> Response:
    first, last, rows = await _report(request, context)
    return json_response({"from": first.isoformat(), "to": last.isoformat(), "rows": rows,
                          "agents": _sums(rows, "agent"), "people": _sums(rows, "person")})


async def usage_csv_file(request: Request, context: ApiContext) -> Response:
    first, last, rows = await _report(request, context)
    name = f"agentchat-usage-{first.isoformat()}-to-{last.isoformat()}.csv"
    return Response(usage_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def usage_routes(context: ApiContext) -> list[Route]:
    return [Route("/api/admin/usage", _endpoint(usage_json, context), methods=["GET"]),
            Route("/api/admin/usage.csv", _endpoint(usage_csv_file, context), methods=["GET"])]
