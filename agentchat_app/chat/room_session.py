"""The room-and-thread half of ``ChatSession`` (pure): one window per room, an open thread,
``rooms`` / ``room`` / ``room_removed`` / ``room_read`` / ``message_updated`` frames.

Kept apart from ``session.py`` so that file stays about one room's messages; ``ChatSession``
inherits this.  ``window`` is always the open room's window, so the rest of the session (and
the Reflex state) works on "the messages shown" without knowing about rooms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentchat_client.protocol import MessageType

from .models import ChatMessage
from .rooms import RoomBoard
from .updates import GENERAL, apply_update, room_of, thread_of
from .window import Window

if TYPE_CHECKING:
    from .session import Changes

__all__ = ["RoomSession", "HISTORY_PAGE", "MAX_WINDOWS"]

HISTORY_PAGE = 50
MAX_WINDOWS = 6
"""Rooms whose messages stay in memory (the open one, then the most recently opened)."""


def _changes(*fields: str) -> Changes:
    from .session import Changes  # the session module imports this one

    return Changes(fields=set(fields))


class RoomSession:
    me: str
    cap: int
    loaded: bool
    last_message_id: int | None
    typing: dict[str, float]

    def _init_rooms(self, cap: int) -> None:
        self.cap = cap
        self.rooms = RoomBoard(self.me)
        self.windows: dict[str, Window] = {GENERAL: Window(messages=[], cap=cap)}
        self.loaded_rooms: set[str] = set()
        """Rooms whose newest page arrived: live messages go into their window."""
        self.thread = Window(messages=[], cap=cap)
        self.thread_root: ChatMessage | None = None
        self.edited_ids: set[int] = set()
        """Messages whose content changed (same key): the state re-sends the part holding them."""

    def _remember_id(self, message_id: Any) -> None:
        raise NotImplementedError

    @property
    def window(self) -> Window:
        """The open room's messages."""
        return self.windows.setdefault(self.rooms.current, Window(messages=[], cap=self.cap))

    @property
    def room_id(self) -> str:
        return self.rooms.current

    # --- what the person does -----------------------------------------------------------------
    def open_room(self, room_id: str) -> Changes:
        """Show a room: its kept window at once, or ask for its newest page."""
        room_id = self.rooms.open(room_id)
        kept = self.windows.pop(room_id, None)
        self.windows[room_id] = kept if kept is not None else Window(messages=[], cap=self.cap)
        while len(self.windows) > MAX_WINDOWS:
            oldest = next(r for r in self.windows if r != room_id)
            del self.windows[oldest]
            self.loaded_rooms.discard(oldest)
        if room_id not in self.loaded_rooms:
            self.rooms.queue(MessageType.HISTORY, {"roomId": room_id, "beforeId": None,
                                                            "limit": HISTORY_PAGE})
        self.thread_root = None
        self.thread = Window(messages=[], cap=self.cap)
        self.typing.clear()
        return _changes("messages", "streams", "rooms", "typing", "thread", "runs", "approvals")

    def open_thread(self, root_id: int) -> Changes:
        root = self.window.by_id(root_id)
        if root is None or root.thread_id or root.deleted and not root.reply_count:
            return _changes()
        self.thread_root = root
        self.thread = Window(messages=[], cap=self.cap)
        self.rooms.queue(MessageType.HISTORY, {"roomId": root.room_id, "threadId": root_id,
                                                        "beforeId": None, "limit": HISTORY_PAGE})
        return _changes("thread")

    def close_thread(self) -> Changes:
        self.thread_root = None
        self.thread = Window(messages=[], cap=self.cap)
        return _changes("thread")

    # --- routing ------------------------------------------------------------------------------
    def _window_for(self, data: dict[str, Any]) -> Window | None:
        """Where a message goes: the open thread, its room's kept window, or nowhere."""
        thread = thread_of(data)
        if thread:
            return self.thread if self.thread_root is not None and self.thread_root.id == thread else None
        room = room_of(data)
        if room not in self.loaded_rooms and room != self.rooms.current:
            return None
        return self.windows.get(room)

    def _field_of(self, window: Window | None) -> str:
        if window is None:
            return ""
        return "thread" if window is self.thread else "messages" if window is self.window else ""

    def _history_window(self, data: dict[str, Any]) -> Window | None:
        thread = thread_of(data)
        if thread:
            return self.thread if self.thread_root is not None and self.thread_root.id == thread else None
        room = room_of(data)
        if data.get("beforeId") is None:
            self.loaded_rooms.add(room)
        return self.windows.setdefault(room, Window(messages=[], cap=self.cap))

    def _room_news(self, message: ChatMessage) -> Changes:
        changed = self.rooms.on_message(message.room_id, message.id, mine=message.is_mine,
                                        mentions_me=message.mentions_me, timeline=not message.thread_id)
        return _changes("rooms") if changed else _changes()

    # --- frames -------------------------------------------------------------------------------
    def _on_rooms(self, data: dict[str, Any]) -> Changes:
        before = self.rooms.current
        self.rooms.on_rooms(data)
        current = self.rooms.current
        if current != before:
            return self.open_room(current)
        if current not in self.loaded_rooms and (current != GENERAL or self.last_message_id is not None):
            self.rooms.queue(MessageType.HISTORY, {"roomId": current, "beforeId": None,
                                                            "limit": HISTORY_PAGE})
        return _changes("rooms")

    def _on_room(self, data: dict[str, Any]) -> Changes:
        to_open = self.rooms.on_room(data)
        return self.open_room(to_open) if to_open else _changes("rooms")

    def _on_room_removed(self, data: dict[str, Any]) -> Changes:
        was_open = self.rooms.on_removed(data)
        if isinstance(data.get("roomId"), str) and data["roomId"] not in self.rooms.rooms:
            self.windows.pop(data["roomId"], None)
            self.loaded_rooms.discard(data["roomId"])
        return self.open_room(GENERAL) if was_open else _changes("rooms")

    def _on_room_read(self, data: dict[str, Any]) -> Changes:
        return _changes("rooms") if self.rooms.on_read(data) else _changes()

    def _on_message_updated(self, data: dict[str, Any]) -> Changes:
        self._remember_id(data.get("eventId"))
        message_id = data.get("id")
        if not isinstance(message_id, int):
            return _changes()
        changes = _changes()
        for window in (self.windows.get(room_of(data)), self.thread):
            index = window.find(f"m{message_id}") if window is not None else -1
            if window is not None and index >= 0:
                window.messages[index] = apply_update(window.messages[index], data, self.me)
                field = self._field_of(window)
                if field:
                    changes.fields.add(field)
        if self.thread_root is not None and self.thread_root.id == message_id:
            self.thread_root = apply_update(self.thread_root, data, self.me)
            changes.fields.add("thread")
        if "messages" in changes.fields:
            self.edited_ids.add(message_id)
        return changes
