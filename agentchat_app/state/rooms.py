"""What the chat screen shows of rooms and threads, and what a person does with them.

A Reflex state mixin of ``ChatState`` (like ``RunsMixin``): the views come from the session's
``RoomBoard`` and thread window (``chat/rooms.py``, ``chat/room_session.py``, pure) and are
copied here when they change; the events send frames through the session's bridge.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

import reflex as rx
from agentchat_client.protocol import MessageType, parse_mentions

from ..chat.models import AgentModeView, ChatMessage, Member, RoomView
from ..chat.updates import GENERAL
from .log import assign_changed

__all__ = ["RoomsMixin", "room_url"]

EMOJI = ["👍", "❤️", "😂", "🎉", "👀", "🙏", "✅", "🚀"]


def room_url(room_id: str) -> str:
    """The address that opens a room (a link, a reload)."""
    return "/" if room_id == GENERAL else f"/?room={quote(room_id, safe='')}"


class RoomsMixin(rx.State, mixin=True):
    channels: list[RoomView] = []
    direct_rooms: list[RoomView] = []
    public_rooms: list[RoomView] = []
    room: RoomView = RoomView(room_id=GENERAL, name=GENERAL, label=GENERAL, is_member=True, active=True)
    room_members: list[Member] = []
    room_agents: list[AgentModeView] = []
    invite_candidates: list[str] = []
    dm_people: list[Member] = []
    """Whom a DM can be opened with: agents, then people, by name (not by presence, so a row
    never changes under the pointer when someone comes or goes)."""

    thread_open: bool = False
    thread_root: ChatMessage = ChatMessage()
    thread_messages: list[ChatMessage] = []
    thread_draft: str = ""

    show_create: bool = False
    show_browse: bool = False
    show_dm: bool = False
    editing_id: int = 0
    editing_text: str = ""
    deleting_id: int = 0

    # --- copying the session ------------------------------------------------------------------
    def _copy_rooms(self, session: Any, fields: set[str]) -> None:
        board = session.rooms
        if "rooms" in fields or "members" in fields:
            room = board.current_view()
            everyone = session.member_list()
            inside = set(room.members)
            views: dict[str, Any] = {
                "channels": board.channels(),
                "direct_rooms": board.direct(),
                "public_rooms": board.browsable(),
                "room": room,
                "room_agents": board.agent_modes(session.agents),
                "room_members": everyone if room.room_id == GENERAL else [m for m in everyone if m.user_id in inside],
                "invite_candidates": sorted((m.user_id for m in everyone if m.user_id not in inside and not m.is_me),
                                            key=str.lower),
                "dm_people": sorted((m for m in everyone if not m.is_me), key=lambda m: (not m.is_agent,
                                                                                      m.user_id.lower())),
            }
            assign_changed(self, **views)  # an assigned var is re-sent whole: only what changed
        if "thread" in fields:
            self.thread_open = session.thread_root is not None
            self.thread_root = session.thread_root or ChatMessage()
            self.thread_messages = list(session.thread.messages)

    async def _flush_rooms(self, bridge: Any) -> None:
        """Send what the session queued (read positions, history pages); kept until connected."""
        board = bridge.session.rooms
        while board.outbox:
            kind, data = board.outbox.pop(0)  # taken first: an event and the pump may both flush
            if not await bridge.send(kind, data):
                board.outbox.insert(0, (kind, data))
                return

    async def _room_send(self, kind: MessageType, data: dict[str, Any]) -> bool:
        bridge = self._bridge()  # type: ignore[attr-defined]
        if bridge is None or not await bridge.send(kind, data):
            self.error = "Not connected to the chat server right now; try again in a moment."
            return False
        return True

    async def _show(self, bridge: Any, changes: Any) -> None:
        await self._copy(bridge.session, changes)  # type: ignore[attr-defined]
        await self._show_typing(bridge.session)  # type: ignore[attr-defined]  # another room's typers

    # --- rooms --------------------------------------------------------------------------------
    @rx.event
    async def open_room(self, room_id: str):
        return await self._open_room(room_id)

    async def _open_room(self, room_id: str) -> rx.event.EventSpec | None:
        bridge = self._bridge()  # type: ignore[attr-defined]
        if bridge is None:
            return None
        left = bridge.session.room_id
        changes = bridge.session.open_room(room_id)
        await self._swap_draft(left, bridge.session.room_id)  # type: ignore[attr-defined]  # drafts per room
        await self._show(bridge, changes)
        await self._flush_rooms(bridge)
        self.show_browse = self.show_dm = False
        self.show_people = False  # type: ignore[has-type]  # the phone drawer that holds the column
        return self.room_url_script(bridge.session.room_id)

    @staticmethod
    def room_url_script(room_id: str) -> rx.event.EventSpec:
        """Show the room's address, so a reload or a copied link opens it."""
        return rx.call_script(f"window.history.replaceState(null, '', {json.dumps(room_url(room_id))})")

    @rx.event
    async def open_room_from_url(self):
        """On load: ``/?room=<id>`` opens that room (a link or a reload)."""
        room_id = self.router.url.query_parameters.get("room") or ""
        bridge = self._bridge()  # type: ignore[attr-defined]
        if bridge is not None and room_id and room_id != bridge.session.room_id:
            return await self._open_room(room_id)

    @rx.event
    def set_show_create(self, value: bool):
        self.show_create = value

    @rx.event
    def set_show_browse(self, value: bool):
        self.show_browse = value

    @rx.event
    def set_show_dm(self, value: bool):
        self.show_dm = value

    @rx.event
    async def create_room(self, form: dict):
        name = str(form.get("name") or "").strip()
        if not name:
            return
        kind = "private" if form.get("private") in ("on", True, "true") else "public"
        if await self._room_send(MessageType.ROOM_CREATE, {"name": name, "kind": kind}):
            bridge = self._bridge()  # type: ignore[attr-defined]
            bridge.session.rooms.waiting_for = ("create", name)
            self.show_create = False
            self.show_people = False  # type: ignore[has-type]

    @rx.event
    async def join_room(self, room_id: str):
        if await self._room_send(MessageType.ROOM_JOIN, {"roomId": room_id}):
            return await self._open_room(room_id)

    @rx.event
    async def leave_room(self):
        if self.room.room_id != GENERAL:
            await self._room_send(MessageType.ROOM_LEAVE, {"roomId": self.room.room_id})

    @rx.event
    async def open_dm(self, user_id: str):
        bridge = self._bridge()  # type: ignore[attr-defined]
        if bridge is None:
            return
        existing = next((r for r in bridge.session.rooms.direct() if user_id in r.members), None)
        self.show_dm = False
        self.show_people = False  # type: ignore[has-type]
        if existing is not None:
            return await self._open_room(existing.room_id)
        if await self._room_send(MessageType.DM_OPEN, {"userId": user_id}):
            bridge.session.rooms.waiting_for = ("dm", user_id)

    @rx.event
    async def invite(self, user_id: str):
        if user_id and await self._room_send(MessageType.ROOM_INVITE, {"roomId": self.room.room_id, "userId": user_id}):
            return rx.toast.info(f"Invited {user_id}")

    @rx.event
    async def set_agent_mode(self, agent: str, mode: str):
        await self._room_send(MessageType.ROOM_AGENT_MODE, {"roomId": self.room.room_id, "agent": agent, "mode": mode})

    # --- threads ------------------------------------------------------------------------------
    @rx.event
    async def open_thread(self, root_id: int):
        bridge = self._bridge()  # type: ignore[attr-defined]
        if bridge is None:
            return
        await self._show(bridge, bridge.session.open_thread(root_id))
        await self._flush_rooms(bridge)
        if self.thread_open:
            return rx.set_focus("thread-composer")

    @rx.event
    async def close_thread(self):
        bridge = self._bridge()  # type: ignore[attr-defined]
        if bridge is not None:
            await self._show(bridge, bridge.session.close_thread())
        self.thread_open = False

    @rx.event
    def set_thread_draft(self, value: str):
        self.thread_draft = value

    @rx.event
    async def send_thread_reply(self, form: dict | None = None):
        typed = (form or {}).get("reply")
        text = (typed if isinstance(typed, str) else self.thread_draft).rstrip()
        if not text.strip() or not self.thread_open:
            return
        data = {"id": time.time_ns() // 1000, "text": text, "mentions": parse_mentions(text),
                "roomId": self.thread_root.room_id, "threadId": self.thread_root.id}
        if await self._room_send(MessageType.MESSAGE, data):
            self.thread_draft = ""

    # --- edit, delete, react ------------------------------------------------------------------
    @rx.event
    def start_edit(self, message_id: int, text: str):
        self.editing_id = message_id
        self.editing_text = text

    @rx.event
    def set_editing_text(self, value: str):
        self.editing_text = value

    @rx.event
    def cancel_edit(self):
        self.editing_id = 0

    @rx.event
    def edit_open_changed(self, is_open: bool):
        if not is_open:
            self.editing_id = 0

    @rx.event
    async def save_edit(self, form: dict | None = None):
        typed = (form or {}).get("text")
        text = (typed if isinstance(typed, str) else self.editing_text).rstrip()
        if self.editing_id and text.strip():
            if await self._room_send(MessageType.MESSAGE_EDIT, {"id": self.editing_id, "text": text}):
                self.editing_id = 0

    @rx.event
    def ask_delete(self, message_id: int):
        self.deleting_id = message_id

    @rx.event
    def cancel_delete(self):
        self.deleting_id = 0

    @rx.event
    def delete_open_changed(self, is_open: bool):
        if not is_open:
            self.deleting_id = 0

    @rx.event
    async def confirm_delete(self):
        if self.deleting_id and await self._room_send(MessageType.MESSAGE_DELETE, {"id": self.deleting_id}):
            self.deleting_id = 0

    @rx.event
    async def react(self, message_id: int, emoji: str, op: str = "add"):
        await self._room_send(MessageType.REACTION, {"id": message_id, "emoji": emoji,
                                                    "op": "remove" if op == "remove" else "add"})
