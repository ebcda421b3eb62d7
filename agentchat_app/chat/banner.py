"""The one connection banner: "Reconnecting…" while the link to the chat server is down, then
"Back online" for a moment.  Pure; the chat session feeds it the link's states.

(The browser's own socket to the app is the other half: while it is down the page shows the
same banner from ``components/connection_banner.py``, since no state update can reach it.)
"""

from __future__ import annotations

__all__ = ["LinkBanner", "RECONNECTING_TEXT", "BACK_ONLINE_TEXT", "BACK_ONLINE_SECONDS"]

RECONNECTING_TEXT = "Reconnecting…"
BACK_ONLINE_TEXT = "Back online"
BACK_ONLINE_SECONDS = 3.0


class LinkBanner:
    def __init__(self) -> None:
        self.down = False
        self.was_up = False
        """Connected once: a later connect is a return ("Back online"), the first is not."""
        self.back_until = 0.0

    def connected(self, now: float) -> None:
        if self.down and self.was_up:
            self.back_until = now + BACK_ONLINE_SECONDS
        self.down = False
        self.was_up = True

    def lost(self) -> None:
        self.down = self.was_up  # before the first connect the header says "Connecting"
        self.back_until = 0.0

    def text(self, now: float) -> str:
        if self.down:
            return RECONNECTING_TEXT
        return BACK_ONLINE_TEXT if now < self.back_until else ""

    @property
    def needs_tick(self) -> bool:
        return self.back_until > 0

    def tick(self, now: float) -> bool:
        """True once, when "Back online" has been shown long enough (the text changed)."""
        if self.back_until and now >= self.back_until:
            self.back_until = 0.0
            return True
        return False
