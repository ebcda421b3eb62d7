"""The members list sent in ``auth_response``: who exists, with role and last seen.

Kept in memory so that an authentication costs no database round trip, and bounded so a
large organisation does not send every member to every connecting client: agents first,
then people online, then the most recently seen.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from agentchat_client.protocol import MemberInfo, iso

__all__ = ["Member", "Roster", "ROSTER_LIMIT"]

ROSTER_LIMIT = 200


@dataclass(slots=True)
class Member:
    name: str
    role: str
    is_agent: bool
    last_seen: datetime | None = None

    def to_wire(self, online: bool) -> MemberInfo:
        return {
            "userId": self.name,
            "role": self.role,
            "isAgent": self.is_agent,
            "status": "online" if online else "offline",
            "lastSeen": iso(self.last_seen),
        }


class Roster:
    def __init__(self, limit: int = ROSTER_LIMIT) -> None:
        self.limit = limit
        self._members: dict[str, Member] = {}
        self._by_last_seen: OrderedDict[str, None] = OrderedDict()  # least recent first

    def __contains__(self, name: object) -> bool:
        return name in self._members

    def __len__(self) -> int:
        return len(self._members)

    def get(self, name: str) -> Member | None:
        return self._members.get(name)

    def add(self, member: Member) -> None:
        self._members[member.name] = member
        self._by_last_seen[member.name] = None
        if member.last_seen is None:
            self._by_last_seen.move_to_end(member.name, last=False)

    def load(self, members: Iterable[Member]) -> None:
        epoch = datetime.min
        for member in sorted(members, key=lambda m: m.last_seen.replace(tzinfo=None) if m.last_seen else epoch):
            self._members[member.name] = member
            self._by_last_seen[member.name] = None

    def seen(self, name: str, when: datetime) -> None:
        member = self._members.get(name)
        if member is not None:
            member.last_seen = when
            self._by_last_seen.move_to_end(name)

    def snapshot(self, online: Collection[str], always_online: Collection[str] = ()) -> list[MemberInfo]:
        """At most ``limit`` members: agents, then people online, then the most recently seen."""
        out: dict[str, MemberInfo] = {}

        def take(name: str) -> None:
            if name in out or len(out) >= self.limit:
                return
            member = self._members.get(name) or Member(name, "developer", False)
            out[name] = member.to_wire(name in online or name in always_online)

        for name in always_online:
            take(name)
        for name, member in self._members.items():
            if member.is_agent:
                take(name)
        for name in islice(online, self.limit):
            take(name)
        for name in reversed(self._by_last_seen):
            if len(out) >= self.limit:
                break
            take(name)
        return list(out.values())
