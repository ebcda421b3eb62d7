"""The /admin Usage view from the server's report: chart points per day and series, table rows."""

from __future__ import annotations

from agentchat_app.chat.usage import NOBODY, Series, chart, table_rows

REPORT = {
    "from": "2026-03-01", "to": "2026-03-03",
    "rows": [
        {"day": "2026-03-01", "agent": "writer", "person": "alice", "calls": 2, "inputTokens": 2000,
         "outputTokens": 400, "totalTokens": 2400, "costUsd": 0.0032},
        {"day": "2026-03-03", "agent": "cheap", "person": None, "calls": 1, "inputTokens": 1000,
         "outputTokens": 200, "totalTokens": 1200, "costUsd": 12.5},
    ],
    "agents": [{"day": "2026-03-01", "agent": "writer", "totalTokens": 2400, "costUsd": 0.0032},
               {"day": "2026-03-03", "agent": "cheap", "totalTokens": 1200, "costUsd": 12.5}],
    "people": [{"day": "2026-03-01", "person": "alice", "totalTokens": 2400, "costUsd": 0.0032},
               {"day": "2026-03-03", "person": None, "totalTokens": 1200, "costUsd": 12.5}],
}


def test_the_chart_has_every_day_and_one_series_per_agent_or_person() -> None:
    points, series = chart(REPORT, "agent", "costUsd")
    assert [s.name for s in series] == ["cheap", "writer"] and all(s.color.startswith("#") for s in series)
    assert points == [{"day": "03-01", "cheap": 0, "writer": 0.0032}, {"day": "03-02", "cheap": 0, "writer": 0},
                      {"day": "03-03", "cheap": 12.5, "writer": 0}]
    points, series = chart(REPORT, "person", "totalTokens")
    assert series == [Series(NOBODY, series[0].color), Series("alice", series[1].color)]
    assert points[0] == {"day": "03-01", NOBODY: 0, "alice": 2400} and points[2][NOBODY] == 1200
    assert chart({}, "agent", "costUsd") == ([], [])


def test_the_table_is_newest_first_with_readable_numbers() -> None:
    rows = table_rows(REPORT)
    assert [(r.day, r.agent, r.person, r.calls, r.tokens, r.cost) for r in rows] == [
        ("2026-03-03", "cheap", NOBODY, 1, "1,200", "$12.50"), ("2026-03-01", "writer", "alice", 2, "2,400", "$0.0032")]
