"""``ParsedMessage`` and ``MessageParser``: the message shape agents receive.

Kept compatible with the TelegramManager era (same names and fields), so handlers written for it
receive the same object whether they run inside the server or connect with ``AgentClient``.
``to_parsed`` turns the ``data`` of a broadcast ``message`` / ``agent_response`` frame into one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .protocol import parse_mentions, utc_now

__all__ = ["ParsedMessage", "MessageParser", "to_parsed"]


@dataclass
class ParsedMessage:
    message_id: int
    text: str
    sender: str
    timestamp: datetime
    mentions: list[str] = field(default_factory=list)
    is_command: bool = False
    reply_to: int | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    kind: str = "message"
    room_id: str = "general"
    """The room it was said in (answers go to the same room)."""
    thread_id: int | None = None
    """The thread it replies in (answers go to the same thread)."""
    """``message`` from a person, ``agent_response`` from an agent."""

    @property
    def command(self) -> str | None:
        """``"help"`` for ``"/help me"``; None when the text is not a command."""
        if not self.is_command:
            return None
        head = self.text.lstrip()[1:].split(maxsplit=1)
        return head[0].lower() if head else ""

    @property
    def args(self) -> str:
        """What follows the command word (``"me"`` for ``"/help me"``)."""
        if not self.is_command:
            return self.text
        parts = self.text.lstrip()[1:].split(maxsplit=1)
        return parts[1] if len(parts) > 1 else ""

    @property
    def mentions_everyone(self) -> bool:
        """``@here`` / ``@channel``: addressed to the people of the room (never wakes an agent)."""
        return any(m.lower() in ("here", "channel", "everyone") for m in self.mentions)

    def mentions_name(self, name: str) -> bool:
        return name.lower() in (m.lower() for m in self.mentions)


class MessageParser:
    """Turns raw chat text into a :class:`ParsedMessage`."""

    def parse(
        self,
        text: str,
        sender: str,
        message_id: int = 0,
        timestamp: datetime | None = None,
        mentions: list[str] | tuple[str, ...] = (),
        reply_to: int | None = None,
        attachments: list[dict[str, Any]] | None = None,
        kind: str = "message",
    ) -> ParsedMessage:
        return ParsedMessage(
            message_id=message_id,
            text=text,
            sender=sender,
            timestamp=timestamp or utc_now(),
            mentions=parse_mentions(text, list(mentions)),
            is_command=text.lstrip().startswith("/"),
            reply_to=reply_to,
            attachments=list(attachments or []),
            kind=kind,
        )


def _timestamp(stamp: object) -> datetime:
    """The frame's ISO 8601 time; now when it is missing or unreadable (a handler always gets one)."""
    if isinstance(stamp, str) and stamp:
        try:
            return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            pass
    return utc_now()


def to_parsed(data: Mapping[str, Any], kind: str) -> ParsedMessage:
    """A broadcast message's ``data`` (``kind`` is its frame type) -> the ParsedMessage handlers get."""
    return ParsedMessage(
        message_id=data["id"],
        text=data["text"],
        sender=data["sender"],
        timestamp=_timestamp(data.get("timestamp")),
        mentions=list(data.get("mentions") or []),
        is_command=bool(data.get("isCommand")),
        reply_to=data.get("replyTo"),
        attachments=list(data.get("attachments") or []),
        kind=kind,
        room_id=str(data.get("roomId") or "general"),
        thread_id=data.get("threadId") if isinstance(data.get("threadId"), int) else None,
    )
