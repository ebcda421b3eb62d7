"""The HTTP API of a real ``python -m server`` process, and what it does to live sockets.

Every request is real HTTP on the server's port; every socket a real WebSocket on the same port.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.support import Client, ServerProcess

PW = "long enough pw"


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(
        tmp_path_factory.mktemp("api"),
        AGENTCHAT_AGENTS_ENABLED="false",
        AGENTCHAT_RESPONSE_DELAY_SECONDS="0",
        AGENTCHAT_MAX_MESSAGES_PER_HOUR="100000",
        AGENTCHAT_MAX_UPLOAD_BYTES="4096",
        AGENTCHAT_ALLOWED_UPLOAD_TYPES="text/*,image/png",
        AGENTCHAT_SIGNIN_THROTTLE_SECONDS="120",  # longer than any pause a busy machine makes
    ).start()
    yield proc
    proc.stop()


@pytest.fixture
async def http(api_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_server.port}", timeout=20) as client:
        yield client


class Person:
    def __init__(self, http: httpx.AsyncClient, body: dict[str, Any]) -> None:
        self.http = http
        self.name: str = body["user"]["name"]
        self.role: str = body["user"]["role"]
        self.access: str = body["accessToken"]
        self.refresh: str = body["refreshToken"]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)


async def sign_up(http: httpx.AsyncClient, name: str, **extra: Any) -> Person:
    response = await http.post("/api/auth/sign-up", json={"username": name, "password": PW, **extra})
    assert response.status_code == 201, response.text
    return Person(http, response.json())


@pytest.fixture(scope="module")
def names() -> Iterator[str]:
    return iter(f"user{i}" for i in range(1000))


@pytest.fixture
async def admin(http: httpx.AsyncClient) -> Person:
    """The module's first account (an admin), signed in afresh for each test."""
    response = await http.post("/api/auth/sign-in", json={"username": "boss", "password": PW})
    if response.status_code == 401:
        person = await sign_up(http, "boss")
        assert person.role == "admin"
        return person
    return Person(http, response.json())


async def socket_for(server: ServerProcess, user: str, token: str) -> Client:
    client = await Client.connect(server.url)
    await client.send("auth", {"userId": user, "token": token})
    welcome = await client.expect("auth_response")
    assert welcome["success"], welcome
    await client.expect("history")
    return client


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def test_health_and_clear_errors(http):
    health = await http.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert error_of(await http.get("/api/nope")) == (404, "not_found")
    assert error_of(await http.get("/api/auth/sign-in")) == (405, "method_not_allowed")
    assert error_of(await http.get("/ws")) == (426, "upgrade_required")
    bad_json = await http.post("/api/auth/sign-in", content=b"{nope", headers={"Content-Type": "application/json"})
    assert error_of(bad_json) == (400, "invalid_input")
    assert error_of(await http.get("/api/me")) == (401, "unauthorized")
    assert error_of(await http.get("/api/me", headers={"Authorization": "Bearer forged"})) == (401, "unauthorized")


async def test_session_lifecycle(http, admin, names):
    name = next(names)
    person = await sign_up(http, name)
    me = await person.call("GET", "/api/me")
    assert me.json()["name"] == name and me.json()["role"] == "developer"
    taken = await http.post("/api/auth/sign-up", json={"username": name.upper(), "password": PW})
    assert error_of(taken) == (409, "conflict") and taken.json()["error"]["message"] == "That username is taken."

    renewed = await http.post("/api/auth/refresh", json={"refreshToken": person.refresh})
    assert renewed.status_code == 200 and renewed.json()["sessionId"] == me.json()["sessionId"]
    signed_out = await http.post("/api/auth/sign-out", json={"refreshToken": person.refresh})
    assert signed_out.status_code == 204
    assert error_of(await person.call("GET", "/api/me")) == (401, "session_ended")  # the next request
    assert error_of(await http.post("/api/auth/refresh", json={"refreshToken": person.refresh})) \
        == (401, "session_ended")

    again = Person(http, (await http.post("/api/auth/sign-in", json={"username": name, "password": PW})).json())
    other = Person(http, (await http.post("/api/auth/sign-in", json={"username": name, "password": PW})).json())
    everywhere = await again.call("POST", "/api/auth/sign-out-everywhere")
    assert everywhere.json() == {"ended": 2}
    assert error_of(await other.call("GET", "/api/me")) == (401, "session_ended")


