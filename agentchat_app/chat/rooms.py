"""The rooms a person can read, their unread and mention counts, and which one is open (pure).

The server sends the list after every ``auth`` (``rooms``) with counts computed from the
person's stored read position, and later single ``room`` changes, ``room_removed`` and
``room_read`` (from this person's other tabs).  Between those the board counts live messages
itself.  Frames the board wants sent (``room_read``, a ``history`` page) wait in ``outbox``;
the state pump sends them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from agentchat_client.protocol import MessageType

from .models import AgentModeView, RoomView
from .updates import GENERAL

__all__ = ["RoomBoard", "RoomInfo", "MAX_COUNT"]

MAX_COUNT = 999


@dataclasses.dataclass
class RoomInfo:
    room_id: str
    name: str
    kind: str = "public"
    unread: int = 0
    mentions: int = 0
    last_message_id: int = 0
    last_read_id: int = 0
    members: list[str] = dataclasses.field(default_factory=list)
    member_count: int = 0
    agent_modes: dict[str, str] = dataclasses.field(default_factory=dict)
    created_by: str = ""


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def to_room(data: Any) -> RoomInfo | None:
    if not isinstance(data, dict) or not isinstance(data.get("roomId"), str) or not data["roomId"]:
        return None
    members = [m for m in data.get("members") or [] if isinstance(m, str)]
    modes = data.get("agentModes")
    modes = modes if isinstance(modes, dict) else {}
    return RoomInfo(
        room_id=data["roomId"],
        name=str(data.get("name") or data["roomId"]),
        kind=str(data.get("kind") or "public"),
        unread=_int(data.get("unread")),
        mentions=_int(data.get("mentions")),
        last_message_id=_int(data.get("lastMessageId")),
        last_read_id=_int(data.get("lastReadId")),
        members=members,
        member_count=_int(data.get("memberCount")) or len(members),
        agent_modes={str(k): str(v) for k, v in modes.items()},
        created_by=str(data.get("createdBy") or ""),
    )


class RoomBoard:
    def __init__(self, me: str) -> None:
        self.me = me
        self.rooms: dict[str, RoomInfo] = {GENERAL: RoomInfo(GENERAL, GENERAL)}
        self.current = GENERAL
        self.known = False
        """A ``rooms`` list arrived: a room missing from it is not readable."""
        self.outbox: list[tuple[MessageType, dict[str, Any]]] = []
        self.waiting_for: tuple[str, str] | None = None
        """``("create", name)`` or ``("dm", user)``: open that room when the server announces it."""

    # --- queries ------------------------------------------------------------------------------
    def is_member(self, room: RoomInfo) -> bool:
        return room.room_id == GENERAL or self.me in room.members

    def label(self, room: RoomInfo) -> str:
        if room.kind == "dm":
            others = [m for m in room.members if m != self.me]
            return others[0] if others else room.name
        return room.name

    def where(self, room_id: str) -> str:
        """`` in #design`` for a room that is not open (for a toast), else nothing."""
        room = self.rooms.get(room_id)
        if room is None or room_id == self.current:
            return ""
        return " in a direct message" if room.kind == "dm" else f" in #{room.name}"

    def view(self, room: RoomInfo) -> RoomView:
        return RoomView(
            room_id=room.room_id, name=room.name, label=self.label(room), kind=room.kind,
            unread=room.unread, mentions=room.mentions, is_member=self.is_member(room),
            members=list(room.members), member_count=room.member_count, active=room.room_id == self.current,
        )

    def channels(self) -> list[RoomView]:
        """Public and private rooms I am in, ``general`` first, then by name."""
        mine = [r for r in self.rooms.values() if r.kind != "dm" and self.is_member(r)]
        mine.sort(key=lambda r: (r.room_id != GENERAL, r.name.lower()))
        return [self.view(r) for r in mine]

    def direct(self) -> list[RoomView]:
        dms = [r for r in self.rooms.values() if r.kind == "dm" and self.is_member(r)]
        dms.sort(key=lambda r: self.label(r).lower())
        return [self.view(r) for r in dms]

    def browsable(self) -> list[RoomView]:
        """Public rooms I may join (and those I am in, marked as such), by name."""
        public = [r for r in self.rooms.values() if r.kind == "public"]
        public.sort(key=lambda r: r.name.lower())
        return [self.view(r) for r in public]

    def current_view(self) -> RoomView:
        return self.view(self.rooms.get(self.current) or RoomInfo(self.current, self.current))

    def agent_modes(self, agents: set[str]) -> list[AgentModeView]:
        """The agents in the current room with their mode (``general``: every known agent)."""
        room = self.rooms.get(self.current)
        if room is None:
            return []
        names = sorted(agents) if room.room_id == GENERAL else sorted(m for m in room.members if m in agents)
        default = "all" if room.kind == "dm" else "mention"
        return [AgentModeView(agent=a, mode=room.agent_modes.get(a, default)) for a in names]

    # --- frames -------------------------------------------------------------------------------
    def on_rooms(self, data: dict[str, Any]) -> None:
        rooms = [r for r in (to_room(item) for item in data.get("rooms") or []) if r is not None]
        self.rooms = {r.room_id: r for r in rooms}
        self.rooms.setdefault(GENERAL, RoomInfo(GENERAL, GENERAL))
        self.known = True
        if self.current not in self.rooms:
            self.current = GENERAL
        self.mark_read(self.current)

    def on_room(self, data: dict[str, Any]) -> str | None:
        """A room was created or changed; the room to open now if I was waiting for it."""
        room = to_room(data.get("room"))
        if room is None:
            return None
        old = self.rooms.get(room.room_id)
        if old is not None:  # the frame's counts are neutral: keep mine
            room = dataclasses.replace(room, unread=old.unread, mentions=old.mentions,
                                       last_read_id=max(old.last_read_id, room.last_read_id))
        self.rooms[room.room_id] = room
        wanted = self.waiting_for
        if wanted is not None and self.is_member(room) and (
            (wanted[0] == "create" and room.name.lower() == wanted[1].lower() and room.kind != "dm")
            or (wanted[0] == "dm" and room.kind == "dm" and wanted[1] in room.members)
        ):
            self.waiting_for = None
            return room.room_id
        return None

    def on_removed(self, data: dict[str, Any]) -> bool:
        """I lost a room; True when it was the open one (the view goes back to ``general``)."""
        room_id = data.get("roomId")
        room = self.rooms.get(room_id) if isinstance(room_id, str) else None
        if room is None or room.room_id == GENERAL:
            return False
        if room.kind == "public":  # still readable and joinable: I am just not in it
            self.rooms[room.room_id] = dataclasses.replace(
                room, members=[m for m in room.members if m != self.me], unread=0, mentions=0)
        else:
            del self.rooms[room.room_id]
        if self.current == room.room_id:
            self.current = GENERAL
            return True
        return False

    def on_read(self, data: dict[str, Any]) -> bool:
        """My read position moved (in this tab or another): clear the badge when it is at the end.
        True when a badge changed."""
        room_id = data.get("roomId")
        room = self.rooms.get(room_id) if isinstance(room_id, str) else None
        last_read = _int(data.get("lastReadId"))
        if room is None or last_read <= room.last_read_id:
            return False
        room.last_read_id = last_read
        if last_read >= room.last_message_id and (room.unread or room.mentions):
            room.unread = room.mentions = 0
            return True
        return False

    def on_message(self, room_id: str, message_id: int, *, mine: bool, mentions_me: bool, timeline: bool) -> bool:
        """A live or replayed message; True when a badge changed.

        The ``rooms`` list already counts everything up to each room's ``lastMessageId``, so a
        message replayed by recovery is not counted twice.  A message in the open room is read."""
        room = self.rooms.get(room_id)
        if room is None or message_id <= room.last_message_id:
            return False
        room.last_message_id = message_id
        if not timeline:
            return False
        if room_id == self.current:
            self.mark_read(room_id)
            return False
        if mine:
            return False
        room.unread = min(MAX_COUNT, room.unread + 1)
        if mentions_me:
            room.mentions = min(MAX_COUNT, room.mentions + 1)
        return True

    # --- what the person does -----------------------------------------------------------------
    def open(self, room_id: str) -> str:
        """Show ``room_id`` (an unknown one falls back to ``general`` once the list is known)."""
        if self.known and room_id not in self.rooms:
            room_id = GENERAL
        self.current = room_id
        self.mark_read(room_id)
        return room_id

    def mark_read(self, room_id: str) -> None:
        room = self.rooms.get(room_id)
        if room is None:
            return
        room.unread = room.mentions = 0
        if room.last_message_id > room.last_read_id and self.is_member(room):
            room.last_read_id = room.last_message_id
            self.outbox = [f for f in self.outbox if not (f[0] == MessageType.ROOM_READ and f[1]["roomId"] == room_id)]
            self.queue(MessageType.ROOM_READ, {"roomId": room_id, "lastReadId": room.last_message_id})

    def queue(self, kind: MessageType, data: dict[str, Any]) -> None:
        """Send ``kind`` when connected (the same frame twice is sent once)."""
        if (kind, data) not in self.outbox:
            self.outbox.append((kind, data))

