"""``auth_response``: ``agents`` keeps the design document's meaning (everyone online)."""

from __future__ import annotations

from agentchat_client.protocol import SERVER_FRAME, Role
from server.core.identity import Identity
from server.core.roster import Member, Roster
from server.core.welcome import welcome


def test_agents_lists_everyone_online_and_members_says_who_is_an_agent() -> None:
    roster = Roster()
    roster.load([Member("alice", "developer", False), Member("bob", "viewer", False), Member("helper", "agent", True)])
    data = welcome(Identity("alice", Role.DEVELOPER), "s-1", {"alice", "bob"}, ["helper"], roster, 42)
    assert data["agents"] == ["alice", "bob", "helper"], "the seed's React client builds its user list from this"
    assert data["users"] == data["agents"] and data["onlineCount"] == 3
    assert {m["userId"] for m in data["members"] if m["isAgent"]} == {"helper"}
    assert data["lastMessageId"] == 42 and data["role"] == "developer"
    SERVER_FRAME.validate_python({"type": "auth_response", "data": data})
