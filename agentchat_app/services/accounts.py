"""Accounts, as the app asks the companion server for them over its HTTP API.

The server decides everything (passwords, names, roles, throttling, sign-up policy); this module
turns its JSON into small records for the pages and its errors into :class:`AccountError`, whose
text is shown to the person as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import companion
from .api import ApiError

__all__ = ["AccountError", "SignedIn", "Person", "AgentKey", "Invite", "sign_up", "sign_in", "refresh", "sign_out",
           "sign_out_everywhere", "set_password", "list_people", "change_role", "set_disabled", "reset_link",
           "list_keys", "create_key", "revoke_key", "list_invites", "create_invite", "revoke_invite"]

AccountError = ApiError


@dataclass(frozen=True)
class SignedIn:
    name: str
    role: str
    access_token: str
    access_expires: float
    """Unix time the access token expires."""
    refresh_token: str = ""


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    is_agent: bool
    disabled: bool
    last_active: str | None


@dataclass(frozen=True)
class AgentKey:
    id: str
    agent: str
    label: str
    created_by: str
    created_at: str
    last_used_at: str | None
    revoked: bool


@dataclass(frozen=True)
class Invite:
    id: str
    role: str
    created_by: str
    expires_at: str
    used_by: str | None
    revoked: bool


def _epoch(stamp: str | None) -> float:
    if not stamp:
        return 0.0
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _signed_in(body: dict[str, Any]) -> SignedIn:
    user = body["user"]
    return SignedIn(user["name"], user["role"], body["accessToken"], _epoch(body.get("accessExpiresAt")),
                    body.get("refreshToken", ""))


async def _call(method: str, path: str, **kwargs: Any) -> Any:
    return await (await companion.api()).request(method, path, **kwargs)


async def sign_up(name: str, password: str, invite: str = "", address: str | None = None) -> SignedIn:
    body: dict[str, Any] = {"username": name, "password": password}
    if invite:
        body["invite"] = invite
    return _signed_in(await _call("POST", "/api/auth/sign-up", json=body, forwarded_for=address))


async def sign_in(name: str, password: str, address: str | None = None) -> SignedIn:
    body = {"username": name, "password": password}
    return _signed_in(await _call("POST", "/api/auth/sign-in", json=body, forwarded_for=address))


async def refresh(refresh_token: str) -> SignedIn | None:
    """A fresh access token from the session cookie's credential; None when the session ended."""
    if not refresh_token:
        return None
    try:
        return _signed_in(await _call("POST", "/api/auth/refresh", json={"refreshToken": refresh_token}))
    except ApiError as exc:
        if exc.status in (400, 401, 403):
            return None
        raise


async def sign_out(refresh_token: str) -> None:
    if refresh_token:
        await _call("POST", "/api/auth/sign-out", json={"refreshToken": refresh_token})


async def sign_out_everywhere(token: str) -> int:
    return int((await _call("POST", "/api/auth/sign-out-everywhere", token=token))["ended"])


async def set_password(reset_token: str, password: str) -> str:
    """Set a new password with a reset link's token; the account's name."""
    return str((await _call("POST", "/api/auth/password", json={"token": reset_token, "password": password}))["name"])


# --- admin ---------------------------------------------------------------------------------------

async def list_people(token: str) -> list[Person]:
    body = await _call("GET", "/api/admin/people", token=token)
    return [Person(p["name"], p["role"], p["isAgent"], p["disabled"], p.get("lastActive")) for p in body["people"]]


async def change_role(token: str, name: str, role: str) -> str:
    person = await _call("PATCH", f"/api/admin/people/{name}", token=token, json={"role": role})
    return f"{person['name']} is now {person['role']}."


async def set_disabled(token: str, name: str, disabled: bool) -> str:
    person = await _call("PATCH", f"/api/admin/people/{name}", token=token, json={"disabled": disabled})
    if person["disabled"]:
        return f"{person['name']} is disabled: signed out everywhere and cannot sign in."
    return f"{person['name']} can sign in again."


async def reset_link(token: str, name: str) -> tuple[str, str]:
    """(reset token, expiry time) for ``name``; the page turns it into a link."""
    body = await _call("POST", f"/api/admin/people/{name}/reset-link", token=token)
    return body["token"], body["expiresAt"]


def _key(k: dict[str, Any]) -> AgentKey:
    return AgentKey(k["id"], k["agent"], k["label"], k["createdBy"], k["createdAt"], k.get("lastUsedAt"),
                    k.get("revokedAt") is not None)


async def list_keys(token: str) -> list[AgentKey]:
    return [_key(k) for k in (await _call("GET", "/api/admin/agent-keys", token=token))["keys"]]


async def create_key(token: str, agent: str, label: str) -> tuple[str, AgentKey]:
    body = await _call("POST", "/api/admin/agent-keys", token=token, json={"agent": agent, "label": label})
    return body["key"], _key(body)


async def revoke_key(token: str, key_id: str) -> AgentKey:
    return _key(await _call("DELETE", f"/api/admin/agent-keys/{key_id}", token=token))


def _invite(i: dict[str, Any]) -> Invite:
    return Invite(i["id"], i["role"], i["createdBy"], i["expiresAt"], i.get("usedBy"), i.get("revokedAt") is not None)


async def list_invites(token: str) -> list[Invite]:
    return [_invite(i) for i in (await _call("GET", "/api/admin/invites", token=token))["invites"]]


async def create_invite(token: str, role: str) -> tuple[str, Invite]:
    body = await _call("POST", "/api/admin/invites", token=token, json={"role": role})
    return body["invite"], _invite(body)


async def revoke_invite(token: str, invite_id: str) -> Invite:
    return _invite(await _call("DELETE", f"/api/admin/invites/{invite_id}", token=token))
