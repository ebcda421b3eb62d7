"""``People``: who is online and who exists, kept current and told to everyone.

Presence counts connections (across processes, with Redis): a user's first connection makes
them online, the last one offline.  The roster (``core.roster``) learns people from presence
frames of other processes, and ``user_presence`` frames go out through the fan-out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from agentchat_client.protocol import MessageType, UserPresence, iso, server_frame, utc_now

from ..backends import Presence
from ..core.events import Event
from ..core.roster import Member, Roster
from ..store import Store

__all__ = ["People"]

log = logging.getLogger(__name__)


class People:
    def __init__(
        self, roster: Roster, presence: Presence, store: Store, publish: Callable[[Event], None],
        spawn: Callable[..., Any], is_agent: Callable[[str], bool],
    ) -> None:
        self.roster = roster
        self.presence = presence
        self.store = store
        self.publish = publish
        self.spawn = spawn
        self.is_agent = is_agent

    async def disconnected(self, user_id: str, connection_id: str, on_offline: Callable[[], None] | None = None) -> None:
        """A connection closed; the user's last one makes them offline (and calls ``on_offline``)."""
        if await self.presence.disconnect(user_id, connection_id):
            if on_offline is not None:
                on_offline()
            now = utc_now()
            self.roster.seen(user_id, now)
            self.announce(user_id, "offline", now)
            await self._touch_quietly([user_id], now)

    def changed(self, users: list[str], status: str) -> None:
        """Shared presence saw users change without a local connection event (a process died)."""
        now = utc_now()
        for user_id in users:
            if status == "offline":
                self.roster.seen(user_id, now)
            self.announce(user_id, status, now if status == "offline" else None)
        if status == "offline":
            self.spawn(self._touch_quietly(users, now))

    def noted(self, data: dict[str, Any]) -> None:
        """Keep the roster current with presence from other processes (scale-out)."""
        user_id = data["userId"]
        if user_id not in self.roster:  # first seen on another process
            if isinstance(data.get("role"), str):
                self.roster.add(Member(user_id, data["role"], bool(data.get("isAgent")), None))
            else:
                self.spawn(self._learn_member(user_id))
        elif data.get("status") == "offline" and data.get("lastSeen"):
            self.roster.seen(user_id, datetime.fromisoformat(data["lastSeen"].replace("Z", "+00:00")))

    def announce(self, user_id: str, status: str, when: datetime | None = None) -> None:
        """Publish a ``user_presence`` frame (with the role and agent flag, for newcomers' lists)."""
        member = self.roster.get(user_id)
        data: UserPresence = {
            "userId": user_id, "status": status,  # type: ignore[typeddict-item]
            "lastSeen": iso(when) if when else None, "timestamp": iso(utc_now()),
            "role": member.role if member else None,
            "isAgent": member.is_agent if member else self.is_agent(user_id),
        }
        self.publish(Event(MessageType.USER_PRESENCE, server_frame(MessageType.USER_PRESENCE, data), _data=dict(data)))

    async def _touch_quietly(self, users: list[str], when: datetime) -> None:
        try:
            await self.store.touch_users(users, when)
        except Exception:
            log.exception("could not record last seen for %s", ", ".join(users))

    async def _learn_member(self, user_id: str) -> None:
        try:
            user = await self.store.get_user(user_id)
        except Exception:
            log.exception("could not load %s into the roster", user_id)
            return
        if user is not None and user_id not in self.roster:
            self.roster.add(Member(user.name, user.role, user.is_agent, user.last_seen))


