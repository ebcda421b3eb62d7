"""Who is signed in, as the companion server says.

The browser holds only an HttpOnly session cookie (set by ``services.web_session``'s routes, out
of reach of page scripts).  Here the cookie is read from the Reflex socket's handshake headers and
exchanged for a short-lived access token, kept in backend-only vars (``_``-prefixed: Reflex never
sends them to the page).  Sign-in, sign-up and sign-out are native form posts to those routes.
"""

from __future__ import annotations

import time

import reflex as rx

from ..services import accounts, web_session

__all__ = ["AuthState"]

RENEW_MARGIN_SECONDS = 60.0


class AuthState(rx.State):
    user: str = ""
    role: str = ""
    form_error: str = ""
    form_username: str = ""
    invite: str = ""
    """On ``/signup?invite=...``: the invite credential, posted back with the form."""
    reset_token: str = ""
    reset_done: bool = False
    form_base: str = ""
    """Origin of this backend as the browser reaches it (its Reflex socket's Host): the forms post
    there, so the cookie lands on the host that the socket, and so this state, will see."""
    _access_token: str = ""
    _access_expires: float = 0.0

    @rx.var
    def signed_in(self) -> bool:
        return bool(self.user)

    @rx.var
    def is_admin(self) -> bool:
        return self.role == "admin"

    def _refresh_credential(self) -> str:
        return web_session.refresh_credential(self.router.headers.cookie)

    def _forget(self) -> None:
        self.user = self.role = ""
        self._access_token = ""
        self._access_expires = 0.0

    async def _restore(self) -> bool:
        """Load the account behind the session cookie; False when signed out (or the session ended)."""
        try:
            found = await accounts.refresh(self._refresh_credential())
        except accounts.AccountError:
            found = None
        if found is None:
            self._forget()
            return False
        self.user, self.role = found.name, found.role
        self._access_token, self._access_expires = found.access_token, found.access_expires
        return True

    async def _token(self) -> str:
        """A valid access token for calling the server ('' when signed out)."""
        if self._access_token and self._access_expires - time.time() > RENEW_MARGIN_SECONDS:
            return self._access_token
        await self._restore()
        return self._access_token

    def _note_origin(self) -> None:
        headers = self.router.headers
        scheme = "https" if (headers.origin or self.router.url.origin).startswith("https") else "http"
        self.form_base = f"{scheme}://{headers.host}" if headers.host else ""

    @rx.event
    async def redirect_if_signed_in(self):
        """On /login and /signup: show the form's error from the query; a signed-in person goes to the chat."""
        self._note_origin()
        params = self.router.url.query_parameters
        self.form_error = str(params.get("error", ""))[:300]
        self.form_username = str(params.get("username", ""))[:64]
        self.invite = str(params.get("invite", ""))[:200]
        if await self._restore():
            return rx.redirect("/")

    @rx.event
    def load_reset(self):
        """On /reset?token=...: keep the reset credential for the form."""
        self.reset_token = str(self.router.url.query_parameters.get("token", ""))[:200]
        self.reset_done = False
        self.form_error = ""

    @rx.event
    async def set_new_password(self, form: dict[str, str]):
        password, again = str(form.get("password", "")), str(form.get("confirm", ""))
        if password != again:
            self.form_error = "The two passwords differ."
            return
        try:
            name = await accounts.set_password(self.reset_token, password)
        except accounts.AccountError as exc:
            self.form_error = str(exc)
            return
        self.form_error = ""
        self.form_username = name
        self.reset_done = True
