"""JWTs: the short-lived access tokens of sessions, and development tokens.

HS256 only (pinned, so a token cannot choose its own algorithm), ``exp`` and ``sub`` required.
An access token carries ``sid``, the server-side session it was renewed from; a development
token (``python -m server token``) has none.  Either way the *role* a connection gets comes
from the stored account (``server.accounts``); the token's ``role`` claim only seeds an account
that does not exist yet, so a client cannot promote itself.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from .core.identity import Identity
from agentchat_client.protocol import Role, is_valid_username, utc_now

from .settings import Settings

__all__ = ["Identity", "TokenError", "TokenClaims", "issue_token", "read_token", "verify_token", "load_secret"]

log = logging.getLogger(__name__)
ALGORITHM = "HS256"
LEEWAY_SECONDS = 5


class TokenError(Exception):
    """The token is missing, malformed, expired, wrongly signed or for someone else."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    role: Role
    session_id: str | None
    expires_at: datetime


def load_secret(settings: Settings) -> str:
    """The configured secret, else one kept in a private file, made on first start."""
    if settings.jwt_secret:
        return settings.jwt_secret
    path = settings.secret_file
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


def issue_token(
    secret: str,
    user_id: str,
    role: Role | str,
    ttl: timedelta = timedelta(days=7),
    *,
    session_id: str | None = None,
    now: datetime | None = None,
) -> str:
    if not is_valid_username(user_id):
        raise ValueError(f"invalid user name {user_id!r}")
    now = now or utc_now()
    claims: dict[str, object] = {"sub": user_id, "role": Role(role).value, "iat": now, "exp": now + ttl}
    if session_id is not None:
        claims["sid"] = session_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(secret: str, token: str | None, now: datetime | None = None) -> TokenClaims:
    """Check signature and expiry (against ``now``, the caller's clock); the claims, whoever they are for."""
    if not token:
        raise TokenError("A token is required")
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM],
            options={"require": ["exp", "sub"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.InvalidTokenError:
        raise TokenError("Token is invalid") from None
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)):
        raise TokenError("Token is invalid")
    if exp + LEEWAY_SECONDS < (now or utc_now()).timestamp():
        raise TokenError("Token has expired")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not is_valid_username(subject):
        raise TokenError("Token is invalid")
    try:
        role = Role(claims.get("role", Role.DEVELOPER.value))
    except ValueError:
        raise TokenError("Token carries an unknown role") from None
    sid = claims.get("sid")
    if sid is not None and not isinstance(sid, str):
        raise TokenError("Token is invalid")
    expires = datetime.fromtimestamp(int(claims["exp"]), tz=utc_now().tzinfo)
    return TokenClaims(subject, role, sid, expires)


def verify_token(secret: str, token: str | None, user_id: str) -> Identity:
    """The token's own view of who it is for (no account lookup): for tools and tests."""
    claims = read_token(secret, token)
    if claims.user_id != user_id:
        raise TokenError("Token does not belong to this user")
    return Identity(user_id=user_id, role=claims.role, session_id=claims.session_id)
