"""The browser's session: an HttpOnly cookie set by plain HTTP routes of the app's backend.

Page scripts never see a credential:

- The sign-in, sign-up and sign-out forms are native HTML forms posted to ``/auth/*`` on the app's
  backend (not Reflex events: those travel over the Reflex socket, which cannot set cookies).  The
  route asks the companion server, stores the session's *refresh credential* in the
  ``agentchat_session`` cookie (``HttpOnly; SameSite=Strict; Path=/``, ``Secure`` over https) and
  answers ``303`` back to the page.
- Reflex event handlers read that cookie from the Reflex socket's handshake headers
  (``router.headers.cookie``, which Reflex 0.10 keeps on the server and never sends to the page),
  exchange it for a short-lived access token, and keep the access token in backend-only state.
- Downloads (``/files/{id}``) are proxied by the app: the cookie authenticates the browser, the
  app fetches the file from the server with an access token.
- The bridge's WebSocket token is an access token; :func:`keep_fresh` renews it before it expires,
  so a reconnect after 15 minutes still authenticates.

Signing out revokes the session on the server first, so a copied cookie stops working.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from .. import bridge
from . import accounts, companion

__all__ = ["SESSION_COOKIE", "refresh_credential", "routes", "keep_fresh", "forget_all", "client_address"]

log = logging.getLogger(__name__)

SESSION_COOKIE = "agentchat_session"
RENEW_BEFORE_SECONDS = 120.0
KEEPER_EVERY_SECONDS = 30.0


def refresh_credential(cookie_header: str | None) -> str:
    """The session's refresh credential from a ``Cookie`` header ('' when absent)."""
    if not cookie_header:
        return ""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header)
    except CookieError:
        return ""
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel is not None else ""


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


# --- where to send the browser back to -----------------------------------------------------------

def _page_origin(request: Request) -> str | None:
    """The origin of the page that posted the form, if it may be trusted (CSRF and open-redirect guard).

    Accepted: the same host as this backend (any port: the dev frontend runs on another port), or
    an origin listed in ``AGENTCHAT_ALLOWED_ORIGINS``.
    """
    origin = request.headers.get("origin") or ""
    if not origin or origin == "null":
        referer = request.headers.get("referer") or ""
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    if not origin:
        return None
    host = urlsplit(origin).hostname
    allowed = companion.settings().allowed_origins
    if host is not None and (host == request.url.hostname or origin in allowed or "*" in allowed):
        return origin
    return None


def _back(origin: str, path: str, **query: str) -> RedirectResponse:
    params = {k: v for k, v in query.items() if v}
    return RedirectResponse(origin + path + (f"?{urlencode(params)}" if params else ""), status_code=303)


def _set_cookie(response: Response, request: Request, value: str) -> None:
    secure = request.url.scheme == "https" or companion.settings().cookie_secure
    response.set_cookie(SESSION_COOKIE, value, max_age=companion.settings().session_ttl_seconds, path="/",
                        httponly=True, samesite="strict", secure=secure)


def _clear_cookie(response: Response, request: Request) -> None:
    secure = request.url.scheme == "https" or companion.settings().cookie_secure
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=secure)


def _field(form: object, name: str) -> str:
    value = form.get(name)  # type: ignore[attr-defined]
    return value if isinstance(value, str) else ""


# --- routes --------------------------------------------------------------------------------------

async def sign_in(request: Request) -> Response:
    origin = _page_origin(request)
    if origin is None:
        return PlainTextResponse("Sign in from the app's own page.", 403)
    form = await request.form()
    name = _field(form, "username")
    try:
        found = await accounts.sign_in(name, _field(form, "password"), client_address(request))
    except accounts.AccountError as exc:
        return _back(origin, "/login", error=exc.message)
    response = _back(origin, "/")
    _set_cookie(response, request, found.refresh_token)
    return response


