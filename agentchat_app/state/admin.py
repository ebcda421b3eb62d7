"""The /admin page: people (role, disabled, last active, reset links), agent keys and invites.

Every action is a request to the companion server's admin API with the admin's access token;
the server checks the admin role from the stored account and tells open connections at once.
A new key or link is shown once, here, for the admin to copy.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import reflex as rx

from ..services import accounts
from .audit import AuditMixin
from .usage import UsageMixin
from .auth import AuthState

__all__ = ["AdminState", "PersonRow", "KeyRow", "InviteRow"]


@dataclasses.dataclass
class PersonRow:
    name: str = ""
    role: str = ""
    is_agent: bool = False
    disabled: bool = False
    last_active: str = ""


@dataclasses.dataclass
class KeyRow:
    id: str = ""
    agent: str = ""
    label: str = ""
    created: str = ""
    last_used: str = ""
    revoked: bool = False


@dataclasses.dataclass
class InviteRow:
    id: str = ""
    role: str = ""
    created_by: str = ""
    expires: str = ""
    status: str = ""
    active: bool = False


def when(stamp: str | None) -> str:
    """"2026-05-01 14:03 UTC" for a timestamp from the server; "never" for none."""
    if not stamp:
        return "never"
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M UTC")


class AdminState(AuditMixin, UsageMixin, AuthState):
    people: list[PersonRow] = []
    keys: list[KeyRow] = []
    invites: list[InviteRow] = []
    admin_notice: str = ""
    admin_error: str = ""
    secret_label: str = ""
    secret_value: str = ""
    """A key or link shown once after it was made."""

    @rx.event
    async def load(self):
        if not await self._restore():
            return rx.redirect("/login")
        if self.role != "admin":
            return rx.redirect("/")
        self.admin_notice = self.admin_error = ""
        self.secret_label = self.secret_value = ""
        await self._refresh()

    async def _refresh(self) -> None:
        token = await self._token()
        try:
            people = await accounts.list_people(token)
            keys = await accounts.list_keys(token)
            invites = await accounts.list_invites(token)
        except accounts.AccountError as exc:
            self.admin_error = str(exc)
            return
        self.people = [PersonRow(p.name, p.role, p.is_agent, p.disabled, when(p.last_active)) for p in people]
        self.keys = [KeyRow(k.id, k.agent, k.label, when(k.created_at), when(k.last_used_at), k.revoked)
                     for k in keys]
        self.invites = [InviteRow(i.id, i.role, i.created_by, when(i.expires_at), _invite_status(i),
                                  _invite_status(i) == "open") for i in reversed(invites)]
        await self._refresh_audit(token)
        await self._refresh_usage(token)

    async def _act(self, action) -> None:
        self.admin_notice = self.admin_error = ""
        try:
            self.admin_notice = await action(await self._token()) or ""
        except accounts.AccountError as exc:
            self.admin_error = str(exc)
        await self._refresh()
        await self._restore()  # my own role may have changed

    def _show_secret(self, label: str, value: str) -> None:
        self.secret_label, self.secret_value = label, value

    @rx.event
    async def change_role(self, name: str, role: str):
        await self._act(lambda token: accounts.change_role(token, name, role))
        if self.role != "admin":
            return rx.redirect("/")

    @rx.event
    async def set_disabled(self, name: str, disabled: bool):
        await self._act(lambda token: accounts.set_disabled(token, name, disabled))

    @rx.event
    async def make_reset_link(self, name: str):
        async def action(token: str) -> str:
            secret, expires = await accounts.reset_link(token, name)
            self._show_secret(f"Password reset link for {name} (works once, until {when(expires)})",
                              f"{self.router.url.origin}/reset?token={secret}")
            return f"Send {name} the reset link below."

        await self._act(action)

    @rx.event
    async def create_key(self, form: dict[str, str]):
        agent, label = str(form.get("agent", "")).strip(), str(form.get("label", "")).strip()

        async def action(token: str) -> str:
            secret, key = await accounts.create_key(token, agent, label)
            self._show_secret(f"Agent key for {key.agent} (shown only now)", secret)
            return f"Made a key for {key.agent}: connect with userId \"{key.agent}\" and this key as the token."

        await self._act(action)

    @rx.event
    async def revoke_key(self, key_id: str):
        async def action(token: str) -> str:
            key = await accounts.revoke_key(token, key_id)
            return f"Revoked the key {key.label or key.id} of {key.agent}; its connections are closed."

        await self._act(action)

    @rx.event
    async def create_invite(self, form: dict[str, str]):
        role = str(form.get("role", "developer")) or "developer"

        async def action(token: str) -> str:
            secret, invite = await accounts.create_invite(token, role)
            self._show_secret(f"Invite link ({invite.role}, works once, until {when(invite.expires_at)})",
                              f"{self.router.url.origin}/signup?invite={secret}")
            return "Send the invite link below to the person you invite."

        await self._act(action)

    @rx.event
    async def revoke_invite(self, invite_id: str):
        await self._act(lambda token: _revoked_invite(token, invite_id))

    @rx.event
    def dismiss_secret(self):
        self.secret_label = self.secret_value = ""


def _invite_status(invite: accounts.Invite) -> str:
    if invite.used_by:
        return f"used by {invite.used_by}"
    if invite.revoked:
        return "revoked"
    if datetime.fromisoformat(invite.expires_at.replace("Z", "+00:00")) <= datetime.now().astimezone():
        return "expired"
    return "open"


async def _revoked_invite(token: str, invite_id: str) -> str:
    await accounts.revoke_invite(token, invite_id)
    return "Revoked the invite; its link no longer works."
