"""The ``auth_response`` a connection gets: who it is, who is here, where the history ends."""

from __future__ import annotations

from collections.abc import Collection
from itertools import islice

from agentchat_client.protocol import AuthOk

from .identity import Identity
from .roster import Roster

__all__ = ["welcome", "USERS_LIMIT"]

USERS_LIMIT = 1000
"""At most this many names in ``users`` / ``agents``; ``onlineCount`` gives the full count."""


def welcome(
    identity: Identity,
    session_id: str,
    online: Collection[str],
    hosted_agents: Collection[str],
    roster: Roster,
    last_message_id: int,
) -> AuthOk:
    """``agents`` keeps the design document's meaning (everyone online, agents included: its
    React client builds the user list from it); ``users`` is the same set, ``members`` the richer
    list (role, agent or not, presence, last seen) our own clients use."""
    everyone = set(online).union(hosted_agents)
    names = sorted(everyone) if len(everyone) <= USERS_LIMIT else sorted(islice(everyone, USERS_LIMIT))
    return {
        "success": True,
        "userId": identity.user_id,
        "role": identity.role.value,
        "sessionId": session_id,
        "agents": names,
        "users": list(names),
        "onlineCount": len(everyone),
        "members": roster.snapshot(online, hosted_agents),
        "lastMessageId": last_message_id,
    }
