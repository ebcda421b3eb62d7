"""The bounded members list sent to newcomers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from server.core.roster import Member, Roster


def test_agents_then_online_then_recently_seen() -> None:
    base = datetime(2025, 1, 1, tzinfo=timezone.utc)
    roster = Roster(limit=4)
    roster.load([
        Member("old", "developer", False, base),
        Member("recent", "developer", False, base + timedelta(hours=2)),
        Member("older", "viewer", False, base - timedelta(days=1)),
        Member("bot", "agent", True, None),
        Member("here", "developer", False, base),
    ])
    snap = roster.snapshot(online={"here"})
    assert [m["userId"] for m in snap] == ["bot", "here", "recent", "old"]
    assert snap[1]["status"] == "online" and snap[2]["status"] == "offline"
    roster.seen("older", base + timedelta(days=3))
    assert [m["userId"] for m in roster.snapshot(online=set())][:3] == ["bot", "older", "recent"]


def test_unknown_online_user_still_listed() -> None:
    roster = Roster()
    assert roster.snapshot(online={"stranger"}) == [
        {"userId": "stranger", "role": "developer", "isAgent": False, "status": "online", "lastSeen": None}
    ]
