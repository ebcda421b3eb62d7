"""The app as a client of the server: its account services and its cookie routes, over real HTTP.

A real ``python -m server`` process; the app's ``/auth/*`` and ``/files/*`` routes served by
uvicorn on a real port; httpx as the browser.  The app holds no secret of the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from agentchat_app.services import accounts, companion, files, web_session
from server.settings import Settings
from tests.support import ServerProcess, free_port

PW = "long enough pw"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("app-accounts"), AGENTCHAT_AGENTS_ENABLED="false").start()
    yield proc
    proc.stop()


@pytest.fixture
async def app_url(server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """The app's HTTP routes on a real port, pointed at the server like ``AGENTCHAT_SERVER_URL`` does."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    settings = Settings(server_url=server.url, allowed_origins=[origin])
    monkeypatch.setattr(companion, "settings", lambda: settings)
    companion._state.api = None
    web = uvicorn.Server(uvicorn.Config(Starlette(routes=web_session.routes()), host="127.0.0.1", port=port,
                                        log_config=None, lifespan="off"))
    task = asyncio.create_task(web.serve())
    while not web.started:
        await asyncio.sleep(0.02)
    yield origin
    web.should_exit = True
    await task
    if companion._state.api is not None:
        await companion._state.api.close()
    companion._state.api = None


def browser(origin: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=origin, headers={"Origin": origin}, follow_redirects=False, timeout=20)


async def test_account_services_speak_to_the_server(app_url):
    first = await accounts.sign_up("appboss", PW)
    assert first.role == "admin" and first.refresh_token.startswith("rs_") and first.access_token
    bob = await accounts.sign_up("appbob", PW)
    assert bob.role == "developer"
    with pytest.raises(accounts.AccountError, match="taken"):
        await accounts.sign_up("APPBOB", PW)
    with pytest.raises(accounts.AccountError, match="Invalid username or password") as info:
        await accounts.sign_in("appbob", "not the password")
    assert info.value.status == 401
    assert (await accounts.refresh(bob.refresh_token)).name == "appbob"
    assert "viewer" in await accounts.change_role(first.access_token, "appbob", "viewer")
    assert (await accounts.refresh(bob.refresh_token)).role == "viewer"
    with pytest.raises(accounts.AccountError, match="Only admins"):
        await accounts.change_role(bob.access_token, "appboss", "viewer")
    people = {p.name: p for p in await accounts.list_people(first.access_token)}
    assert people["appbob"].role == "viewer" and people["appbob"].last_active
    await accounts.sign_out(bob.refresh_token)
    assert await accounts.refresh(bob.refresh_token) is None


async def test_the_cookie_is_http_only_and_dies_with_sign_out(app_url):
    async with browser(app_url) as page:
        made = await page.post("/auth/sign-up", data={"username": "cookiecat", "password": PW})
        assert made.status_code == 303 and made.headers["location"] == f"{app_url}/"
        cookie = made.headers["set-cookie"]
        assert cookie.startswith(f"{web_session.SESSION_COOKIE}=rs_")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        credential = web_session.refresh_credential(f"other=1; {cookie.split(';')[0]}")
        signed_in = await accounts.refresh(credential)
        assert signed_in is not None and signed_in.name == "cookiecat"

        saved = await files.save_upload(signed_in.access_token, "report.txt", "text/plain", b"quarterly numbers")
        download = await page.get(f"/files/{saved.id}")
        assert download.status_code == 200 and download.content == b"quarterly numbers"
        assert "attachment" in download.headers["content-disposition"]

        copied = dict(page.cookies)  # what a thief would have taken
        out = await page.post("/auth/sign-out")
        assert out.status_code == 303 and out.headers["location"] == f"{app_url}/login"
        assert web_session.SESSION_COOKIE not in page.cookies

    async with httpx.AsyncClient(base_url=app_url, cookies=copied, timeout=20) as thief:
        stolen = await thief.get(f"/files/{saved.id}")
        assert stolen.status_code == 401
    assert await accounts.refresh(credential) is None


async def test_form_errors_come_back_to_the_page_and_foreign_posts_are_refused(app_url):
    async with browser(app_url) as page:
        wrong = await page.post("/auth/sign-in", data={"username": "nobody-here", "password": "whatever pw"})
        assert wrong.status_code == 303
        assert wrong.headers["location"].startswith(f"{app_url}/login?error=Invalid+username+or+password")
        assert "set-cookie" not in wrong.headers
    async with httpx.AsyncClient(base_url=app_url, headers={"Origin": "https://evil.example"}) as evil:
        refused = await evil.post("/auth/sign-in", data={"username": "cookiecat", "password": PW})
        assert refused.status_code == 403
