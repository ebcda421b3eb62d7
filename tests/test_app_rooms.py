"""ChatSession with rooms: per-room windows, unread and mention badges, read positions, threads,
edits, deletes and reactions (pure: frames in, display changes and frames to send out)."""

from __future__ import annotations

from agentchat_app.chat.session import ChatSession, Notice
from agentchat_app.state.notify import notify_elsewhere_script
from agentchat_client.protocol import MessageType

from .test_app_session import chat, frame, signed_in

ROOMS = [
    {"roomId": "general", "name": "general", "kind": "public", "unread": 0, "mentions": 0, "lastMessageId": 1,
     "lastReadId": 1, "members": [], "memberCount": 0, "agentModes": {}, "createdBy": None},
    {"roomId": "r-design", "name": "Design", "kind": "private", "unread": 2, "mentions": 1, "lastMessageId": 7,
     "lastReadId": 5, "members": ["alice", "bob", "helper"], "memberCount": 3, "agentModes": {"helper": "all"},
     "createdBy": "alice"},
    {"roomId": "r-lobby", "name": "lobby", "kind": "public", "unread": 0, "mentions": 0, "lastMessageId": 0,
     "lastReadId": 0, "members": ["bob"], "memberCount": 1, "agentModes": {}, "createdBy": "bob"},
    {"roomId": "d-ab", "name": "alice and bob", "kind": "dm", "unread": 0, "mentions": 0, "lastMessageId": 0,
     "lastReadId": 0, "members": ["alice", "bob"], "memberCount": 2, "agentModes": {}, "createdBy": "bob"},
]


def with_rooms() -> ChatSession:
    session = signed_in()
    session.apply(frame(MessageType.ROOMS, rooms=ROOMS))
    session.rooms.outbox.clear()
    return session


def page(room: str, *messages: dict, thread: int | None = None) -> dict:
    return frame(MessageType.HISTORY, roomId=room, threadId=thread, beforeId=None, hasMore=False,
                 messages=[{"type": "message", "data": m} for m in messages])


def test_the_rooms_list_splits_channels_and_direct_messages():
    session = with_rooms()
    assert [r.label for r in session.rooms.channels()] == ["general", "Design"]  # lobby: not a member
    assert [(r.label, r.kind) for r in session.rooms.direct()] == [("bob", "dm")]  # the other person
    design = session.rooms.channels()[1]
    assert (design.unread, design.mentions) == (2, 1)
    assert [r.name for r in session.rooms.browsable()] == ["general", "lobby"]
    assert session.rooms.current_view().active and session.room_id == "general"


def test_opening_a_room_asks_for_its_page_marks_it_read_and_keeps_general():
    session = with_rooms()
    changes = session.open_room("r-design")
    assert "messages" in changes.fields and session.room_id == "r-design"
    assert (MessageType.ROOM_READ, {"roomId": "r-design", "lastReadId": 7}) in session.rooms.outbox
    assert (MessageType.HISTORY, {"roomId": "r-design", "beforeId": None, "limit": 50}) in session.rooms.outbox
    assert session.rooms.channels()[1].unread == 0
    session.apply(page("r-design", chat(6, text="in design", roomId="r-design")))
    assert [m.text for m in session.window.messages] == ["in design"]
    session.rooms.outbox.clear()
    session.open_room("general")  # kept: no new page needed
    assert [m.text for m in session.window.messages] == ["old"] and session.rooms.outbox == []


def test_live_messages_go_to_their_room_and_count_as_unread_elsewhere():
    session = with_rooms()
    changes = session.apply(frame(MessageType.MESSAGE, **chat(8, text="@alice look", roomId="r-design",
                                                               mentions=["alice"])))
    assert "rooms" in changes.fields and "messages" not in changes.fields
    assert changes.toasts == ["bob mentioned you in #Design"]
    assert [m.text for m in session.window.messages] == ["old"]  # general is open
    design = session.rooms.channels()[1]
    assert (design.unread, design.mentions) == (3, 2)
    mine = session.apply(frame(MessageType.MESSAGE, **chat(9, sender="alice", roomId="r-design")))
    assert "rooms" not in mine.fields  # my own message is not news
    # Recovery replays what the rooms list already counted: not counted twice.
    session.apply(frame(MessageType.MESSAGE, **chat(7, roomId="r-design")))
    assert session.rooms.channels()[1].unread == 3
    # A message in the open room is read at once.
    session.apply(frame(MessageType.MESSAGE, **chat(10, text="hi all")))
    assert (MessageType.ROOM_READ, {"roomId": "general", "lastReadId": 10}) in session.rooms.outbox


