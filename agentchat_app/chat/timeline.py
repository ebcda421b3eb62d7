"""The shape of the timeline: grouping, date separators, the "New messages" line (pure, unit tested).

A reader scans a chat by sender and by day, so:

- consecutive messages of one sender within :data:`GROUP_SECONDS` of each other, on the same
  day, form a group: only the first shows the name, avatar and time (``continued`` on the rest);
- the first message of each day (in the reader's time zone) carries a separator label: "Today",
  "Yesterday", a weekday for the last week, else the date (``day_label``);
- the "New messages" line goes before the first message, from someone else, newer than what the
  reader had seen when the page opened (:func:`first_unread_key`).

The components only read these fields; nothing here knows about Reflex.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from .convert import parse_time
from .models import ChatMessage

__all__ = ["GROUP_SECONDS", "Mark", "marks", "annotate", "day_label", "first_unread_key"]

GROUP_SECONDS = 5 * 60


@dataclass(frozen=True, slots=True)
class Mark:
    continued: bool = False
    day_label: str = ""


def day_label(day: date, today: date) -> str:
    """``Today``, ``Yesterday``, ``Monday`` (within a week), ``Wednesday, 3 March`` (this year),
    ``3 March 2024`` (earlier)."""
    delta = (today - day).days
    if delta == 0:
        return "Today"
    if delta == 1:
        return "Yesterday"
    if 1 < delta < 7:
        return day.strftime("%A")
    if day.year == today.year:
        return f"{day.strftime('%A')}, {day.day} {day.strftime('%B')}"
    return f"{day.day} {day.strftime('%B')} {day.year}"


def marks(messages: Sequence[ChatMessage], *, now: datetime, tz_offset_minutes: int = 0) -> list[Mark]:
    """One :class:`Mark` per message, in order.  ``tz_offset_minutes`` is the reader's offset
    from UTC (east positive: +60 in Paris in winter)."""
    zone = timezone(timedelta(minutes=tz_offset_minutes))
    today = now.astimezone(zone).date()
    out: list[Mark] = []
    previous: ChatMessage | None = None
    previous_moment: datetime | None = None
    previous_day: date | None = None
    for message in messages:
        moment = parse_time(message.timestamp)
        local = moment.astimezone(zone) if moment else None
        day = local.date() if local else previous_day
        label = day_label(day, today) if day is not None and day != previous_day else ""
        continued = (
            previous is not None
            and not label
            and previous.sender == message.sender
            and previous.is_agent == message.is_agent
            and moment is not None
            and previous_moment is not None
            and timedelta(0) <= moment - previous_moment <= timedelta(seconds=GROUP_SECONDS)
        )
        out.append(Mark(continued=continued, day_label=label))
        previous, previous_moment, previous_day = message, moment, day
    return out


def annotate(messages: Sequence[ChatMessage], *, now: datetime, tz_offset_minutes: int = 0) -> set[str]:
    """Write :func:`marks` into the messages; the keys of those that changed (only the part of
    the view holding them must be re-sent: usually just the newest message)."""
    changed: set[str] = set()
    for message, mark in zip(messages, marks(messages, now=now, tz_offset_minutes=tz_offset_minutes), strict=True):
        if message.continued != mark.continued or message.day_label != mark.day_label:
            message.continued, message.day_label = mark.continued, mark.day_label
            changed.add(message.key)
    return changed


def first_unread_key(messages: Sequence[ChatMessage], last_read_id: int, me: str) -> str:
    """The key of the first message from someone else newer than ``last_read_id`` ('' if none,
    or when the reader has no record of reading: a first visit has no "new" line)."""
    if last_read_id <= 0:
        return ""
    for message in messages:
        if message.id > last_read_id and message.sender != me:
            return message.key
    return ""
