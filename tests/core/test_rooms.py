"""Rooms: who may read, who is in, and the rules for changing them (no sockets)."""

from __future__ import annotations

import pytest

from agentchat_client.protocol import SERVER_FRAME, AgentMode, ErrorCode, ProtocolError, Role, RoomKind
from server.core.rooms import Room, RoomDirectory, dm_key, room_from_summary, summary


def directory() -> RoomDirectory:
    rooms = RoomDirectory()
    rooms.put(Room("r-team", "Team", RoomKind.PRIVATE, "alice", frozenset({"alice", "bob", "helper"})))
    rooms.put(Room("r-town", "Town square", RoomKind.PUBLIC, "carol", frozenset({"carol"})))
    rooms.put(Room("dm-1", "alice and dave", RoomKind.DM, "alice", frozenset({"alice", "dave"})))
    return rooms


def code(call, *args) -> ErrorCode:  # noqa: ANN001
    with pytest.raises(ProtocolError) as info:
        call(*args)
    return info.value.code


def test_general_is_everyones_and_private_rooms_are_members_only() -> None:
    rooms = directory()
    assert rooms.require_member("general", "anyone").is_general
    assert rooms.require_readable("r-team", "bob").name == "Team"
    assert code(rooms.require_readable, "r-team", "mallory") is ErrorCode.FORBIDDEN
    assert code(rooms.require_readable, "r-nope", "mallory") is ErrorCode.FORBIDDEN, "unknown looks like private"
    assert rooms.require_readable("r-town", "mallory").kind is RoomKind.PUBLIC, "anyone may read a public room"
    assert code(rooms.require_member, "r-town", "mallory") is ErrorCode.FORBIDDEN, "but must join to post"
    assert rooms.readable_ids("mallory") == {"general", "r-town"}
    assert rooms.member_room_ids("alice") == {"general", "r-team", "dm-1"}
    assert {r.room_id for r in rooms.visible_rooms("dave")} == {"general", "r-town", "dm-1"}


def test_joining_leaving_and_inviting() -> None:
    rooms = directory()
    assert rooms.check_join("r-town", "mallory").room_id == "r-town"
    assert code(rooms.check_join, "r-team", "mallory") is ErrorCode.FORBIDDEN
    assert code(rooms.check_leave, "general", "alice") is ErrorCode.INVALID_MESSAGE
    assert rooms.check_leave("r-team", "bob").room_id == "r-team"
    assert rooms.check_invite("r-team", "alice", Role.DEVELOPER, "carol").room_id == "r-team"
    assert code(rooms.check_invite, "r-team", "mallory", Role.DEVELOPER, "carol") is ErrorCode.FORBIDDEN
    assert code(rooms.check_invite, "r-team", "alice", Role.VIEWER, "carol") is ErrorCode.FORBIDDEN
    assert code(rooms.check_invite, "r-team", "alice", Role.DEVELOPER, "bob") is ErrorCode.INVALID_MESSAGE
    assert code(rooms.check_invite, "dm-1", "alice", Role.DEVELOPER, "bob") is ErrorCode.INVALID_MESSAGE


def test_room_names_are_unique_whatever_their_case_or_spacing() -> None:
    rooms = directory()
    assert rooms.check_new_name("  Design   review ") == "Design review"
    assert code(rooms.check_new_name, "team") is ErrorCode.INVALID_MESSAGE
    assert code(rooms.check_new_name, "TOWN  square") is ErrorCode.INVALID_MESSAGE
    assert code(rooms.check_new_name, "   ") is ErrorCode.INVALID_MESSAGE


def test_agent_modes_default_to_mention_and_all_in_a_dm() -> None:
    rooms = directory()
    team = rooms.check_mode("r-team", "alice", Role.DEVELOPER, "helper")
    assert team.mode_of("helper") is AgentMode.MENTION
    assert team.with_mode("helper", AgentMode.OFF).mode_of("helper") is AgentMode.OFF
    assert Room("dm-2", "x", RoomKind.DM, "a", frozenset({"a", "helper"})).mode_of("helper") is AgentMode.ALL
    assert code(rooms.check_mode, "r-team", "alice", Role.DEVELOPER, "files") is ErrorCode.INVALID_MESSAGE


def test_one_direct_message_room_per_pair() -> None:
    rooms = directory()
    assert rooms.dm_between("dave", "alice").room_id == "dm-1"  # type: ignore[union-attr]
    assert dm_key("b", "a") == dm_key("a", "b")
    assert rooms.dm_between("alice", "bob") is None
    left = rooms.get("dm-1").with_members({"dave"})  # type: ignore[union-attr]
    rooms.put(left)
    assert rooms.dm_between("alice", "dave").room_id == "dm-1", "still theirs after one left"  # type: ignore[union-attr]


def test_membership_changes_move_the_indexes() -> None:
    rooms = directory()
    rooms.put(rooms.get("r-team").with_members({"alice"}))  # type: ignore[union-attr]
    assert "r-team" not in rooms.member_room_ids("bob")
    assert rooms.members_of("r-team") == {"alice"} and rooms.members_of("general") is None


def test_a_summary_round_trips_and_matches_the_published_shape() -> None:
    room = Room("r-team", "Team", RoomKind.PRIVATE, "alice", frozenset({"alice", "helper"}),
                (("helper", AgentMode.ALL),))
    data = summary(room, unread=3, mentions=1, last_message_id=40, last_read_id=37)
    assert room_from_summary(data) == room
    SERVER_FRAME.validate_python({"type": "room", "data": {"room": data}})
    assert summary(Room("general", "general", RoomKind.PUBLIC))["members"] == []