def test_reading_in_another_tab_clears_the_badge():
    session = with_rooms()
    assert session.apply(frame(MessageType.ROOM_READ, roomId="r-design", lastReadId=6)).fields == set()
    assert session.rooms.channels()[1].unread == 2  # not at the end yet
    assert session.apply(frame(MessageType.ROOM_READ, roomId="r-design", lastReadId=7)).fields == {"rooms"}
    assert (session.rooms.channels()[1].unread, session.rooms.channels()[1].mentions) == (0, 0)
    assert session.apply(frame(MessageType.ROOM_READ, roomId="r-design", lastReadId=7)).fields == set()


def test_a_created_room_or_dm_opens_when_the_server_announces_it():
    session = with_rooms()
    session.rooms.waiting_for = ("create", "launch")
    room = dict(ROOMS[2], roomId="r-launch", name="launch", members=["alice"], memberCount=1)
    session.apply(frame(MessageType.ROOM, room=room))
    assert session.room_id == "r-launch" and session.rooms.waiting_for is None
    session.rooms.waiting_for = ("dm", "helper")
    session.apply(frame(MessageType.ROOM, room=dict(ROOMS[3], roomId="d-ah", members=["alice", "helper"])))
    assert session.room_id == "d-ah" and session.rooms.current_view().label == "helper"
    assert [(a.agent, a.mode) for a in session.rooms.agent_modes({"helper"})] == [("helper", "all")]


def test_someone_else_s_room_change_keeps_my_counts_and_removal_goes_back_to_general():
    session = with_rooms()
    session.open_room("r-design")
    session.apply(frame(MessageType.ROOM, room=dict(ROOMS[1], unread=0, members=["alice", "bob", "carol"])))
    assert session.room_id == "r-design" and session.rooms.current_view().members == ["alice", "bob", "carol"]
    changes = session.apply(frame(MessageType.ROOM_REMOVED, roomId="r-design", reason="left"))
    assert session.room_id == "general" and "messages" in changes.fields
    assert [r.room_id for r in session.rooms.channels()] == ["general"]


def test_an_unknown_room_from_the_url_falls_back_to_general():
    session = ChatSession("alice", "developer")
    session.open_room("r-gone")  # before the list is known: try it
    assert session.room_id == "r-gone"
    session.apply(frame(MessageType.ROOMS, rooms=ROOMS))
    assert session.room_id == "general"


def test_edits_deletes_and_reactions_update_the_shown_message():
    session = with_rooms()
    session.apply(frame(MessageType.MESSAGE, **chat(2, text="tpyo")))
    changes = session.apply(frame(MessageType.MESSAGE_UPDATED, id=2, eventId=3, roomId="general", text="typo",
                                  editedAt="2025-01-10T15:31:00.000Z", deleted=False,
                                  reactions={"👍": ["bob", "alice"]}, replyCount=0, by="bob"))
    assert "messages" in changes.fields and session.edited_ids == {2}
    shown = session.window.by_id(2)
    assert shown is not None and shown.text == "typo" and shown.edited and shown.segments[0].text == "typo"
    assert [(r.emoji, r.count, r.who, r.mine) for r in shown.reactions] == [("👍", 2, "bob, alice", True)]
    assert session.last_message_id == 3  # the event id counts for recovery
    session.apply(frame(MessageType.MESSAGE_UPDATED, id=2, eventId=4, roomId="general", text="", deleted=True,
                        reactions={}, replyCount=0, by="bob"))
    gone = session.window.by_id(2)
    assert gone is not None and gone.deleted and gone.text == "" and gone.reactions == [] and not gone.edited


