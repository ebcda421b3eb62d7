"""Edits, deletes, reactions and reply counts: who may, and what each does to a message."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from agentchat_client.protocol import ErrorCode, ProtocolError, Role
from server.core.edits import MAX_REACTIONS, Change, MessageState, apply, check_delete, check_edit, check_reaction

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def message(**kw: object) -> MessageState:
    return MessageState(**{"id": 7, "room_id": "general", "sender": "alice", "text": "hello", **kw})  # type: ignore[arg-type]


def code(call, *args) -> ErrorCode:  # noqa: ANN001
    with pytest.raises(ProtocolError) as info:
        call(*args)
    return info.value.code


def test_people_edit_their_own_messages_only() -> None:
    check_edit("alice", Role.DEVELOPER, message())
    assert code(check_edit, "bob", Role.DEVELOPER, message()) is ErrorCode.FORBIDDEN
    assert code(check_edit, "bob", Role.ADMIN, message()) is ErrorCode.FORBIDDEN, "admins delete, not rewrite"
    assert code(check_edit, "alice", Role.VIEWER, message()) is ErrorCode.FORBIDDEN
    assert code(check_edit, "alice", Role.DEVELOPER, message(deleted=True)) is ErrorCode.INVALID_MESSAGE
    check_edit("helper", Role.AGENT, message(sender="helper"))


def test_people_delete_their_own_and_admins_any() -> None:
    check_delete("alice", Role.DEVELOPER, message())
    check_delete("root", Role.ADMIN, message())
    assert code(check_delete, "bob", Role.DEVELOPER, message()) is ErrorCode.FORBIDDEN
    assert code(check_delete, "alice", Role.VIEWER, message()) is ErrorCode.FORBIDDEN
    assert code(check_delete, "alice", Role.DEVELOPER, message(deleted=True)) is ErrorCode.INVALID_MESSAGE


def test_viewers_do_not_react_and_nobody_reacts_to_a_tombstone() -> None:
    check_reaction(Role.DEVELOPER, message())
    assert code(check_reaction, Role.VIEWER, message()) is ErrorCode.FORBIDDEN
    assert code(check_reaction, Role.DEVELOPER, message(deleted=True)) is ErrorCode.INVALID_MESSAGE


def test_an_edit_changes_text_and_marks_it_edited() -> None:
    state = message()
    assert apply(state, Change("edit", "alice", NOW, text="hello!"))
    assert (state.text, state.edited_at) == ("hello!", NOW)
    assert not apply(state, Change("edit", "alice", NOW, text="hello!")), "the same text is no change"


def test_a_delete_leaves_a_tombstone_and_nothing_changes_it_after() -> None:
    state = message(reactions={"👍": ["bob"]}, attachments=[{"id": "f"}])
    assert apply(state, Change("delete", "alice", NOW))
    assert (state.deleted, state.text, state.reactions, state.attachments) == (True, "", {}, [])
    for late in (Change("edit", "alice", NOW, text="back"), Change("react", "bob", NOW, emoji="👍")):
        assert not apply(state, late), "a change racing a delete never resurrects the message"
    assert apply(state, Change("reply", "bob", NOW)), "replies in its thread are still counted"


def test_reactions_are_per_person_in_order_and_bounded() -> None:
    state = message()
    assert apply(state, Change("react", "bob", NOW, emoji="👍"))
    assert apply(state, Change("react", "carol", NOW, emoji="👍"))
    assert not apply(state, Change("react", "bob", NOW, emoji="👍")), "twice is once"
    assert state.reactions == {"👍": ["bob", "carol"]}
    assert apply(state, Change("unreact", "bob", NOW, emoji="👍"))
    assert not apply(state, Change("unreact", "bob", NOW, emoji="👍"))
    assert apply(state, Change("unreact", "carol", NOW, emoji="👍"))
    assert state.reactions == {}, "an emoji nobody uses any more is gone"
    for i in range(MAX_REACTIONS):
        assert apply(state, Change("react", "bob", NOW, emoji=f"e{i}"))
    assert not apply(state, Change("react", "bob", NOW, emoji="one-too-many"))


def test_a_reply_counts_and_dates_the_thread() -> None:
    state = message()
    apply(state, Change("reply", "bob", NOW))
    apply(state, Change("reply", "carol", NOW))
    assert (state.reply_count, state.last_reply_at) == (2, NOW)
