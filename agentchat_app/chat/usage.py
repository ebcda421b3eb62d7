"""The /admin Usage view from the server's report (``GET /api/admin/usage``), pure and unit tested:
the chart's points (one per day, one stacked series per agent or person) and the table's rows."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

from .convert import cost_label

__all__ = ["Series", "UsageRow", "PALETTE", "chart", "table_rows", "NOBODY"]

PALETTE = ("#6e56cf", "#0090ff", "#12a594", "#e5484d", "#f76b15", "#ffc53d", "#8e4ec6", "#30a46c", "#d6409f",
           "#5b5bd6")
NOBODY = "(no one)"
"""The person of calls nobody asked for (an agent working on its own)."""


@dataclasses.dataclass
class Series:
    name: str = ""
    color: str = ""


@dataclasses.dataclass
class UsageRow:
    day: str = ""
    agent: str = ""
    person: str = ""
    calls: int = 0
    tokens: str = ""
    input_tokens: str = ""
    output_tokens: str = ""
    cost: str = ""


def chart(report: dict[str, Any], by: str, metric: str) -> tuple[list[dict[str, Any]], list[Series]]:
    """Points ``{"day": "03-01", "<name>": value, ...}`` for every day of the report, and the series.

    ``by`` is ``agent`` or ``person``; ``metric`` is ``costUsd`` or ``totalTokens``."""
    key = "agent" if by == "agent" else "person"
    sums = report.get("agents" if key == "agent" else "people") or []
    names = sorted({str(s.get(key) or NOBODY) for s in sums})
    points: dict[str, dict[str, Any]] = {}
    for day in _days(report):
        points[day] = {"day": day[5:], **dict.fromkeys(names, 0)}
    for entry in sums:
        day, name = str(entry.get("day")), str(entry.get(key) or NOBODY)
        point = points.setdefault(day, {"day": day[5:], **dict.fromkeys(names, 0)})
        value = entry.get(metric) or 0
        point[name] = round(point[name] + value, 6) if metric == "costUsd" else point[name] + value
    series = [Series(name, PALETTE[i % len(PALETTE)]) for i, name in enumerate(names)]
    return [points[d] for d in sorted(points)], series


def _days(report: dict[str, Any]) -> list[str]:
    """Every day from ``from`` to ``to`` (so quiet days show as gaps, not as nothing)."""
    try:
        first, last = date.fromisoformat(str(report["from"])), date.fromisoformat(str(report["to"]))
    except (KeyError, ValueError):
        return []
    return [(first + timedelta(days=n)).isoformat() for n in range(min(366, (last - first).days + 1))]


def table_rows(report: dict[str, Any]) -> list[UsageRow]:
    """Newest day first, then by agent and person."""
    rows = sorted(report.get("rows") or [], key=lambda r: (r.get("day") or "", r.get("agent") or "", r.get("person") or ""))
    rows.sort(key=lambda r: r.get("day") or "", reverse=True)
    return [UsageRow(str(r.get("day")), str(r.get("agent")), str(r.get("person") or NOBODY), int(r.get("calls") or 0),
                     f"{int(r.get('totalTokens') or 0):,}", f"{int(r.get('inputTokens') or 0):,}",
                     f"{int(r.get('outputTokens') or 0):,}", cost_label(float(r.get("costUsd") or 0)))
            for r in rows]
