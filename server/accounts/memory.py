"""``AccountStore`` in dicts: for unit tests of the service (one process, nothing persists)."""

from __future__ import annotations

from typing import Any

from dataclasses import replace
from datetime import datetime

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

__all__ = ["MemoryAccountStore"]


class MemoryAccountStore(AccountStore):
    def __init__(self) -> None:
        self.accounts: dict[str, AccountRecord] = {}
        self.keys_by_name: dict[str, str] = {}
        self.sessions: dict[str, SessionRecord] = {}
        self.agent_keys: dict[str, AgentKeyRecord] = {}
        self.invites: dict[str, InviteRecord] = {}
        self.resets: dict[str, ResetRecord] = {}
        self.attempts: dict[str, Attempts] = {}

    async def find_account(self, name: str) -> AccountRecord | None:
        found = self.accounts.get(name)
        if found is None and name_key(name) in self.keys_by_name:
            found = self.accounts.get(self.keys_by_name[name_key(name)])
        return found

    async def create_account(self, name: str, password_hash: str | None, role: str, *, is_agent: bool = False,
                             first_is_admin: bool = True, invite_id: str | None = None,
                             now: datetime) -> AccountRecord:
        if name in self.accounts or name_key(name) in self.keys_by_name:
            raise NameTaken(name)
        if invite_id is not None:
            invite = self.invites.get(invite_id)
            if invite is None or not invite.usable(now):
                raise LookupError(invite_id)
            self.invites[invite_id] = replace(invite, used_by=name, used_at=now)
        if first_is_admin and not is_agent and await self.count_humans() == 0:
            role = "admin"
        record = AccountRecord(name, role, is_agent, False, password_hash, now, None)
        self.accounts[name] = record
        self.keys_by_name[name_key(name)] = name
        return record

    async def count_humans(self) -> int:
        return sum(1 for a in self.accounts.values() if not a.is_agent)

    async def list_accounts(self) -> list[AccountRecord]:
        return sorted(self.accounts.values(), key=lambda a: a.name)

    async def update_account(self, name: str, *, role: str | None = None, disabled: bool | None = None,
                             password_hash: str | None = None,
                             last_seen: datetime | None = None) -> AccountRecord | None:
        record = self.accounts.get(name)
        if record is None:
            return None
        changes: dict[str, Any] = {k: v for k, v in (("role", role), ("disabled", disabled),
                                                     ("password_hash", password_hash), ("last_seen", last_seen))
                                   if v is not None}
        record = replace(record, **changes)
        self.accounts[name] = record
        return record

    async def add_session(self, record: SessionRecord) -> None:
        self.sessions[record.id] = record

    async def get_session(self, session_id: str) -> SessionRecord | None:
        return self.sessions.get(session_id)

    async def touch_session(self, session_id: str, user: str, when: datetime) -> None:
        if session_id in self.sessions:
            self.sessions[session_id] = replace(self.sessions[session_id], last_used_at=when)
        await self.update_account(user, last_seen=when)

    async def revoke_sessions(self, user: str, when: datetime, session_id: str | None = None) -> int:
        count = 0
        for record in list(self.sessions.values()):
            if record.user != user or (session_id is not None and record.id != session_id):
                continue
            if record.revoked_at is None and record.expires_at > when:
                count += 1
            if record.revoked_at is None:
                self.sessions[record.id] = replace(record, revoked_at=when)
        return count

    async def add_key(self, record: AgentKeyRecord) -> None:
        self.agent_keys[record.id] = record

    async def get_key(self, key_id: str) -> AgentKeyRecord | None:
        return self.agent_keys.get(key_id)

    async def list_keys(self) -> list[AgentKeyRecord]:
        return sorted(self.agent_keys.values(), key=lambda k: k.created_at)

    async def revoke_key(self, key_id: str, when: datetime) -> AgentKeyRecord | None:
        record = self.agent_keys.get(key_id)
        if record is not None and record.revoked_at is None:
            record = self.agent_keys[key_id] = replace(record, revoked_at=when)
        return record

    async def touch_key(self, key_id: str, when: datetime) -> None:
        if key_id in self.agent_keys:
            self.agent_keys[key_id] = replace(self.agent_keys[key_id], last_used_at=when)

    async def add_invite(self, record: InviteRecord) -> None:
        self.invites[record.id] = record

    async def get_invite(self, invite_id: str) -> InviteRecord | None:
        return self.invites.get(invite_id)

    async def list_invites(self) -> list[InviteRecord]:
        return sorted(self.invites.values(), key=lambda i: i.created_at)

    async def revoke_invite(self, invite_id: str, when: datetime) -> InviteRecord | None:
        record = self.invites.get(invite_id)
        if record is not None and record.revoked_at is None:
            record = self.invites[invite_id] = replace(record, revoked_at=when)
        return record

    async def add_reset(self, record: ResetRecord) -> None:
        self.resets[record.id] = record

    async def get_reset(self, reset_id: str) -> ResetRecord | None:
        return self.resets.get(reset_id)

    async def use_reset(self, reset_id: str, password_hash: str, when: datetime) -> bool:
        record = self.resets.get(reset_id)
        if record is None or record.used_at is not None:
            return False
        self.resets[reset_id] = replace(record, used_at=when)
        await self.update_account(record.user, password_hash=password_hash)
        await self.revoke_sessions(record.user, when)
        return True

    async def get_attempts(self, keys: list[str]) -> dict[str, Attempts]:
        return {k: self.attempts[k] for k in keys if k in self.attempts}

    async def save_attempts(self, records: list[Attempts]) -> None:
        for record in records:
            self.attempts[record.key] = record

    async def clear_attempts(self, key: str) -> None:
        self.attempts.pop(key, None)
