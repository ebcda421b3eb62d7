"""The rules: who may send what, and the bounds on every field a client or agent gives us.

Pure functions that raise :class:`ProtocolError` (answered with an ``error`` frame; the
connection stays open) or return what the hub should do.  The schema-level bounds (types, field
lengths, integer ranges, NUL characters) live in the protocol's client models; these are the
rules that need the server's configuration or the sender's role.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentchat_client.protocol import ErrorCode, MessageType, ProtocolError, Role

__all__ = [
    "Limits",
    "check_text",
    "check_message_text",
    "require_poster",
    "require_agent",
    "require_own_status",
    "AGENT_ONLY",
]

AGENT_ONLY = frozenset(
    {MessageType.AGENT_RESPONSE, MessageType.AGENT_STREAM, MessageType.STATUS_UPDATE, MessageType.AGENT_QUESTION,
     MessageType.AGENT_EVENT, MessageType.RUN_QUEUED, MessageType.APPROVAL_REQUEST}
)
"""Frames only a connection with role ``agent`` may send (for itself)."""


@dataclass(frozen=True, slots=True)
class Limits:
    max_message_chars: int = 8000
    max_connections_per_user: int = 50
    max_connections_per_address: int = 200


def check_text(field_name: str, value: str) -> None:
    """Text PostgreSQL cannot store (NUL) is refused on every path, socket or in-process."""
    if "\x00" in value:
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"{field_name}: must not contain NUL characters")


def check_message_text(text: str, has_attachments: bool, limits: Limits) -> None:
    if len(text) > limits.max_message_chars:
        raise ProtocolError(
            ErrorCode.MESSAGE_TOO_LONG,
            f"Message is {len(text)} characters; the limit is {limits.max_message_chars}",
        )
    check_text("text", text)
    if not text.strip() and not has_attachments:
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, "text: a message needs text or an attachment")


def require_poster(role: Role, what: str = "post") -> None:
    if role is Role.VIEWER:
        reason = "Viewers may read but not post" if what == "post" else f"Viewers may not {what}"
        raise ProtocolError(ErrorCode.FORBIDDEN, reason)


def require_agent(role: Role, kind: MessageType) -> None:
    if role is not Role.AGENT:
        raise ProtocolError(ErrorCode.FORBIDDEN, f"Only agents may send {kind.value}")


def require_own_status(agent: str, user_id: str | None) -> None:
    if user_id not in (None, agent):
        raise ProtocolError(ErrorCode.FORBIDDEN, "An agent may only report its own status")