async def test_failed_sign_ins_are_throttled_with_retry_after(http, admin, names):
    name = next(names)
    await sign_up(http, name)
    for _ in range(6):
        wrong = await http.post("/api/auth/sign-in", json={"username": name, "password": "wrong password"})
        assert error_of(wrong) == (401, "unauthorized")
        assert wrong.json()["error"]["message"] == "Invalid username or password"
    throttled = await http.post("/api/auth/sign-in", json={"username": name, "password": PW})
    assert error_of(throttled) == (429, "too_many_attempts")
    wait = int(throttled.headers["Retry-After"])
    assert 0 < wait <= 120
    assert throttled.json()["error"]["message"] == f"Too many attempts; try again in {wait} s"


async def test_admin_endpoints_need_the_stored_admin_role(http, admin, names):
    person = await sign_up(http, next(names))
    assert error_of(await person.call("GET", "/api/admin/people")) == (403, "forbidden")
    people = (await admin.call("GET", "/api/admin/people")).json()["people"]
    row = next(p for p in people if p["name"] == person.name)
    assert row["role"] == "developer" and row["disabled"] is False and row["lastActive"]
    promoted = await admin.call("PATCH", f"/api/admin/people/{person.name}", json={"role": "admin"})
    assert promoted.json()["role"] == "admin"
    # The same access token now carries admin power: the role comes from the account, not the token.
    assert (await person.call("GET", "/api/admin/people")).status_code == 200
    await admin.call("PATCH", f"/api/admin/people/{person.name}", json={"role": "developer"})
    assert error_of(await admin.call("PATCH", "/api/admin/people/nobody", json={"role": "viewer"})) \
        == (404, "not_found")
    assert error_of(await admin.call("PATCH", f"/api/admin/people/{person.name}", json={"role": "king"})) \
        == (400, "invalid_input")


async def test_a_demoted_socket_is_forbidden_at_once_and_ended_sessions_close(api_server, http, admin, names):
    person = await sign_up(http, next(names))
    socket = await socket_for(api_server, person.name, person.access)
    assert (await socket.say("before the change"))["text"] == "before the change"

    response = await admin.call("PATCH", f"/api/admin/people/{person.name}", json={"role": "viewer"})
    assert response.status_code == 200
    update = await socket.expect("account_updated")
    assert update == {"userId": person.name, "role": "viewer", "disabled": False}
    await socket.send("message", {"id": "after", "text": "after the change"})
    assert (await socket.error("FORBIDDEN"))["ref"] == "after"  # same socket, no reconnect

    signed_out = await http.post("/api/auth/sign-out", json={"refreshToken": person.refresh})
    assert signed_out.status_code == 204
    await asyncio.wait_for(socket.closed.wait(), 1.0)  # revoked: closed within a second
    assert (socket.ws.close_code, socket.ws.close_reason) == (4001, "session ended")

    retry = await Client.connect(api_server.url)
    await retry.send("auth", {"userId": person.name, "token": person.access})
    refused = await retry.expect("auth_response")
    assert refused["success"] is False and "ended" in refused["error"]["message"]
    await retry.close()


async def test_disabling_closes_sockets_and_blocks_sign_in(api_server, http, admin, names):
    person = await sign_up(http, next(names))
    socket = await socket_for(api_server, person.name, person.access)
    response = await admin.call("PATCH", f"/api/admin/people/{person.name}", json={"disabled": True})
    assert response.json()["disabled"] is True
    await asyncio.wait_for(socket.closed.wait(), 5)
    assert socket.ws.close_code == 4003
    blocked = await http.post("/api/auth/sign-in", json={"username": person.name, "password": PW})
    assert error_of(blocked) == (403, "account_disabled")
    assert error_of(await person.call("GET", "/api/me")) == (403, "account_disabled")
    await admin.call("PATCH", f"/api/admin/people/{person.name}", json={"disabled": False})
    assert (await http.post("/api/auth/sign-in", json={"username": person.name, "password": PW})).status_code == 200


async def test_agent_keys_connect_agents_until_revoked(api_server, admin):
    made = await admin.call("POST", "/api/admin/agent-keys", json={"agent": "deployer", "label": "CI"})
    assert made.status_code == 201
    key = made.json()["key"]
    assert key.startswith("ak_") and made.json()["agent"] == "deployer"
    listed = (await admin.call("GET", "/api/admin/agent-keys")).json()["keys"]
    assert [k["label"] for k in listed if k["id"] == made.json()["id"]] == ["CI"]
    assert "key" not in listed[0]  # the secret is shown once

    agent = await socket_for(api_server, "deployer", key)
    await agent.send("agent_response", {"text": "deployed"})
    assert (await agent.expect("agent_response"))["text"] == "deployed"
    revoked = await admin.call("DELETE", f"/api/admin/agent-keys/{made.json()['id']}")
    assert revoked.json()["revokedAt"]
    await asyncio.wait_for(agent.closed.wait(), 5)
    assert agent.ws.close_code == 4001
    retry = await Client.connect(api_server.url)
    await retry.send("auth", {"userId": "deployer", "token": key})
    assert (await retry.expect("auth_response"))["success"] is False
    await retry.close()


