"""Who is signed in: sign-up, sign-in, sign-out and the session cookie."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import reflex as rx

from ..services import accounts

__all__ = ["AuthState", "SESSION_COOKIE"]

SESSION_COOKIE = "agentchat_session"
_WEEK = 7 * 24 * 3600


class AuthState(rx.State):
    # The protocol JWT; in a cookie so a reload, a new tab or a Reflex reconnect that hands
    # out a fresh client token (reflex-dev/reflex#6345) keeps the person signed in.
    session_token: str = rx.Cookie("", name=SESSION_COOKIE, max_age=_WEEK, same_site="strict")
    user: str = ""
    role: str = ""
    form_error: str = ""
    busy: bool = False

    @rx.var
    def signed_in(self) -> bool:
        return bool(self.user)

    @rx.var
    def is_admin(self) -> bool:
        return self.role == "admin"

    async def _restore(self) -> bool:
        """Load the account from the cookie; False when signed out."""
        found = await accounts.resume(self.session_token)
        if found is None:
            self.user = self.role = ""
            self.session_token = ""
            return False
        self.user, self.role, self.session_token = found.name, found.role, found.token
        return True

    @rx.event
    async def redirect_if_signed_in(self):
        """On /login and /signup: a signed-in person goes straight to the chat."""
        self.form_error = ""
        self.busy = False
        if await self._restore():
            return rx.redirect("/")

    async def _enter(self, action: Callable[[str, str], Awaitable[Any]], form: dict[str, str]):
        """Sign in or sign up: show "busy", then the chat or the error next to the form."""
        self.form_error = ""
        self.busy = True
        yield
        try:
            found = await action(str(form.get("username", "")), str(form.get("password", "")))
        except accounts.AccountError as exc:
            self.form_error = str(exc)
            self.busy = False
            return
        self.user, self.role, self.session_token = found.name, found.role, found.token
        self.busy = False
        yield rx.redirect("/")

    @rx.event
    async def sign_in(self, form: dict[str, str]):
        async for update in self._enter(accounts.sign_in, form):
            yield update

    @rx.event
    async def sign_up(self, form: dict[str, str]):
        async for update in self._enter(accounts.sign_up, form):
            yield update

    @rx.event
    async def sign_out(self):
        from ..bridge import close_bridge

        from .chat import ChatState

        await close_bridge(self.router.session.client_token)
        (await self.get_state(ChatState)).reset()
        self.user = self.role = ""
        self.session_token = ""
        return rx.redirect("/login")
