"""The bounded window of messages a browser session keeps (pure, unit tested).

Reflex re-sends a changed list var whole, so a session never holds the whole history:
at most ``cap`` entries.  Live messages push the oldest out (older pages can be loaded
again with "Load earlier"); loading earlier pages pushes the newest out and marks the
window as *detached* from the live end, so it does not silently grow again.
"""

from __future__ import annotations

import dataclasses

from .models import ChatMessage

__all__ = ["Window", "DEFAULT_CAP", "split_for_display"]

DEFAULT_CAP = 200
TRIM_STEP = 25
RECENT_CHUNK = 5
"""The newest few messages are re-sent with each new one; the rest of the window with one in
five.  Each message is drawn again only when it changed (``components/keyed_memo.py``), so a
re-sent older part costs its transfer, not its drawing; a larger step made the messages that
cross over (drawn anew in their new part) too many at once."""
MAX_STREAMS = 10


@dataclasses.dataclass
class Window:
    messages: list[ChatMessage]
    streams: list[ChatMessage] = dataclasses.field(default_factory=list)
    """Answers still being generated, shown after the messages (kept apart so a growing
    answer re-sends only itself, not the whole list)."""
    has_more: bool = False
    """Older messages exist before the first one shown."""
    detached: bool = False
    """Newer messages exist after the last one shown (the user paged back)."""
    cap: int = DEFAULT_CAP

    # --- queries --------------------------------------------------------------------------
    def find(self, key: str) -> int:
        for index in range(len(self.messages) - 1, -1, -1):
            if self.messages[index].key == key:
                return index
        return -1

    def by_id(self, message_id: int) -> ChatMessage | None:
        index = self.find(f"m{message_id}")
        return self.messages[index] if index >= 0 else None

    @property
    def oldest_id(self) -> int:
        return next((m.id for m in self.messages if m.id), 0)

    # --- changes --------------------------------------------------------------------------
    def reset(self, page: list[ChatMessage], has_more: bool) -> None:
        """Replace everything with the newest page (first connect, "Jump to latest")."""
        self.messages = list(page[-self.cap :])
        self.has_more = has_more or len(page) > self.cap
        self.detached = False
        self._trim_oldest()

    def add(self, message: ChatMessage) -> bool:
        """Add a live or recovered message; False if it was already shown or not in view."""
        if message.stream_id:
            self.streams = [m for m in self.streams if m.stream_id != message.stream_id]
        if self.detached:
            return False
        if message.id and self.find(message.key) >= 0:
            return False
        # Ids increase: a recovered message older than the newest shown goes in order.
        index = len(self.messages)
        while index > 0 and message.id and self.messages[index - 1].id > message.id:
            index -= 1
        self.messages.insert(index, message)
        self._trim_oldest()
        return True

    def add_earlier(self, page: list[ChatMessage], has_more: bool) -> None:
        """Prepend an older page; the newest entries give way when the window is full."""
        known = {m.key for m in self.messages}
        fresh = [m for m in page if m.key not in known and (not self.oldest_id or m.id < self.oldest_id)]
        self.messages = fresh + self.messages
        self.has_more = has_more
        if len(self.messages) > self.cap:
            self.messages = self.messages[: self.cap]
            self.detached = True

    def stream_delta(self, stream_id: str, delta: str, template: ChatMessage) -> None:
        """Grow a streaming answer in place, creating it on the first delta."""
        for index, current in enumerate(self.streams):
            if current.stream_id == stream_id:
                self.streams[index] = dataclasses.replace(current, text=current.text + delta)
                return
        self.streams.append(
            dataclasses.replace(template, key=f"s{stream_id}", stream_id=stream_id, text=delta, streaming=True)
        )
        self.streams = self.streams[-MAX_STREAMS:]

    def _trim_oldest(self) -> None:
        # Trim a step below the cap, so the next few live messages do not each shift the
        # whole list (which would re-send all of it to the browser every time).
        if len(self.messages) > self.cap:
            keep = self.cap - min(TRIM_STEP, self.cap // 4)
            self.messages = self.messages[-keep:]
            self.has_more = True


def split_for_display(messages: list[ChatMessage], chunk: int = RECENT_CHUNK) -> int:
    """Where the stable older part ends and the small, often-changing recent part begins.

    The split moves in steps of ``chunk``: a new message usually changes only the recent
    part (at most ``chunk`` entries), not the whole window.
    """
    if len(messages) <= chunk:
        return 0
    return (len(messages) - 1) // chunk * chunk