async def test_reset_link_sets_a_new_password_and_ends_sessions(http, admin, names):
    person = await sign_up(http, next(names))
    link = await admin.call("POST", f"/api/admin/people/{person.name}/reset-link")
    assert link.status_code == 201
    token = link.json()["token"]
    done = await http.post("/api/auth/password", json={"token": token, "password": "a brand new password"})
    assert done.json() == {"name": person.name}
    assert error_of(await person.call("GET", "/api/me")) == (401, "session_ended")
    reused = await http.post("/api/auth/password", json={"token": token, "password": "yet another password"})
    assert error_of(reused) == (403, "forbidden")
    fresh = await http.post("/api/auth/sign-in", json={"username": person.name, "password": "a brand new password"})
    assert fresh.status_code == 200


async def test_files_upload_and_download_with_limits(http, admin, names):
    person = await sign_up(http, next(names))
    uploaded = await person.call("POST", "/api/files", params={"name": "../notes.txt"}, content=b"hello files",
                                 headers={"Content-Type": "text/plain"})
    assert uploaded.status_code == 201, uploaded.text
    body = uploaded.json()
    assert (body["name"], body["size"], body["contentType"]) == ("notes.txt", 11, "text/plain")
    download = await person.call("GET", f"/api/files/{body['id']}")
    assert download.content == b"hello files"
    assert "attachment" in download.headers["content-disposition"]
    assert error_of(await http.get(f"/api/files/{body['id']}")) == (401, "unauthorized")
    assert error_of(await person.call("GET", "/api/files/0123")) == (404, "not_found")

    too_big = await person.call("POST", "/api/files", params={"name": "big.txt"}, content=b"x" * 5000,
                                headers={"Content-Type": "text/plain"})
    assert error_of(too_big) == (413, "too_large") and "limit is 4.0 KB" in too_big.json()["error"]["message"]
    exe = await person.call("POST", "/api/files", params={"name": "run.exe"}, content=b"MZ",
                            headers={"Content-Type": "application/x-msdownload"})
    assert error_of(exe) == (415, "unsupported_type")
    await admin.call("PATCH", f"/api/admin/people/{person.name}", json={"role": "viewer"})
    viewer = await person.call("POST", "/api/files", params={"name": "a.txt"}, content=b"a",
                               headers={"Content-Type": "text/plain"})
    assert error_of(viewer) == (403, "forbidden")


@pytest.fixture(scope="module")
def invite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("invite"), AGENTCHAT_AGENTS_ENABLED="false",
                         AGENTCHAT_SIGNUP="invite").start()
    yield proc
    proc.stop()


async def test_invite_only_sign_up(invite_server):
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{invite_server.port}", timeout=20) as http:
        boss = await sign_up(http, "boss")  # the very first account is always allowed
        refused = await http.post("/api/auth/sign-up", json={"username": "walkin", "password": PW})
        assert error_of(refused) == (403, "forbidden") and "invite" in refused.json()["error"]["message"]
        made = await boss.call("POST", "/api/admin/invites", json={"role": "viewer"})
        invite = made.json()["invite"]
        guest = await sign_up(http, "guest", invite=invite)
        assert guest.role == "viewer"
        reused = await http.post("/api/auth/sign-up", json={"username": "guest2", "password": PW, "invite": invite})
        assert error_of(reused) == (403, "forbidden")
        listed = (await boss.call("GET", "/api/admin/invites")).json()["invites"]
        assert listed[0]["usedBy"] == "guest"


def test_operator_reset_link_from_the_command_line(api_server):
    import subprocess
    import sys

    import httpx as sync_http

    base = f"http://127.0.0.1:{api_server.port}"
    made = sync_http.post(f"{base}/api/auth/sign-up", json={"username": "lockedout", "password": PW}, timeout=20)
    assert made.status_code in (201, 409)
    command = [sys.executable, "-m", "server", "reset-link", "lockedout", "--app-url", "https://chat.example"]
    done = subprocess.run(command, env=api_server.env, cwd=api_server.env["PYTHONPATH"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    link = done.stdout.strip()
    assert link.startswith("https://chat.example/reset?token=pr_")
    token = link.split("token=", 1)[1]
    changed = sync_http.post(f"{base}/api/auth/password", json={"token": token, "password": "operator set this"},
                             timeout=20)
    assert changed.json() == {"name": "lockedout"}
    unknown = subprocess.run([sys.executable, "-m", "server", "reset-link", "nobody-at-all"], env=api_server.env,
                             cwd=api_server.env["PYTHONPATH"], capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 2 and "No user named" in unknown.stderr
