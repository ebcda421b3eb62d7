"""The /admin page: list accounts and change roles (admins only)."""

from __future__ import annotations

import dataclasses

import reflex as rx

from ..services import accounts
from .auth import AuthState

__all__ = ["AdminState", "PersonRow"]


@dataclasses.dataclass
class PersonRow:
    name: str = ""
    role: str = ""
    is_agent: bool = False


class AdminState(AuthState):
    people: list[PersonRow] = []
    admin_notice: str = ""
    admin_error: str = ""

    @rx.event
    async def load(self):
        if not await self._restore():
            return rx.redirect("/login")
        if self.role != "admin":
            return rx.redirect("/")
        await self._refresh()

    async def _refresh(self) -> None:
        self.people = [PersonRow(n, r, a) for n, r, a in await accounts.list_people()]

    @rx.event
    async def change_role(self, name: str, role: str):
        self.admin_notice = self.admin_error = ""
        try:
            self.admin_notice = await accounts.change_role(self.user, name, role)
        except accounts.AccountError as exc:
            self.admin_error = str(exc)
        await self._refresh()
        if name == self.user:
            found = await accounts.resume(self.session_token)
            if found is not None:
                self.role, self.session_token = found.role, found.token
