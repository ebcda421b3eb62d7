"""The storage the accounts service needs, as one small interface.

``sql.SqlAccountStore`` keeps it in the server's database (the same engine and thread pools as
``SqlStore``); ``memory.MemoryAccountStore`` keeps it in dicts for unit tests.  Records are
plain frozen dataclasses: the service never sees an ORM object.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from .throttle import Attempts

__all__ = ["AccountStore", "AccountRecord", "SessionRecord", "AgentKeyRecord", "InviteRecord", "ResetRecord",
           "Attempts", "NameTaken"]


class NameTaken(Exception):
    """``create_account``: the name's key belongs to another account."""


@dataclass(frozen=True, slots=True)
class AccountRecord:
    name: str
    role: str
    is_agent: bool = False
    disabled: bool = False
    password_hash: str | None = None
    created_at: datetime | None = None
    last_seen: datetime | None = None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str
    user: str
    secret_hash: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


@dataclass(frozen=True, slots=True)
class AgentKeyRecord:
    id: str
    agent: str
    label: str
    secret_hash: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InviteRecord:
    id: str
    secret_hash: str
    role: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    used_by: str | None = None
    used_at: datetime | None = None
    revoked_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > now


@dataclass(frozen=True, slots=True)
class ResetRecord:
    id: str
    user: str
    secret_hash: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class AccountStore(ABC):
    # accounts ------------------------------------------------------------------------------
    @abstractmethod
    async def find_account(self, name: str) -> AccountRecord | None:
        """By exact name first, else by the name's case-insensitive key."""

    @abstractmethod
    async def create_account(
        self, name: str, password_hash: str | None, role: str, *, is_agent: bool = False,
        first_is_admin: bool = True, invite_id: str | None = None, now: datetime,
    ) -> AccountRecord:
        """Insert; the first human becomes admin when ``first_is_admin``.  Using ``invite_id``
        marks it used in the same transaction (``NameTaken`` / ``LookupError`` if it cannot)."""

    @abstractmethod
    async def count_humans(self) -> int: ...

    @abstractmethod
    async def list_accounts(self) -> list[AccountRecord]: ...

    @abstractmethod
    async def update_account(
        self, name: str, *, role: str | None = None, disabled: bool | None = None,
        password_hash: str | None = None, last_seen: datetime | None = None,
    ) -> AccountRecord | None: ...

    # sessions ------------------------------------------------------------------------------
    @abstractmethod
    async def add_session(self, record: SessionRecord) -> None: ...

    @abstractmethod
    async def get_session(self, session_id: str) -> SessionRecord | None: ...

    @abstractmethod
    async def touch_session(self, session_id: str, user: str, when: datetime) -> None:
        """Note the session's (and its user's) last activity."""

    @abstractmethod
    async def revoke_sessions(self, user: str, when: datetime, session_id: str | None = None) -> int:
        """Revoke one session of ``user``, or all of them; how many were active."""

    # agent keys ----------------------------------------------------------------------------
    @abstractmethod
    async def add_key(self, record: AgentKeyRecord) -> None: ...

    @abstractmethod
    async def get_key(self, key_id: str) -> AgentKeyRecord | None: ...

    @abstractmethod
    async def list_keys(self) -> list[AgentKeyRecord]: ...

    @abstractmethod
    async def revoke_key(self, key_id: str, when: datetime) -> AgentKeyRecord | None: ...

    @abstractmethod
    async def touch_key(self, key_id: str, when: datetime) -> None:
        """Note that the key was just used (shown on /admin)."""

    # invites and password resets -------------------------------------------------------------
    @abstractmethod
    async def add_invite(self, record: InviteRecord) -> None: ...

    @abstractmethod
    async def get_invite(self, invite_id: str) -> InviteRecord | None: ...

    @abstractmethod
    async def list_invites(self) -> list[InviteRecord]: ...

    @abstractmethod
    async def revoke_invite(self, invite_id: str, when: datetime) -> InviteRecord | None: ...

    @abstractmethod
    async def add_reset(self, record: ResetRecord) -> None: ...

    @abstractmethod
    async def get_reset(self, reset_id: str) -> ResetRecord | None: ...

    @abstractmethod
    async def use_reset(self, reset_id: str, password_hash: str, when: datetime) -> bool:
        """Mark used, set the password and revoke the user's sessions, at once; False if already used."""

    # sign-in attempts ------------------------------------------------------------------------
    @abstractmethod
    async def get_attempts(self, keys: list[str]) -> dict[str, Attempts]: ...

    @abstractmethod
    async def save_attempts(self, records: list[Attempts]) -> None: ...

    @abstractmethod
    async def clear_attempts(self, key: str) -> None: ...
