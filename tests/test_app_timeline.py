"""Grouping, day separators and the "New messages" line (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from agentchat_app.chat.models import ChatMessage
from agentchat_app.chat.timeline import annotate, day_label, first_unread_key, marks

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def msg(mid: int, sender: str, stamp: str, agent: bool = False) -> ChatMessage:
    return ChatMessage(key=f"m{mid}", id=mid, sender=sender, timestamp=stamp, is_agent=agent)


def test_day_labels():
    today = date(2026, 12, 2)
    assert day_label(today, today) == "Today"
    assert day_label(date(2026, 12, 1), today) == "Yesterday"
    assert day_label(date(2026, 11, 28), today) == "Saturday"
    assert day_label(date(2026, 3, 3), today) == "Tuesday, 3 March"
    assert day_label(date(2024, 3, 3), today) == "3 March 2024"


def test_one_sender_within_minutes_is_one_group():
    window = [
        msg(1, "ann", "2026-12-01T09:00:00Z"),
        msg(2, "ann", "2026-12-02T09:00:00Z"),
        msg(3, "ann", "2026-12-02T09:04:00Z"),
        msg(4, "bob", "2026-12-02T09:05:00Z"),
        msg(5, "bob", "2026-12-02T09:20:00Z"),  # too long after: a new group
        msg(6, "bob", "2026-12-02T09:21:00Z", agent=True),  # an agent named like a person is not the person
    ]
    got = [(m.continued, m.day_label) for m in marks(window, now=NOW)]
    assert got == [(False, "Yesterday"), (False, "Today"), (True, ""), (False, ""), (False, ""), (False, "")]


def test_days_follow_the_readers_time_zone():
    window = [msg(1, "ann", "2026-12-01T22:30:00Z"), msg(2, "ann", "2026-12-01T23:30:00Z")]
    assert [m.day_label for m in marks(window, now=NOW)] == ["Yesterday", ""]
    # in UTC+1 the second one is after midnight: a new day, so not grouped across it
    east = marks(window, now=NOW, tz_offset_minutes=60)
    assert [(m.continued, m.day_label) for m in east] == [(False, "Yesterday"), (False, "Today")]


def test_annotate_reports_a_change_once():
    window = [msg(1, "ann", "2026-12-02T09:00:00Z"), msg(2, "ann", "2026-12-02T09:01:00Z")]
    assert annotate(window, now=NOW) == {"m1", "m2"}
    assert window[1].continued and window[0].day_label == "Today"
    assert annotate(window, now=NOW) == set()
    window.append(msg(3, "ann", "2026-12-02T09:02:00Z"))
    assert annotate(window, now=NOW) == {"m3"}  # a new message changes only itself


def test_new_messages_line_is_at_the_first_unread_from_someone_else():
    window = [msg(1, "ann", ""), msg(2, "me", ""), msg(3, "bob", ""), msg(4, "ann", "")]
    assert first_unread_key(window, 1, "me") == "m3"
    assert first_unread_key(window, 0, "me") == ""  # a first visit: everything is new, no line
    assert first_unread_key(window, 4, "me") == ""
