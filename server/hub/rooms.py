"""``RoomService``: creating rooms, joining, leaving, inviting, direct messages, agent modes and
read positions.  The rules are ``core.rooms``'; this stores the outcome and tells the people
concerned (a ``room`` event for the members, ``room_removed`` for whoever lost access)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from agentchat_client.protocol import (
    GENERAL,
    AgentMode,
    ErrorCode,
    MessageType,
    ProtocolError,
    Role,
    RoomChanged,
    RoomKind,
    RoomRead,
    RoomRemoved,
    RoomSummary,
    server_frame,
)

from ..backends import Fanout
from ..core.events import Event
from ..core.policy import require_poster
from ..core.rooms import Room, RoomDirectory, new_room_id, summary
from ..core.view import ChatView
from ..store import RoomRecord, Store, UnreadCount

__all__ = ["RoomService", "UserLookup"]

UserLookup = Callable[[str], Awaitable[bool | None]]
"""Whether a user exists: True for an agent, False for a person, None for nobody."""


class RoomService:
    def __init__(self, store: Store, fanout: Fanout, rooms: RoomDirectory, view: ChatView, lookup: UserLookup) -> None:
        self.store = store
        self.fanout = fanout
        self.rooms = rooms
        self.view = view
        self.lookup = lookup

    # the list a person sees -----------------------------------------------------------------
    async def list_for(self, user_id: str) -> list[RoomSummary]:
        """Every room the person can read, with their unread and mention counts."""
        visible = self.rooms.visible_rooms(user_id)
        mine = self.rooms.member_room_ids(user_id)
        positions = await self.store.read_positions(user_id)
        # A room never read (new account, just joined) counts as read up to now.
        asked = {r.room_id: positions.get(r.room_id, 2**62) for r in visible if r.room_id in mine}
        counts = await self.store.unread_counts(user_id, asked) if asked else {}
        for room_id, position in asked.items():
            if position == 2**62:
                await self.store.set_read_position(user_id, room_id, counts[room_id].last_message_id)
        listed = []
        for room in visible:
            count = counts.get(room.room_id, UnreadCount(0, 0, 0))
            last_read = positions.get(room.room_id, count.last_message_id)
            listed.append(summary(room, unread=count.unread, mentions=count.mentions,
                                  last_message_id=count.last_message_id, last_read_id=last_read))
        return listed

    # changing rooms -----------------------------------------------------------------------
    async def _user(self, user_id: str) -> bool:
        is_agent = await self.lookup(user_id)
        if is_agent is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"There is nobody called {user_id!r}")
        return is_agent

    async def create(self, actor: str, role: Role, name: str, kind: str, members: list[str]) -> Room:
        require_poster(role, "create rooms")
        cleaned = self.rooms.check_new_name(name)
        for member in members:
            await self._user(member)
        room = Room(new_room_id(RoomKind(kind)), cleaned, RoomKind(kind), actor, frozenset({actor, *members}))
        await self._save(room, added=room.members)
        return room

    async def join(self, actor: str, room_id: str) -> Room:
        room = self.rooms.check_join(room_id, actor)
        if room.has_member(actor):
            self._tell(room, only=actor)  # already in: the answer is the room
            return room
        joined = room.with_members(room.members | {actor})
        await self._save(joined, added=[actor])
        return joined

    async def leave(self, actor: str, room_id: str) -> Room:
        room = self.rooms.check_leave(room_id, actor)
        left = room.with_members(room.members - {actor})
        await self._save(left, removed=[actor])
        return left

    async def invite(self, actor: str, role: Role, room_id: str, user_id: str) -> Room:
        room = self.rooms.check_invite(room_id, actor, role, user_id)
        await self._user(user_id)
        invited = room.with_members(room.members | {user_id})
        await self._save(invited, added=[user_id])
        return invited

    async def set_agent_mode(self, actor: str, role: Role, room_id: str, agent: str, mode: AgentMode) -> Room:
        room = self.rooms.check_mode(room_id, actor, role, agent)
        if not await self._user(agent):
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"{agent} is not an agent")
        changed = room.with_mode(agent, mode)
        await self._save(changed)
        return changed

    async def open_dm(self, actor: str, role: Role, other: str) -> Room:
        """The one direct-message room of the pair, made the first time either opens it."""
        require_poster(role, "send direct messages")
        if other == actor:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, "userId: a direct message needs someone else")
        await self._user(other)
        existing = self.rooms.dm_between(actor, other)
        if existing is not None:
            if actor in existing.members:
                self._tell(existing, only=actor)
                return existing
            existing = existing.with_members(existing.members | {actor})
            await self._save(existing, added=[actor])
            return existing
        room = Room(new_room_id(RoomKind.DM), f"{min(actor, other)} and {max(actor, other)}", RoomKind.DM, actor,
                    frozenset({actor, other}))
        await self._save(room, added=room.members)
        return room

    async def mark_read(self, user_id: str, room_id: str, last_read_id: int) -> int:
        """Move the person's read position in a room; their other tabs clear the badge too."""
        self.rooms.require_member(room_id, user_id)
        position = await self.store.set_read_position(user_id, room_id, last_read_id)
        data: RoomRead = {"roomId": room_id, "lastReadId": position}
        self.fanout.publish(Event(MessageType.ROOM_READ, server_frame(MessageType.ROOM_READ, data),
                                  target_user=user_id, _data=dict(data)))
        return position

    # telling people -----------------------------------------------------------------------
    async def _save(self, room: Room, added: Iterable[str] = (), removed: Iterable[str] = ()) -> None:
        await self.store.save_room(RoomRecord(
            room.room_id, room.name, room.kind.value, room.created_by, sorted(room.members),
            {agent: mode.value for agent, mode in room.agent_modes},
        ))
        for user_id in added:  # a new member starts read up to now; the history is there to scroll
            await self.store.set_read_position(user_id, room.room_id, self.view.last_id)
        self._tell(room)
        for user_id in removed:
            data: RoomRemoved = {"roomId": room.room_id, "reason": "left"}
            self.fanout.publish(Event(MessageType.ROOM_REMOVED, server_frame(MessageType.ROOM_REMOVED, data),
                                      target_user=user_id, _data=dict(data)))

    def _tell(self, room: Room, only: str | None = None) -> None:
        """A ``room`` event: every process applies it to its directory; the room's members (for a
        public room: everyone, who may join it) receive it."""
        data: RoomChanged = {"room": summary(room, last_message_id=self.view.last_id)}
        frame = server_frame(MessageType.ROOM, data)
        audience = None if room.kind is RoomKind.PUBLIC or room.room_id == GENERAL else room.room_id
        self.fanout.publish(Event(MessageType.ROOM, frame, target_user=only, room=audience, _data=dict(data)))
