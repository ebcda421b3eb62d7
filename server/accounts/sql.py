"""``AccountStore`` on the server's database, through ``SqlStore``'s engine and thread pools.

Reads go to ``Database.read`` (the reader pool), writes to ``Database.write`` (the single writer
thread, so e.g. "the first person becomes admin" is decided by one writer per process).  The
tables are created by the Alembic revision ``0002_accounts``; they are described here with
SQLAlchemy Core, so the service only ever sees plain records.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ..store.sql import SqlStore
from .base import (
    AccountRecord,
    AccountStore,
    AgentKeyRecord,
    Attempts,
    InviteRecord,
    NameTaken,
    ResetRecord,
    SessionRecord,
)
from ..core.names import name_key

__all__ = ["SqlAccountStore"]

_meta = sa.MetaData()
TS = sa.DateTime(timezone=True)
users = sa.Table(
    "users", _meta,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("name_key", sa.String(64)),
    sa.Column("password_hash", sa.Text),
    sa.Column("role", sa.String(16)),
    sa.Column("is_agent", sa.Boolean),
    sa.Column("disabled", sa.Boolean),
    sa.Column("created_at", TS),
    sa.Column("last_seen", TS),
)
sessions = sa.Table(
    "auth_sessions", _meta,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("user_name", sa.String(32)),
    sa.Column("secret_hash", sa.String(64)),
    sa.Column("created_at", TS),
    sa.Column("expires_at", TS),
    sa.Column("last_used_at", TS),
    sa.Column("revoked_at", TS),
)
agent_keys = sa.Table(
    "agent_keys", _meta,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("agent", sa.String(32)),
    sa.Column("label", sa.String(80)),
    sa.Column("secret_hash", sa.String(64)),
    sa.Column("created_by", sa.String(32)),
    sa.Column("created_at", TS),
    sa.Column("last_used_at", TS),
    sa.Column("revoked_at", TS),
)
invites = sa.Table(
    "invites", _meta,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("secret_hash", sa.String(64)),
    sa.Column("role", sa.String(16)),
    sa.Column("created_by", sa.String(32)),
    sa.Column("created_at", TS),
    sa.Column("expires_at", TS),
    sa.Column("used_by", sa.String(32)),
    sa.Column("used_at", TS),
    sa.Column("revoked_at", TS),
)
resets = sa.Table(
    "password_resets", _meta,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("user_name", sa.String(32)),
    sa.Column("secret_hash", sa.String(64)),
    sa.Column("created_by", sa.String(32)),
    sa.Column("created_at", TS),
    sa.Column("expires_at", TS),
    sa.Column("used_at", TS),
)
attempts = sa.Table(
    "signin_attempts", _meta,
    sa.Column("key", sa.String(160), primary_key=True),
    sa.Column("failures", sa.Integer),
    sa.Column("last_failure_at", TS),
    sa.Column("blocked_until", TS),
)


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they were stored in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _when(value: datetime) -> datetime:
    """A required timestamp column, as an aware datetime."""
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _changed(result: Any) -> int:
    """Rows an UPDATE matched (``Session.execute`` is typed as returning a plain ``Result``)."""
    return int(result.rowcount)


def _account(row: Any) -> AccountRecord:
    return AccountRecord(row.name, row.role, bool(row.is_agent), bool(row.disabled), row.password_hash,
                         _utc(row.created_at), _utc(row.last_seen))


def _session(row: Any) -> SessionRecord:
    return SessionRecord(row.id, row.user_name, row.secret_hash, _when(row.created_at), _when(row.expires_at),
                         _utc(row.last_used_at), _utc(row.revoked_at))


def _key(row: Any) -> AgentKeyRecord:
    return AgentKeyRecord(row.id, row.agent, row.label, row.secret_hash, row.created_by, _when(row.created_at),
                          _utc(row.last_used_at), _utc(row.revoked_at))


def _invite(row: Any) -> InviteRecord:
    return InviteRecord(row.id, row.secret_hash, row.role, row.created_by, _when(row.created_at),
                        _when(row.expires_at), row.used_by, _utc(row.used_at), _utc(row.revoked_at))


def _reset(row: Any) -> ResetRecord:
    return ResetRecord(row.id, row.user_name, row.secret_hash, row.created_by, _when(row.created_at),
                       _when(row.expires_at), _utc(row.used_at))


class SqlAccountStore(AccountStore):
    def __init__(self, store: SqlStore) -> None:
        self.db = store.db

    # accounts ------------------------------------------------------------------------------
    async def find_account(self, name: str) -> AccountRecord | None:
        def work(s: Session) -> AccountRecord | None:
            row = s.execute(sa.select(users).where(users.c.name == name)).first()
            if row is None:
                row = s.execute(sa.select(users).where(users.c.name_key == name_key(name))).first()
            return _account(row) if row is not None else None

        return await self.db.read(work)

    async def create_account(self, name: str, password_hash: str | None, role: str, *, is_agent: bool = False,
                             first_is_admin: bool = True, invite_id: str | None = None,
                             now: datetime) -> AccountRecord:
        def work(s: Session) -> AccountRecord:
            key = name_key(name)
            taken = s.execute(sa.select(users.c.name).where(sa.or_(users.c.name == name, users.c.name_key == key)))
            if taken.first() is not None:
                raise NameTaken(name)
            if invite_id is not None:
                used = s.execute(
                    invites.update()
                    .where(invites.c.id == invite_id, invites.c.used_at.is_(None), invites.c.revoked_at.is_(None),
                           invites.c.expires_at > now)
                    .values(used_by=name, used_at=now)
                )
                if _changed(used) != 1:
                    raise LookupError(invite_id)
            final_role = role
            if first_is_admin and not is_agent:
                humans = s.execute(sa.select(sa.func.count()).select_from(users).where(users.c.is_agent.is_(False)))
                if humans.scalar_one() == 0:
                    final_role = "admin"
            values = dict(name=name, name_key=key, password_hash=password_hash, role=final_role, is_agent=is_agent,
                          disabled=False, created_at=now, last_seen=None)
            s.execute(users.insert().values(**values))
            return AccountRecord(name, final_role, is_agent, False, password_hash, now, None)

        try:
            return await self.db.write(work)
        except IntegrityError:
            raise NameTaken(name) from None

    async def count_humans(self) -> int:
        return await self.db.read(lambda s: s.execute(
            sa.select(sa.func.count()).select_from(users).where(users.c.is_agent.is_(False))).scalar_one())

    async def list_accounts(self) -> list[AccountRecord]:
        return await self.db.read(
            lambda s: [_account(r) for r in s.execute(sa.select(users).order_by(users.c.name))])

    async def update_account(self, name: str, *, role: str | None = None, disabled: bool | None = None,
                             password_hash: str | None = None,
                             last_seen: datetime | None = None) -> AccountRecord | None:
        values = {k: v for k, v in (("role", role), ("disabled", disabled), ("password_hash", password_hash),
                                    ("last_seen", last_seen)) if v is not None}

        def work(s: Session) -> AccountRecord | None:
            if values:
                s.execute(users.update().where(users.c.name == name).values(**values))
            row = s.execute(sa.select(users).where(users.c.name == name)).first()
            return _account(row) if row is not None else None

        return await self.db.write(work)

    # sessions ------------------------------------------------------------------------------
    async def add_session(self, record: SessionRecord) -> None:
        await self.db.write(lambda s: s.execute(sessions.insert().values(
            id=record.id, user_name=record.user, secret_hash=record.secret_hash, created_at=record.created_at,
            expires_at=record.expires_at, last_used_at=record.last_used_at, revoked_at=None)))

    async def get_session(self, session_id: str) -> SessionRecord | None:
        def work(s: Session) -> SessionRecord | None:
            row = s.execute(sa.select(sessions).where(sessions.c.id == session_id)).first()
            return _session(row) if row is not None else None

        return await self.db.read(work)

    async def touch_session(self, session_id: str, user: str, when: datetime) -> None:
        def work(s: Session) -> None:
            s.execute(sessions.update().where(sessions.c.id == session_id).values(last_used_at=when))
            s.execute(users.update().where(users.c.name == user).values(last_seen=when))

        await self.db.write(work)

    async def revoke_sessions(self, user: str, when: datetime, session_id: str | None = None) -> int:
        def work(s: Session) -> int:
            active = sa.and_(sessions.c.user_name == user, sessions.c.revoked_at.is_(None))
            if session_id is not None:
                active = sa.and_(active, sessions.c.id == session_id)
            live = s.execute(sa.select(sa.func.count()).select_from(sessions)
                             .where(active, sessions.c.expires_at > when)).scalar_one()
            s.execute(sessions.update().where(active).values(revoked_at=when))
            return int(live)

        return await self.db.write(work)

    # agent keys ----------------------------------------------------------------------------
    async def add_key(self, record: AgentKeyRecord) -> None:
        await self.db.write(lambda s: s.execute(agent_keys.insert().values(
            id=record.id, agent=record.agent, label=record.label, secret_hash=record.secret_hash,
            created_by=record.created_by, created_at=record.created_at, last_used_at=None, revoked_at=None)))

    async def get_key(self, key_id: str) -> AgentKeyRecord | None:
        def work(s: Session) -> AgentKeyRecord | None:
            row = s.execute(sa.select(agent_keys).where(agent_keys.c.id == key_id)).first()
            return _key(row) if row is not None else None

        return await self.db.read(work)

    async def list_keys(self) -> list[AgentKeyRecord]:
        return await self.db.read(
            lambda s: [_key(r) for r in s.execute(sa.select(agent_keys).order_by(agent_keys.c.created_at))])

    async def revoke_key(self, key_id: str, when: datetime) -> AgentKeyRecord | None:
        def work(s: Session) -> AgentKeyRecord | None:
            s.execute(agent_keys.update().where(agent_keys.c.id == key_id, agent_keys.c.revoked_at.is_(None))
                      .values(revoked_at=when))
            row = s.execute(sa.select(agent_keys).where(agent_keys.c.id == key_id)).first()
            return _key(row) if row is not None else None

        return await self.db.write(work)

    async def touch_key(self, key_id: str, when: datetime) -> None:
        await self.db.write(lambda s: s.execute(agent_keys.update().where(agent_keys.c.id == key_id)
                                              .values(last_used_at=when)))

    # invites and resets ----------------------------------------------------------------------
    async def add_invite(self, record: InviteRecord) -> None:
        await self.db.write(lambda s: s.execute(invites.insert().values(
            id=record.id, secret_hash=record.secret_hash, role=record.role, created_by=record.created_by,
            created_at=record.created_at, expires_at=record.expires_at)))

    async def get_invite(self, invite_id: str) -> InviteRecord | None:
        def work(s: Session) -> InviteRecord | None:
            row = s.execute(sa.select(invites).where(invites.c.id == invite_id)).first()
            return _invite(row) if row is not None else None

        return await self.db.read(work)

    async def list_invites(self) -> list[InviteRecord]:
        return await self.db.read(
            lambda s: [_invite(r) for r in s.execute(sa.select(invites).order_by(invites.c.created_at))])

    async def revoke_invite(self, invite_id: str, when: datetime) -> InviteRecord | None:
        def work(s: Session) -> InviteRecord | None:
            s.execute(invites.update().where(invites.c.id == invite_id, invites.c.revoked_at.is_(None))
                      .values(revoked_at=when))
            row = s.execute(sa.select(invites).where(invites.c.id == invite_id)).first()
            return _invite(row) if row is not None else None

        return await self.db.write(work)

    async def add_reset(self, record: ResetRecord) -> None:
        await self.db.write(lambda s: s.execute(resets.insert().values(
            id=record.id, user_name=record.user, secret_hash=record.secret_hash, created_by=record.created_by,
            created_at=record.created_at, expires_at=record.expires_at)))

    async def get_reset(self, reset_id: str) -> ResetRecord | None:
        def work(s: Session) -> ResetRecord | None:
            row = s.execute(sa.select(resets).where(resets.c.id == reset_id)).first()
            return _reset(row) if row is not None else None

        return await self.db.read(work)

    async def use_reset(self, reset_id: str, password_hash: str, when: datetime) -> bool:
        def work(s: Session) -> bool:
            row = s.execute(sa.select(resets).where(resets.c.id == reset_id)).first()
            if row is None:
                return False
            used = s.execute(resets.update().where(resets.c.id == reset_id, resets.c.used_at.is_(None))
                             .values(used_at=when))
            if _changed(used) != 1:
                return False
            s.execute(users.update().where(users.c.name == row.user_name).values(password_hash=password_hash))
            s.execute(sessions.update().where(sessions.c.user_name == row.user_name, sessions.c.revoked_at.is_(None))
                      .values(revoked_at=when))
            return True

        return await self.db.write(work)

    # sign-in attempts ------------------------------------------------------------------------
    async def get_attempts(self, keys: list[str]) -> dict[str, Attempts]:
        def work(s: Session) -> dict[str, Attempts]:
            rows = s.execute(sa.select(attempts).where(attempts.c.key.in_(keys)))
            return {r.key: Attempts(r.key, r.failures, _utc(r.last_failure_at), _utc(r.blocked_until)) for r in rows}

        return await self.db.read(work)

    async def save_attempts(self, records: list[Attempts]) -> None:
        def work(s: Session) -> None:
            for record in records:
                values = dict(failures=record.failures, last_failure_at=record.last_failure,
                              blocked_until=record.blocked_until)
                updated = s.execute(attempts.update().where(attempts.c.key == record.key).values(**values))
                if _changed(updated) == 0:
                    s.execute(attempts.insert().values(key=record.key, **values))

        await self.db.write(work)

    async def clear_attempts(self, key: str) -> None:
        await self.db.write(lambda s: s.execute(attempts.delete().where(attempts.c.key == key)))