def test_history_shows_the_current_state():
    session = with_rooms()
    session.apply(page("general", chat(5, text="", deleted=True), chat(6, text="new", editedAt="2025-01-10T15:31:00Z",
                                                                       replyCount=3, reactions={"🎉": ["bob"]})))
    deleted, edited = session.window.messages
    assert deleted.deleted and not deleted.edited
    assert edited.edited and edited.reply_count == 3 and edited.reactions[0].who == "bob"


def test_a_thread_opens_with_its_replies_and_counts_new_ones():
    session = with_rooms()
    session.apply(frame(MessageType.MESSAGE, **chat(2, text="root")))
    session.rooms.outbox.clear()
    assert session.open_thread(2).fields == {"thread"}
    assert session.rooms.outbox == [(MessageType.HISTORY, {"roomId": "general", "threadId": 2, "beforeId": None,
                                                           "limit": 50})]
    session.apply(page("general", chat(3, text="first reply", threadId=2), thread=2))
    assert [m.text for m in session.thread.messages] == ["first reply"]
    changes = session.apply(frame(MessageType.MESSAGE, **chat(4, text="second reply", threadId=2)))
    assert changes.fields >= {"thread"} and "messages" not in changes.fields
    assert [m.text for m in session.window.messages] == ["old", "root"]  # replies are not in the timeline
    session.apply(frame(MessageType.MESSAGE_UPDATED, id=2, eventId=5, roomId="general", text="root",
                        deleted=False, reactions={}, replyCount=2, lastReplyAt="2025-01-10T15:32:00Z", by="bob"))
    assert session.thread_root is not None and session.thread_root.reply_count == 2
    root = session.window.by_id(2)
    assert root is not None and root.reply_count == 2
    session.close_thread()
    assert session.thread_root is None
    assert session.apply(frame(MessageType.MESSAGE, **chat(6, text="late", threadId=2))).fields <= {"rooms"}


def test_typing_and_streams_of_other_rooms_are_not_shown():
    session = with_rooms()
    assert session.apply(frame(MessageType.TYPING, userId="bob", roomId="r-design", typing=True)).fields == set()
    assert session.apply(frame(MessageType.AGENT_STREAM, streamId="s1", roomId="r-design", sender="helper",
                               delta="hi")).fields == set()
    assert session.apply(frame(MessageType.TYPING, userId="bob", typing=True)).fields == {"typing"}


def test_a_new_bridge_resumes_in_the_room_that_was_shown():
    first = with_rooms()
    first.open_room("r-design")
    first.apply(page("r-design", chat(6, text="in design", roomId="r-design")))
    again = ChatSession("alice", "developer")
    again.seed(list(first.window.messages), has_more=False)
    assert again.room_id == "r-design" and [m.text for m in again.window.messages] == ["in design"]


def test_mentions_and_direct_messages_elsewhere_become_desktop_notices():
    session = with_rooms()
    mention = session.apply(frame(MessageType.MESSAGE, **chat(8, text="@alice  look\nhere", roomId="r-design",
                                                               mentions=["alice"])))
    assert mention.notices == [Notice("bob mentioned you in #Design", "@alice look here", "msg-8")]
    direct = session.apply(frame(MessageType.MESSAGE, **chat(9, text="lunch?", roomId="d-ab")))
    assert direct.notices == [Notice("bob (direct message)", "lunch?", "msg-9")]
    assert session.apply(frame(MessageType.MESSAGE, **chat(10, text="plain", roomId="r-design"))).notices == []
    assert session.apply(frame(MessageType.MESSAGE, **chat(11, sender="alice", roomId="d-ab"))).notices == []
    # The open room's messages are noticed on the page; a replayed old one is not news.
    assert session.apply(frame(MessageType.MESSAGE, **chat(12, text="@alice", mentions=["alice"]))).notices == []
    assert session.apply(frame(MessageType.MESSAGE, **chat(5, text="old dm", roomId="d-ab"))).notices == []


def test_a_notice_reaches_the_page_as_plain_string_literals():
    script = notify_elsewhere_script(Notice('bob "mentioned" you', "</script><b>x</b>", "msg-8"))
    assert script == ('window.agentchatNotifyElsewhere && window.agentchatNotifyElsewhere('
                      '"bob \\"mentioned\\" you", "</script><b>x</b>", "msg-8")')
