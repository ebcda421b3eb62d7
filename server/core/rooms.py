"""Rooms: who is in which, who may read and who receives what, and the rules for changing them.

``general`` exists and everyone is in it.  ``public`` rooms anyone may read and join;
``private`` rooms and ``dm``s only their members may see at all.  Live events of a room go to
its members only (joining a public room is subscribing to it), so a client that reconnects gets,
through recovery, exactly what it would have received live.

The directory is pure: loaded from the store at start, changed only by applying ``room``
events, so every server process holds the same view.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from agentchat_client.protocol import GENERAL, AgentMode, ErrorCode, ProtocolError, Role, RoomKind, RoomSummary

__all__ = ["Room", "RoomDirectory", "new_room_id", "dm_key", "summary", "room_from_summary", "GENERAL_ROOM"]


def new_room_id(kind: RoomKind) -> str:
    return ("dm-" if kind is RoomKind.DM else "r-") + secrets.token_hex(6)


def dm_key(a: str, b: str) -> str:
    """The one key of a pair's direct-message room, whoever opens it."""
    return "|".join(sorted((a, b)))


def _normal(name: str) -> str:
    return unicodedata.normalize("NFKC", " ".join(name.split())).casefold()


@dataclass(frozen=True, slots=True)
class Room:
    room_id: str
    name: str
    kind: RoomKind
    created_by: str | None = None
    members: frozenset[str] = field(default_factory=frozenset)
    agent_modes: tuple[tuple[str, AgentMode], ...] = ()
    """(agent, mode) for agents whose mode is not the default."""

    @property
    def is_general(self) -> bool:
        return self.room_id == GENERAL

    def has_member(self, user_id: str) -> bool:
        return self.is_general or user_id in self.members

    def readable_by(self, user_id: str) -> bool:
        return self.is_general or self.kind is RoomKind.PUBLIC or user_id in self.members

    def mode_of(self, agent: str) -> AgentMode:
        for name, mode in self.agent_modes:
            if name == agent:
                return mode
        return AgentMode.ALL if self.kind is RoomKind.DM else AgentMode.MENTION

    def with_members(self, members: Iterable[str]) -> Room:
        return replace(self, members=frozenset(members))

    def with_mode(self, agent: str, mode: AgentMode) -> Room:
        modes = tuple((n, m) for n, m in self.agent_modes if n != agent) + ((agent, mode),)
        return replace(self, agent_modes=modes)


GENERAL_ROOM = Room(GENERAL, "general", RoomKind.PUBLIC)


