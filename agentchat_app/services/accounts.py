"""Accounts: sign-up, sign-in and the session token, on the server's user table.

Passwords are hashed with Argon2id (memory-hard).  The session token *is* the protocol
JWT (``server.auth.issue_token``): the app keeps it in a cookie and hands it to the
bridge, so there is one secret and one notion of "signed in".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from server.auth import TokenError, issue_token, verify_token
from agentchat_client.protocol import Role, is_valid_username

from . import companion

__all__ = ["AccountError", "SignedIn", "sign_up", "sign_in", "resume", "list_people", "change_role", "MIN_PASSWORD"]

MIN_PASSWORD = 8
MAX_PASSWORD = 256
INVALID_LOGIN = "Invalid username or password"
_hasher = PasswordHasher()
# Verifying against this keeps "no such user" as slow as "wrong password".
_DUMMY_HASH = _hasher.hash("agentchat-timing-equaliser")


class AccountError(Exception):
    """Shown to the person as is."""


@dataclass(frozen=True)
class SignedIn:
    name: str
    role: str
    token: str


def _token(name: str, role: str) -> str:
    ttl = timedelta(seconds=companion.settings().jwt_ttl_seconds)
    return issue_token(companion.secret(), name, role, ttl)


def _check_new_credentials(name: str, password: str) -> None:
    if not name:
        raise AccountError("Choose a username.")
    if not is_valid_username(name):
        raise AccountError("A username is 1-32 letters, digits, '_' or '-' (not starting with '-').")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Use a password of at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"Use a password of at most {MAX_PASSWORD} characters.")


async def sign_up(name: str, password: str) -> SignedIn:
    """Create a developer account (the very first one becomes admin) and sign it in."""
    name = name.strip()
    _check_new_credentials(name, password)
    store = await companion.store()
    if await store.get_user(name) is not None:
        raise AccountError("That username is taken.")
    hashed = await asyncio.to_thread(_hasher.hash, password)
    try:
        user = await store.create_user(name, hashed, Role.DEVELOPER.value)
    except ValueError:
        raise AccountError("That username is taken.") from None
    return SignedIn(user.name, user.role, _token(user.name, user.role))


async def sign_in(name: str, password: str) -> SignedIn:
    name = name.strip()
    store = await companion.store()
    user = await store.get_user(name) if is_valid_username(name) else None
    stored = user.password_hash if user is not None and not user.is_agent else None
    try:
        await asyncio.to_thread(_hasher.verify, stored or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise AccountError(INVALID_LOGIN) from None
    if user is None or stored is None:
        raise AccountError(INVALID_LOGIN)
    return SignedIn(user.name, user.role, _token(user.name, user.role))


async def resume(token: str) -> SignedIn | None:
    """The account behind a session token, with a fresh token if the role changed since."""
    if not token:
        return None
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
        name = str(unverified.get("sub") or "")
        identity = verify_token(companion.secret(), token, name)
    except (TokenError, jwt.InvalidTokenError):
        return None
    store = await companion.store()
    user = await store.get_user(identity.user_id)
    if user is None or user.is_agent:
        return None
    if user.role != identity.role.value:
        return SignedIn(user.name, user.role, _token(user.name, user.role))
    return SignedIn(user.name, user.role, token)


async def list_people() -> list[tuple[str, str, bool]]:
    """(name, role, is_agent) for everyone, people first."""
    store = await companion.store()
    users = await store.list_users()
    return sorted(((u.name, u.role, u.is_agent) for u in users), key=lambda t: (t[2], t[0].lower()))


ASSIGNABLE_ROLES = (Role.ADMIN.value, Role.DEVELOPER.value, Role.VIEWER.value)


async def change_role(actor: str, name: str, role: str) -> str:
    """Set ``name``'s role; returns a sentence to show. Only admins may, and never on agents."""
    if role not in ASSIGNABLE_ROLES:
        raise AccountError(f"Unknown role {role!r}.")
    store = await companion.store()
    me = await store.get_user(actor)
    if me is None or me.role != Role.ADMIN.value:
        raise AccountError("Only admins can change roles.")
    target = await store.get_user(name)
    if target is None:
        raise AccountError(f"No user named {name!r}.")
    if target.is_agent:
        raise AccountError("Agents keep the agent role.")
    if name == actor and role != Role.ADMIN.value:
        admins = [u for u in await store.list_users() if u.role == Role.ADMIN.value and not u.is_agent]
        if len(admins) <= 1:
            raise AccountError("You are the only admin; make someone else admin first.")
    await store.set_role(name, role)
    return f"{name} is now {role}. It takes effect when they next load the page."
