"""Users, agent statuses and file records in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, func, select

from ...core.names import name_key
from ..base import FileStore, StatusStore, UserStore
from ..records import AgentStatus, Attachment, User
from ..tables import AgentStatusRow, AttachmentRow, UserRow
from .database import Database

__all__ = ["SqlPeople"]


def _user(row: UserRow) -> User:
    return User(row.name, row.role, row.is_agent, row.password_hash, row.created_at, row.last_seen)


def _status(row: AgentStatusRow) -> AgentStatus:
    return AgentStatus(row.agent, row.status, row.current_task, row.progress, row.updated_at)


def _attachment(row: AttachmentRow) -> Attachment:
    return Attachment(row.id, row.name, row.size, row.content_type, row.stored_name, row.uploader, row.created_at)


class SqlPeople(UserStore, StatusStore, FileStore):
    db: Database

    # users -------------------------------------------------------------------------------
    async def get_user(self, name: str) -> User | None:
        def work(s: Session) -> User | None:
            row = s.get(UserRow, name)
            return _user(row) if row is not None else None

        return await self.db.read(work)

    async def create_user(self, name: str, password_hash: str | None, role: str, is_agent: bool = False) -> User:
        def work(s: Session) -> User:
            if s.get(UserRow, name) is not None:
                raise ValueError(f"user {name!r} already exists")
            humans = s.exec(select(func.count()).select_from(UserRow).where(col(UserRow.is_agent).is_(False))).one()
            row = UserRow(
                name=name, name_key=name_key(name), password_hash=password_hash, is_agent=is_agent,
                role="admin" if (not is_agent and humans == 0) else role,
            )
            s.add(row)
            s.flush()
            return _user(row)

        return await self.db.write(work)

    async def ensure_user(self, name: str, role: str, is_agent: bool = False) -> User:
        def work(s: Session) -> User:
            row = s.get(UserRow, name)
            if row is None:
                row = UserRow(name=name, name_key=name_key(name), role=role, is_agent=is_agent)
                s.add(row)
                s.flush()
            elif is_agent and not row.is_agent:
                row.is_agent = True
            return _user(row)

        return await self.db.write(work)

    async def list_users(self) -> list[User]:
        return await self.db.read(lambda s: [_user(r) for r in s.exec(select(UserRow).order_by(col(UserRow.name)))])

    async def set_role(self, name: str, role: str) -> User | None:
        def work(s: Session) -> User | None:
            row = s.get(UserRow, name)
            if row is None:
                return None
            row.role = role
            return _user(row)

        return await self.db.write(work)

    async def touch_users(self, names: Iterable[str], when: datetime) -> None:
        wanted = list(set(names))
        if not wanted:
            return

        def work(s: Session) -> None:
            for row in s.exec(select(UserRow).where(col(UserRow.name).in_(wanted))):
                row.last_seen = when

        await self.db.write(work)

    # agent statuses ----------------------------------------------------------------------
    async def save_agent_status(self, status: AgentStatus) -> None:
        row = AgentStatusRow(
            agent=status.agent, status=status.status, current_task=status.current_task,
            progress=status.progress, updated_at=status.updated_at,
        )
        await self.db.write(lambda s: s.merge(row))

    async def agent_statuses(self) -> list[AgentStatus]:
        query = select(AgentStatusRow).order_by(col(AgentStatusRow.agent))
        return await self.db.read(lambda s: [_status(r) for r in s.exec(query)])

    # files -------------------------------------------------------------------------------
    async def add_attachment(self, attachment: Attachment) -> Attachment:
        row = AttachmentRow(
            id=attachment.id, name=attachment.name, size=attachment.size, content_type=attachment.content_type,
            stored_name=attachment.stored_name, uploader=attachment.uploader, created_at=attachment.created_at,
        )
        await self.db.write(lambda s: s.add(row))
        return attachment

    async def get_attachments(self, ids: Iterable[str]) -> list[Attachment]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []

        def work(s: Session) -> list[Attachment]:
            found = {r.id: _attachment(r) for r in s.exec(select(AttachmentRow).where(col(AttachmentRow.id).in_(wanted)))}
            return [found[i] for i in wanted if i in found]

        return await self.db.read(work)
