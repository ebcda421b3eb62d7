"""What admins do with accounts: roles, disabling, reset links, agent keys and invites.

Part of ``AccountService`` (split out so each module is about one thing; the service provides
the store, the configuration, the clock and the change announcements these methods use).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from agentchat_client.protocol import Role

from ..auth import Identity
from ..core.names import NAME_RULE, name_key, normalise_name
from . import credentials as cred
from .base import (
    AccountRecord,
    AccountStore,
    AgentKeyRecord,
    InviteRecord,
    NameTaken,
    ResetRecord,
)
from .errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
)
from .events import ChangeKind
from .passwords import hash_password, password_problem

__all__ = ["AdminOperations", "ASSIGNABLE_ROLES", "MAX_LABEL"]

log = logging.getLogger(__name__)

ASSIGNABLE_ROLES = (Role.ADMIN.value, Role.DEVELOPER.value, Role.VIEWER.value)
MAX_LABEL = 80


class AdminOperations:
    """The admin half of ``AccountService`` (which provides these attributes)."""

    store: AccountStore
    config: Any
    clock: Callable[[], datetime]

    def _changed(self, account: AccountRecord, kind: ChangeKind) -> None:
        raise NotImplementedError

    async def _announce(self, user: str, kind: ChangeKind) -> None:
        raise NotImplementedError

    async def me(self, identity: Identity) -> AccountRecord:
        account = await self.store.find_account(identity.user_id)
        if account is None:
            raise NotFound("No such account.")
        return account

    # admin ------------------------------------------------------------------------------------
    async def _admin(self, identity: Identity) -> AccountRecord:
        actor = await self.store.find_account(identity.user_id)
        if actor is None or actor.role != Role.ADMIN.value or actor.disabled:
            raise Forbidden("Only admins can do that.")
        return actor

    async def _person(self, name: str) -> AccountRecord:
        target = await self.store.find_account(name)
        if target is None or target.name != name:
            raise NotFound(f"No user named {name!r}.")
        return target

    async def _check_not_last_admin(self, target: AccountRecord) -> None:
        if target.role != Role.ADMIN.value:
            return
        admins = [a for a in await self.store.list_accounts()
                  if a.role == Role.ADMIN.value and not a.is_agent and not a.disabled]
        if len(admins) <= 1:
            raise Conflict("You are the only admin; make someone else admin first.")

    async def list_people(self, identity: Identity) -> list[AccountRecord]:
        await self._admin(identity)
        accounts = await self.store.list_accounts()
        return sorted(accounts, key=lambda a: (a.is_agent, a.name.lower()))

    async def change_role(self, identity: Identity, name: str, role: str) -> AccountRecord:
        if role not in ASSIGNABLE_ROLES:
            raise InvalidInput(f"Unknown role {role!r}; choose admin, developer or viewer.")
        await self._admin(identity)
        target = await self._person(name)
        if target.is_agent:
            raise Conflict("Agents keep the agent role.")
        if target.role == role:
            return target
        if role != Role.ADMIN.value:
            await self._check_not_last_admin(target)
        updated = await self.store.update_account(name, role=role)
        assert updated is not None
        self._changed(updated, ChangeKind.ROLE_CHANGED)
        return updated

    async def set_disabled(self, identity: Identity, name: str, disabled: bool) -> AccountRecord:
        await self._admin(identity)
        target = await self._person(name)
        if disabled and target.name == identity.user_id:
            raise Conflict("You cannot disable your own account.")
        if disabled and target.is_agent and name_key(target.name) in self.config.reserved:
            raise Conflict(f"{target.name} is a built-in agent inside the server; leave it out of "
                           "AGENTCHAT_BUILTIN_AGENTS to turn it off.")
        if target.disabled == disabled:
            return target
        if disabled:
            await self._check_not_last_admin(target)
        updated = await self.store.update_account(name, disabled=disabled)
        assert updated is not None
        self._changed(updated, ChangeKind.DISABLED if disabled else ChangeKind.ENABLED)
        return updated

    async def reset_link(self, identity: Identity, name: str) -> tuple[str, ResetRecord]:
        """A one-time credential that lets ``name`` set a new password (the admin sends it)."""
        actor = await self._admin(identity)
        return await self.operator_reset_link(name, actor.name)

    async def operator_reset_link(self, name: str, made_by: str = "operator") -> tuple[str, ResetRecord]:
        """The same, for whoever runs the server (``python -m server reset-link``): no admin needed."""
        target = await self._person(name)
        if target.is_agent:
            raise Conflict("Agents have no password; give them an agent key.")
        now = self.clock()
        secret = cred.new_credential(cred.RESET)
        record = ResetRecord(secret.id, target.name, secret.secret_hash, made_by, now, now + self.config.reset_ttl)
        await self.store.add_reset(record)
        return str(secret), record

    async def reset_password(self, token: str, password: str) -> str:
        """Set a new password with a reset credential; ends every session of that account."""
        problem = password_problem(password or "")
        if problem:
            raise InvalidInput(problem)
        now = self.clock()
        parsed = cred.parse_credential(token, cred.RESET)
        record = await self.store.get_reset(parsed.id) if parsed else None
        if parsed is None or record is None or not cred.secret_matches(parsed, record.secret_hash):
            raise Forbidden("This reset link is not valid.")
        if record.used_at is not None or record.expires_at <= now:
            raise Forbidden("This reset link was already used or has expired; ask an admin for a new one.")
        if not await self.store.use_reset(record.id, await hash_password(password), now):
            raise Forbidden("This reset link was already used or has expired; ask an admin for a new one.")
        await self.store.clear_attempts(f"name:{name_key(record.user)}")
        await self._announce(record.user, ChangeKind.SESSION_REVOKED)
        return record.user

    # agent keys -------------------------------------------------------------------------------
    async def create_key(self, identity: Identity, agent: str, label: str = "") -> tuple[str, AgentKeyRecord]:
        actor = await self._admin(identity)
        name = normalise_name(agent or "")
        if name is None:
            raise InvalidInput(NAME_RULE)
        label = (label or "").strip()[:MAX_LABEL]
        now = self.clock()
        account = await self.store.find_account(name)
        if account is not None and account.name != name:
            raise Conflict(f"That name belongs to {account.name}.")
        if account is not None and not account.is_agent:
            raise Conflict(f"{name} is a person, not an agent.")
        if account is None:
            if name_key(name) in self.config.reserved:
                raise Conflict(f"{name} is a built-in agent.")
            try:
                await self.store.create_account(name, None, Role.AGENT.value, is_agent=True, first_is_admin=False,
                                                now=now)
            except NameTaken:
                raise Conflict("That name is taken.") from None
        secret = cred.new_credential(cred.AGENT_KEY)
        record = AgentKeyRecord(secret.id, name, label, secret.secret_hash, actor.name, now)
        await self.store.add_key(record)
        return str(secret), record

    async def list_keys(self, identity: Identity) -> list[AgentKeyRecord]:
        await self._admin(identity)
        return await self.store.list_keys()

    async def revoke_key(self, identity: Identity, key_id: str) -> AgentKeyRecord:
        await self._admin(identity)
        record = await self.store.revoke_key(key_id, self.clock())
        if record is None:
            raise NotFound("No such agent key.")
        await self._announce(record.agent, ChangeKind.KEY_REVOKED)
        return record

    # invites ----------------------------------------------------------------------------------
    async def create_invite(self, identity: Identity, role: str = Role.DEVELOPER.value) -> tuple[str, InviteRecord]:
        actor = await self._admin(identity)
        if role not in ASSIGNABLE_ROLES:
            raise InvalidInput(f"Unknown role {role!r}; choose admin, developer or viewer.")
        now = self.clock()
        secret = cred.new_credential(cred.INVITE)
        record = InviteRecord(secret.id, secret.secret_hash, role, actor.name, now, now + self.config.invite_ttl)
        await self.store.add_invite(record)
        return str(secret), record

    async def list_invites(self, identity: Identity) -> list[InviteRecord]:
        await self._admin(identity)
        return await self.store.list_invites()

    async def revoke_invite(self, identity: Identity, invite_id: str) -> InviteRecord:
        await self._admin(identity)
        record = await self.store.revoke_invite(invite_id, self.clock())
        if record is None:
            raise NotFound("No such invite.")
        return record

