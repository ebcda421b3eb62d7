"""The header's search, as a Reflex state mixin of ``ChatState``.

What is typed becomes a ``search`` frame (``chat/search.py`` parses the filters and keeps the
newest question); the answer arrives through the bridge like every frame and is copied here.
Choosing a result shows the conversation around that message: at once if it is on screen,
otherwise a page of history around it is loaded (the window detaches from the live
end, "Jump to latest" brings it back), and the message is highlighted.
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx
from agentchat_client.protocol import GENERAL, MessageType

from ..chat.search import SearchResult

__all__ = ["SearchMixin", "AROUND"]

AROUND = 40
"""How many messages around the chosen one are loaded when it is not on screen."""
AFTER = 15
"""Ids after the chosen one asked for too: ids grow across rooms, so at most this many of the
room's messages after it come along, and it is always in the page (AFTER < AROUND)."""


class SearchMixin(rx.State, mixin=True):
    search_text: str = ""
    search_results: list[SearchResult] = []
    search_status: str = ""
    search_open: bool = False
    highlight_id: int = 0
    """The message chosen from the search results: highlighted in the log."""

    def _copy_search(self, session: Any, fields: set[str]) -> None:
        if "search" in fields:
            self.search_results = list(session.search.results)
            self.search_status = session.search.status

    @rx.event
    async def set_search(self, value: str):
        """Typed into the search field (debounced by the field): ask the server."""
        self.search_text = value
        bridge = self._bridge()  # type: ignore[attr-defined]
        if bridge is None:
            return
        board = bridge.session.rooms
        bridge.session.search.rooms = {rid: board.label(room) for rid, room in board.rooms.items()} or {GENERAL: GENERAL}
        data = bridge.session.search.ask(value)
        self.search_open = bool(value.strip())
        self.search_status = bridge.session.search.status
        if data is None:
            self.search_results = []
            return
        if not await bridge.send(MessageType.SEARCH, data):
            bridge.session.search.clear()
            self.search_status = "Not connected; search again in a moment."

    @rx.event
    def close_search(self):
        self.search_open = False

    @rx.event
    def reopen_search(self):
        self.search_open = bool(self.search_text.strip())

    @rx.event
    async def open_result(self, message_id: int, room_id: str):
        """Show the conversation around this message and highlight it."""
        self.search_open = False
        self.highlight_id = message_id
        bridge = self._bridge()  # type: ignore[attr-defined]
        if bridge is None:
            return
        session = bridge.session
        events = []
        if room_id != session.room_id:
            events.append(await self._open_room(room_id))  # type: ignore[attr-defined]  # state/rooms.py
        if session.room_id == room_id and session.window.by_id(message_id) is None:
            session.jump_before = message_id + AFTER
            await bridge.send(MessageType.HISTORY, {"roomId": room_id, "beforeId": session.jump_before,
                                                    "limit": AROUND})
        return [*[e for e in events if e is not None], reveal(message_id)]


def reveal(message_id: int) -> rx.event.EventSpec:
    """Scroll the log to the message once it is on the page (it may still be on its way)."""
    return rx.call_script(f"window.agentchatReveal && window.agentchatReveal({json.dumps(message_id)})")
