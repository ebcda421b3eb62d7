"""Rooms, their members and agent modes, and each person's read position per room, in SQL."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from ..base import RoomStore
from ..records import RoomRecord
from ..tables import ReadPositionRow, RoomMemberRow, RoomRow
from .database import Database

__all__ = ["SqlRooms"]


class SqlRooms(RoomStore):
    db: Database

    async def list_rooms(self) -> list[RoomRecord]:
        def work(s: Session) -> list[RoomRecord]:
            rooms = {
                r.id: RoomRecord(r.id, r.name, r.kind, r.created_by, created_at=r.created_at)
                for r in s.execute(select(RoomRow)).scalars()
            }
            for member in s.execute(select(RoomMemberRow).order_by(col(RoomMemberRow.joined_at))).scalars():
                room = rooms.get(member.room_id)
                if room is None:
                    continue
                room.members.append(member.user_id)
                if member.agent_mode:
                    room.agent_modes[member.user_id] = member.agent_mode
            return list(rooms.values())

        return await self.db.read(work)

    async def save_room(self, room: RoomRecord) -> None:
        def work(s: Session) -> None:
            row = s.get(RoomRow, room.room_id)
            if row is None:
                s.add(RoomRow(id=room.room_id, name=room.name, kind=room.kind, created_by=room.created_by,
                              created_at=room.created_at))
            else:
                row.name, row.kind = room.name, room.kind
            joined = {m.user_id: m for m in s.execute(select(RoomMemberRow).where(col(RoomMemberRow.room_id) == room.room_id)).scalars()}
            for user_id in set(joined) - set(room.members):
                s.delete(joined[user_id])
            for user_id in room.members:
                member = joined.get(user_id)
                if member is None:
                    member = RoomMemberRow(room_id=room.room_id, user_id=user_id)
                    s.add(member)
                member.agent_mode = room.agent_modes.get(user_id)

        await self.db.write(work)

    async def read_positions(self, user_id: str) -> dict[str, int]:
        query = select(ReadPositionRow).where(col(ReadPositionRow.user_id) == user_id)
        return await self.db.read(lambda s: {r.room_id: r.last_read_id for r in s.execute(query).scalars()})

    async def set_read_position(self, user_id: str, room_id: str, last_read_id: int) -> int:
        def work(s: Session) -> int:
            row = s.get(ReadPositionRow, (user_id, room_id))
            if row is None:
                row = ReadPositionRow(user_id=user_id, room_id=room_id, last_read_id=last_read_id)
                s.add(row)
            elif last_read_id > row.last_read_id:
                row.last_read_id = last_read_id
            return row.last_read_id

        return await self.db.write(work)
