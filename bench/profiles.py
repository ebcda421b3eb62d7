"""How a client talks to each server under test: the path, the auth frame, the message frame.

The three servers speak the same envelope (``{"type", "data"}``); they differ only in how a
client gets in: the bare server takes no auth at all, the original design accepts any
``userId``, and AgentChat wants a JWT signed with the server's secret.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

__all__ = ["Profile", "PROFILES", "message_frame", "MARK"]

MARK = b'"bench|'
"""Every benchmark message text starts with ``bench|`` (found in the raw frame without a JSON parse)."""


@dataclass(frozen=True)
class Profile:
    name: str
    path: str
    auth: str  # "none" | "any" (userId only) | "jwt"


PROFILES: dict[str, Profile] = {
    "bare": Profile("bare", "/", "none"),
    "original": Profile("original", "/ws", "any"),
    "agentchat": Profile("agentchat", "/ws", "jwt"),
}


def auth_frame(profile: Profile, user_id: str, token: str | None) -> bytes | None:
    if profile.auth == "none":
        return None
    if profile.auth == "any":
        return orjson.dumps({"type": "auth", "data": {"userId": user_id, "token": "unchecked", "role": "developer"}})
    return orjson.dumps({"type": "auth", "data": {"userId": user_id, "token": token}})


def message_frame(sender: int, seq: int, sent_ns: int, pad: str) -> bytes:
    """A chat message whose text carries who sent it, its sequence number and when."""
    text = f"bench|{sender}|{seq}|{sent_ns}|{pad}"
    return orjson.dumps({"type": "message", "data": {"id": seq, "text": text}})
