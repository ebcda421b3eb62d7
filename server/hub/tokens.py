"""Who a connection is, from the token it presents (``auth`` frame)."""

from __future__ import annotations

from typing import Protocol

from agentchat_client.protocol import ErrorCode

from typing import TYPE_CHECKING

from ..auth import TokenError, verify_token
from ..core.identity import Identity

if TYPE_CHECKING:
    from ..accounts import AccountService

__all__ = ["Authenticator", "AuthRefused", "TokenAuthenticator", "AccountsAuthenticator"]


class AuthRefused(Exception):
    """The credentials do not open a session; ``code`` and ``message`` go into ``auth_response``."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Authenticator(Protocol):
    async def __call__(self, token: str | None, user_id: str) -> Identity:
        """The identity behind ``token`` for ``user_id``, or :class:`AuthRefused`."""
        ...


class TokenAuthenticator:
    """Signed JWTs (HS256): the user and role the server's secret vouches for."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    async def __call__(self, token: str | None, user_id: str) -> Identity:
        try:
            found = verify_token(self.secret, token, user_id)
        except TokenError as exc:
            raise AuthRefused(ErrorCode.AUTH_FAILED, str(exc)) from None
        return Identity(found.user_id, found.role)


class AccountsAuthenticator:
    """The stored account decides (``server.accounts``): sessions, agent keys, development tokens."""

    def __init__(self, accounts: AccountService) -> None:
        self.accounts = accounts

    async def __call__(self, token: str | None, user_id: str) -> Identity:
        from ..accounts import AccountError

        try:
            return await self.accounts.authenticate(token, user_id)
        except AccountError as exc:
            raise AuthRefused(ErrorCode.AUTH_FAILED, exc.message) from None
