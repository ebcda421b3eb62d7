"""My messages that the server has not confirmed yet: shown at once, sent once, retried safely.

Pure (no sockets, no Reflex).  A message the person sends goes in here and is shown at the end
of the log straight away, marked "Sending…" (or "Waiting for connection…" while the link is
down).  The server's echo (same ``clientId``) confirms it: the entry leaves the outbox as the
real message takes its place at the end of the log.  A refusal (an ``error`` with ``ref``) marks
it failed with the reason and a Retry.  After a reconnect everything unconfirmed is sent again
with the same client id: the server never posts a client id twice for the same person (see
docs/protocol.md, "Retries are safe"), and answers a repeat with the original message.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from agentchat_client.protocol import GENERAL, parse_mentions

from .convert import segments
from .models import ChatMessage

__all__ = ["Outbox", "Outgoing", "QUEUED", "SENDING", "FAILED", "MAX_OUTBOX"]

QUEUED = "queued"
"""Not sent: the link is down; it goes out after the reconnect."""
SENDING = "sending"
"""Sent on the current link; the echo has not come back yet."""
FAILED = "failed"
"""Refused by the server (the reason is kept); sent again only when the person says Retry."""
MAX_OUTBOX = 50
"""More unconfirmed messages than this: the oldest failed ones are dropped first."""


@dataclasses.dataclass
class Outgoing:
    client_id: int
    text: str
    room_id: str = GENERAL
    reply_to: int | None = None
    attachments: list[str] = dataclasses.field(default_factory=list)
    state: str = QUEUED
    reason: str = ""
    link: int = -1
    """The link generation it was last sent on (-1: never sent)."""

    def frame(self) -> dict[str, Any]:
        """The ``message`` frame's data (the same every time: the id makes retries safe)."""
        return {
            "id": self.client_id, "text": self.text, "mentions": parse_mentions(self.text),
            "replyTo": self.reply_to, "attachments": list(self.attachments),
            "roomId": self.room_id,  # always: by the time it goes out another room may be open
        }


class Outbox:
    def __init__(self, me: str, clock: Callable[[], int] = time.time_ns) -> None:
        self.me = me
        self.clock = clock
        self.items: dict[int, Outgoing] = {}
        self.link = 0
        """Bumped on every successful sign-in on the link: what was sent before may be lost."""
        self.live = False

    # --- the person -------------------------------------------------------------------------
    def add(self, text: str, room_id: str = GENERAL, reply_to: int | None = None,
            attachments: list[str] | None = None) -> Outgoing:
        client_id = self.clock() // 1000
        while client_id in self.items:
            client_id += 1
        item = Outgoing(client_id, text, room_id, reply_to or None, list(attachments or []))
        self.items[client_id] = item
        self._bound()
        return item

    def retry(self, client_id: int) -> bool:
        """Retry a failed message (it goes out with the next ``due``)."""
        item = self.items.get(client_id)
        if item is None or item.state != FAILED:
            return False
        item.state, item.reason, item.link = QUEUED, "", -1
        return True

    def discard(self, client_id: int) -> Outgoing | None:
        return self.items.pop(client_id, None)

    # --- the link ---------------------------------------------------------------------------
    def connected(self) -> None:
        """Signed in again: what was in flight on the old link is sent again."""
        self.link += 1
        self.live = True
        for item in self.items.values():
            if item.state == SENDING:
                item.state = QUEUED

    def disconnected(self) -> None:
        self.live = False

    def due(self) -> list[Outgoing]:
        """What to send now (marked as sent on this link); nothing while the link is down."""
        if not self.live:
            return []
        out = [item for item in self.items.values() if item.state == QUEUED]
        for item in out:
            item.state, item.link = SENDING, self.link
        return out

    def unsent(self, client_id: int) -> None:
        """Sending failed at once (the link dropped just then): it waits for the reconnect."""
        item = self.items.get(client_id)
        if item is not None and item.state == SENDING:
            item.state, item.link = QUEUED, -1

    # --- the server -------------------------------------------------------------------------
    def confirmed(self, client_id: Any) -> bool:
        return isinstance(client_id, int) and self.items.pop(client_id, None) is not None

    def refused(self, client_id: Any, reason: str) -> Outgoing | None:
        item = self.items.get(client_id) if isinstance(client_id, int) else None
        if item is not None:
            item.state, item.reason = FAILED, reason
        return item

    # --- display ----------------------------------------------------------------------------
    def views(self, room_id: str | None = None) -> list[ChatMessage]:
        """The entries to show at the end of the log (of ``room_id``, or all), oldest first."""
        return [self._view(item) for item in self.items.values() if room_id is None or item.room_id == room_id]

    def _view(self, item: Outgoing) -> ChatMessage:
        status = {QUEUED: "Waiting for connection…" if not self.live else "Sending…",
                  SENDING: "Sending…", FAILED: item.reason or "Not sent"}[item.state]
        return ChatMessage(
            key=f"c{item.client_id}", id=0, sender=self.me, text=item.text, is_mine=True,
            segments=segments(item.text, self.me), reply_to=item.reply_to or 0,
            send_state=item.state, send_status=status, client_id=item.client_id,
        )

    def _bound(self) -> None:
        while len(self.items) > MAX_OUTBOX:
            failed = next((cid for cid, item in self.items.items() if item.state == FAILED), None)
            self.items.pop(failed if failed is not None else next(iter(self.items)))