class RoomDirectory:
    """Every room and its members, as this process knows them."""

    def __init__(self) -> None:
        self._rooms: dict[str, Room] = {GENERAL: GENERAL_ROOM}
        self._of_user: dict[str, set[str]] = {}
        self._dms: dict[str, str] = {}

    # reading -----------------------------------------------------------------------------
    def __contains__(self, room_id: object) -> bool:
        return room_id in self._rooms

    def __len__(self) -> int:
        return len(self._rooms)

    def get(self, room_id: str) -> Room | None:
        return self._rooms.get(room_id)

    def all(self) -> list[Room]:
        return list(self._rooms.values())

    def member_rooms(self, user_id: str) -> list[Room]:
        """``general`` and every room ``user_id`` is a member of (their live subscriptions)."""
        return [GENERAL_ROOM if r == GENERAL else self._rooms[r] for r in (GENERAL, *sorted(self._of_user.get(user_id, ())))]

    def member_room_ids(self, user_id: str) -> set[str]:
        return {GENERAL, *self._of_user.get(user_id, ())}

    def visible_rooms(self, user_id: str) -> list[Room]:
        """What the person's room list shows: rooms they are in, and public rooms they may join."""
        mine = self.member_room_ids(user_id)
        return [r for r in self._rooms.values() if r.room_id in mine or r.kind is RoomKind.PUBLIC]

    def members_of(self, room_id: str) -> frozenset[str] | None:
        """The members of a room (None for ``general``: everyone, and for an unknown room)."""
        room = self._rooms.get(room_id)
        return None if room is None or room.is_general else room.members

    def readable_ids(self, user_id: str) -> set[str]:
        return {r.room_id for r in self._rooms.values() if r.readable_by(user_id)}

    def dm_between(self, a: str, b: str) -> Room | None:
        room_id = self._dms.get(dm_key(a, b))
        return self._rooms.get(room_id) if room_id else None

    # the rules ---------------------------------------------------------------------------
    def require_readable(self, room_id: str, user_id: str) -> Room:
        """The room, if ``user_id`` may read it; otherwise the same answer as for a room that
        does not exist, so a private room's existence does not leak."""
        room = self._rooms.get(room_id)
        if room is None or not room.readable_by(user_id):
            raise ProtocolError(ErrorCode.FORBIDDEN, f"You are not a member of room {room_id!r}")
        return room

    def require_member(self, room_id: str, user_id: str) -> Room:
        room = self.require_readable(room_id, user_id)
        if not room.has_member(user_id):
            raise ProtocolError(ErrorCode.FORBIDDEN, f"Join {room.name!r} first")
        return room

    def check_new_name(self, name: str) -> str:
        cleaned = " ".join(name.split())
        if not cleaned:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, "name: a room needs a name")
        wanted = _normal(cleaned)
        if any(_normal(r.name) == wanted for r in self._rooms.values() if r.kind is not RoomKind.DM):
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"name: there is already a room called {cleaned!r}")
        return cleaned

    def check_invite(self, room_id: str, actor: str, role: Role, user_id: str) -> Room:
        if role is Role.VIEWER:
            raise ProtocolError(ErrorCode.FORBIDDEN, "Viewers may not invite")
        room = self.require_member(room_id, actor)
        if room.is_general:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, "Everyone is in general already")
        if room.kind is RoomKind.DM:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, "A direct message stays between its two members")
        if user_id in room.members:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"{user_id} is in {room.name!r} already")
        return room

    def check_join(self, room_id: str, user_id: str) -> Room:
        room = self._rooms.get(room_id)
        if room is None or (room.kind is not RoomKind.PUBLIC and user_id not in room.members):
            raise ProtocolError(ErrorCode.FORBIDDEN, f"Room {room_id!r} is not open to join; ask a member to invite you")
        return room

    def check_leave(self, room_id: str, user_id: str) -> Room:
        room = self.require_member(room_id, user_id)
        if room.is_general:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, "Everyone stays in general")
        return room

    def check_mode(self, room_id: str, actor: str, role: Role, agent: str) -> Room:
        if role is Role.VIEWER:
            raise ProtocolError(ErrorCode.FORBIDDEN, "Viewers may not change agents")
        room = self.require_member(room_id, actor)
        if not room.has_member(agent):
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"{agent} is not in {room.name!r}; invite it first")
        return room

    # changing ----------------------------------------------------------------------------
    def put(self, room: Room) -> None:
        """Add or replace a room (loading, or applying a ``room`` event)."""
        if room.is_general:
            self._rooms[GENERAL] = replace(GENERAL_ROOM, agent_modes=room.agent_modes)
            return
        old = self._rooms.get(room.room_id)
        for user in old.members if old else ():
            self._of_user.get(user, set()).discard(room.room_id)
        self._rooms[room.room_id] = room
        for user in room.members:
            self._of_user.setdefault(user, set()).add(room.room_id)
        if room.kind is RoomKind.DM and len(room.members) == 2:
            a, b = sorted(room.members)
            self._dms[dm_key(a, b)] = room.room_id
        elif room.kind is RoomKind.DM and old is not None and len(old.members) == 2:
            a, b = sorted(old.members)
            self._dms.setdefault(dm_key(a, b), room.room_id)

    def load(self, rooms: Iterable[Room]) -> None:
        for room in rooms:
            self.put(room)


def summary(room: Room, *, unread: int = 0, mentions: int = 0, last_message_id: int = 0,
            last_read_id: int | None = None) -> RoomSummary:
    """A room as a person's list shows it.  Broadcast changes carry neutral counts (0 unread,
    read up to the newest message): a client keeps its own counts for a room it already knows."""
    return {
        "roomId": room.room_id,
        "name": room.name,
        "kind": room.kind.value,  # type: ignore[typeddict-item]
        "unread": unread,
        "mentions": mentions,
        "lastMessageId": last_message_id,
        "lastReadId": last_message_id if last_read_id is None else last_read_id,
        "members": [] if room.is_general else sorted(room.members),
        "memberCount": len(room.members),
        "agentModes": {agent: mode.value for agent, mode in room.agent_modes},
        "createdBy": room.created_by,
    }


def room_from_summary(data: RoomSummary) -> Room:
    """The room a ``room`` event describes (every process applies it to its directory)."""
    return Room(
        data["roomId"], data["name"], RoomKind(data["kind"]), data.get("createdBy"), frozenset(data["members"]),
        tuple((agent, AgentMode(mode)) for agent, mode in sorted(data.get("agentModes", {}).items())),
    )
