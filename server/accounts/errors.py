"""What the accounts service refuses, with the HTTP status and code the API answers with.

Messages are written for the person on the other end and shown as they are.
"""

from __future__ import annotations

__all__ = [
    "AccountError", "InvalidInput", "Unauthorized", "Forbidden", "NotFound", "Conflict", "Throttled",
    "SessionEnded", "AccountDisabled",
]


class AccountError(Exception):
    status = 400
    code = "invalid_input"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class InvalidInput(AccountError):
    status, code = 400, "invalid_input"


class Unauthorized(AccountError):
    """No valid credential: sign in (again)."""

    status, code = 401, "unauthorized"


class SessionEnded(Unauthorized):
    """The credential was valid once: its session was signed out, expired or revoked."""

    code = "session_ended"


class AccountDisabled(Unauthorized):
    status, code = 403, "account_disabled"


class Forbidden(AccountError):
    status, code = 403, "forbidden"


class NotFound(AccountError):
    status, code = 404, "not_found"


class Conflict(AccountError):
    status, code = 409, "conflict"


class Throttled(AccountError):
    status, code = 429, "too_many_attempts"