async def sign_up(request: Request) -> Response:
    origin = _page_origin(request)
    if origin is None:
        return PlainTextResponse("Sign up from the app's own page.", 403)
    form = await request.form()
    name, invite = _field(form, "username"), _field(form, "invite")
    try:
        found = await accounts.sign_up(name, _field(form, "password"), invite, client_address(request))
    except accounts.AccountError as exc:
        return _back(origin, "/signup", error=exc.message, invite=invite)
    response = _back(origin, "/")
    _set_cookie(response, request, found.refresh_token)
    return response


async def sign_out(request: Request) -> Response:
    origin = _page_origin(request)
    if origin is None:
        return PlainTextResponse("Sign out from the app's own page.", 403)
    credential = request.cookies.get(SESSION_COOKIE, "")
    with contextlib.suppress(accounts.AccountError):
        await accounts.sign_out(credential)
    response = _back(origin, "/login")
    _clear_cookie(response, request)
    return response


async def download(request: Request) -> Response:
    """``/files/{id}``: the browser's cookie proves who asks; the bytes stream through from the server."""
    signed_in = await accounts.refresh(request.cookies.get(SESSION_COOKIE, ""))
    if signed_in is None:
        return PlainTextResponse("Sign in to download this file.", 401)
    api = await companion.api()
    stream = api.stream("GET", f"/api/files/{request.path_params['file_id']}", token=signed_in.access_token)
    upstream = await stream.__aenter__()
    if upstream.status_code != 200:
        await stream.__aexit__(None, None, None)
        text = "No such file." if upstream.status_code == 404 else "This file cannot be downloaded right now."
        return PlainTextResponse(text, upstream.status_code if upstream.status_code < 500 else 502)
    headers = {k: v for k, v in upstream.headers.items()
               if k.lower() in ("content-type", "content-length", "content-disposition", "x-content-type-options")}
    headers["Cache-Control"] = "private, no-store"

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_raw():
                yield chunk
        finally:  # also when the browser goes away mid-download
            await stream.__aexit__(None, None, None)

    return StreamingResponse(body(), headers=headers)


def routes() -> list[Route]:
    return [
        Route("/auth/sign-in", sign_in, methods=["POST"]),
        Route("/auth/sign-up", sign_up, methods=["POST"]),
        Route("/auth/sign-out", sign_out, methods=["POST"]),
        Route("/files/{file_id:str}", download, methods=["GET"]),
    ]


# --- keeping the bridge's access token fresh -----------------------------------------------------

class _Keeper:
    credentials: dict[str, tuple[str, float]] = {}
    """Reflex client token -> (refresh credential, access expiry), for open bridges."""
    task: asyncio.Task[None] | None = None


def keep_fresh(key: str, refresh_token: str, expires: float) -> None:
    """Renew the access token of ``key``'s bridge before it expires, while the bridge lives."""
    _Keeper.credentials[key] = (refresh_token, expires)
    if _Keeper.task is None or _Keeper.task.done():
        _Keeper.task = asyncio.get_running_loop().create_task(_renew_loop(), name="agentchat-token-keeper")


def forget_all() -> None:
    _Keeper.credentials.clear()
    if _Keeper.task is not None:
        _Keeper.task.cancel()
        _Keeper.task = None


async def _renew_loop() -> None:
    while _Keeper.credentials:
        await asyncio.sleep(KEEPER_EVERY_SECONDS)
        for key, (credential, expires) in list(_Keeper.credentials.items()):
            live = bridge.get_bridge(key)
            if live is None or live.closed:
                _Keeper.credentials.pop(key, None)
                continue
            if expires - time.time() > RENEW_BEFORE_SECONDS:
                continue
            try:
                renewed = await accounts.refresh(credential)
            except accounts.AccountError as exc:
                log.info("could not renew %s's access token yet: %s", live.session.me, exc)
                continue
            if renewed is None:  # signed out elsewhere: the server closes the socket itself
                _Keeper.credentials.pop(key, None)
                continue
            live.token = renewed.access_token
            _Keeper.credentials[key] = (credential, renewed.access_expires)
