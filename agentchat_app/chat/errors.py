"""Server ``error`` frames in words a person understands (pure, unit tested)."""

from __future__ import annotations

import math
from typing import Any

from agentchat_client.protocol import ErrorCode

__all__ = ["friendly_error", "rate_limit_text", "VIEWER_REASON"]

VIEWER_REASON = "You have read-only access (viewer). Ask an admin for developer access to post."


def rate_limit_text(seconds_left: float) -> str:
    if seconds_left <= 0:
        return "You're sending messages too quickly. You can send again now."
    shown = max(0.1, math.ceil(seconds_left * 10) / 10)
    return f"You're sending messages too quickly. You can send again in {shown:.1f} s."


def friendly_error(data: dict[str, Any]) -> str:
    """The sentence to show next to the composer for an ``error`` payload."""
    code = data.get("code")
    message = str(data.get("message") or "").strip()
    if code == ErrorCode.RATE_LIMITED:
        retry = data.get("retryAfter")
        return rate_limit_text(float(retry) if isinstance(retry, (int, float)) else 1.0)
    if code == ErrorCode.MESSAGE_TOO_LONG:
        return f"That message is too long. {message}".strip()
    if code == ErrorCode.FORBIDDEN:
        return f"You're not allowed to do that: {message}" if message else "You're not allowed to do that."
    if code == ErrorCode.NOT_FOUND:
        return message or "That no longer exists."
    if code == ErrorCode.INVALID_MESSAGE:
        return f"The server could not accept that: {message}" if message else "The server could not accept that."
    if code in (ErrorCode.AUTH_FAILED, ErrorCode.NOT_AUTHENTICATED, ErrorCode.MISSING_USER_ID):
        return "Your session has expired. Please sign in again."
    if code == ErrorCode.INTERNAL_ERROR:
        return "Something went wrong on the server. Please try again."
    return message or "Something went wrong. Please try again."
