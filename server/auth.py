"""JWT tokens for the protocol's ``auth`` message.

HS256 only (pinned, so a token cannot choose its own algorithm), ``exp`` and ``sub``
required, and the role read from the token's ``role`` claim: a client cannot promote
itself by writing ``"role": "admin"`` in its auth message.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import jwt

from agentchat_client.protocol import Role, is_valid_username, utc_now
from .settings import Settings

__all__ = ["Identity", "TokenError", "issue_token", "verify_token", "load_secret"]

log = logging.getLogger(__name__)
ALGORITHM = "HS256"


class TokenError(Exception):
    """The token is missing, malformed, expired, wrongly signed or for someone else."""


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: str
    role: Role


def load_secret(settings: Settings) -> str:
    """The configured secret, else one kept in a private file, made on first start."""
    if settings.jwt_secret:
        return settings.jwt_secret
    path: Path = settings.secret_file
    try:
        secret = path.read_text().strip()
        if secret:
            return secret
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once agree on whichever secret was written first.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    log.warning("AGENTCHAT_JWT_SECRET is not set: generated one and saved it in %s", path)
    return secret


def issue_token(secret: str, user_id: str, role: Role | str, ttl: timedelta = timedelta(days=7)) -> str:
    if not is_valid_username(user_id):
        raise ValueError(f"invalid user name {user_id!r}")
    now = utc_now()
    claims = {"sub": user_id, "role": Role(role).value, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str | None, user_id: str) -> Identity:
    if not token:
        raise TokenError("A token is required")
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}, leeway=5
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("Token has expired") from None
    except jwt.InvalidTokenError:
        raise TokenError("Token is invalid") from None
    if claims.get("sub") != user_id:
        raise TokenError("Token does not belong to this user")
    try:
        role = Role(claims.get("role", Role.DEVELOPER.value))
    except ValueError:
        raise TokenError("Token carries an unknown role") from None
    return Identity(user_id=user_id, role=role)
