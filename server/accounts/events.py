"""The one server-internal event the accounts service emits: an account changed.

The hub turns it into an ``account_updated`` frame published through its fan-out (so every
server process sees it) and re-checks that user's open connections: the role applies at once,
a disabled account's connections close with 4003, a revoked session's with 4001.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from agentchat_client.protocol import CloseCode

__all__ = ["AccountChange", "ChangeKind", "ChangeListener", "CLOSE_SESSION_ENDED", "CLOSE_ACCOUNT_DISABLED"]

CLOSE_SESSION_ENDED = CloseCode.SESSION_ENDED
"""WebSocket close code: the session (or agent key) behind this connection was revoked or expired."""
CLOSE_ACCOUNT_DISABLED = CloseCode.ACCOUNT_DISABLED
"""WebSocket close code: an admin disabled the account."""


class ChangeKind(StrEnum):
    ROLE_CHANGED = "role_changed"
    DISABLED = "disabled"
    ENABLED = "enabled"
    SESSION_REVOKED = "session_revoked"
    KEY_REVOKED = "key_revoked"


@dataclass(frozen=True, slots=True)
class AccountChange:
    user_id: str
    role: str
    disabled: bool
    kind: ChangeKind

    def frame_data(self) -> dict[str, Any]:
        """The ``account_updated`` frame's data."""
        return {"userId": self.user_id, "role": self.role, "disabled": self.disabled}


ChangeListener = Callable[[AccountChange], None]
