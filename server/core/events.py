"""``Event``: one thing that happened in the chat, on its way to every server process.

Every broadcast goes ``publish`` -> fan-out (in-process, or Redis between processes) -> each
process's hub, which sends the encoded frame to the local connections that accept it
(``routing.accepts_event``).  The frame is encoded once, where the event is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from agentchat_client.protocol import MessageType

__all__ = ["Event"]


@dataclass(slots=True)
class Event:
    """The encoded frame, plus what routing needs to know about it."""

    kind: MessageType
    frame: bytes
    message_id: int | None = None
    """Its place in the message sequence (stored messages): recovery replays by this id."""
    exclude_user: str | None = None
    """Not sent to this user (a typist does not see their own typing indicator)."""
    target_user: str | None = None
    """Sent only to this user's connections (control frames for an agent, account changes)."""
    room: str | None = None
    """The room it happened in: only its members receive it (None: not about a room)."""
    _data: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = orjson.loads(self.frame)["data"]
        return self._data

    def to_bytes(self) -> bytes:
        """Wire form between processes: a small JSON header line, then the frame itself."""
        header = {"k": self.kind.value, "m": self.message_id, "x": self.exclude_user, "t": self.target_user,
                  "r": self.room}
        return orjson.dumps(header) + b"\n" + self.frame

    @classmethod
    def from_bytes(cls, raw: bytes) -> Event:
        head, _, frame = raw.partition(b"\n")
        header = orjson.loads(head)
        return cls(MessageType(header["k"]), frame, header["m"], header["x"], header["t"], header.get("r"))
