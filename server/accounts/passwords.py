"""Argon2id password hashes (memory-hard), verified off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["hash_password", "verify_password", "MIN_PASSWORD", "MAX_PASSWORD", "password_problem"]

MIN_PASSWORD = 8
MAX_PASSWORD = 256
_hasher = PasswordHasher()
# Verifying against this keeps "no such user" as slow as "wrong password".
_DUMMY_HASH = _hasher.hash("agentchat-timing-equaliser")


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"Use a password of at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"Use a password of at most {MAX_PASSWORD} characters."
    return None


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; as slow when there is no stored hash."""
    try:
        await asyncio.to_thread(_hasher.verify, stored or _DUMMY_HASH, password[:MAX_PASSWORD * 4])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return stored is not None
