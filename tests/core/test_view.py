"""What every process remembers of the chat: the newest page, known ids, statuses, questions."""

from __future__ import annotations

import orjson

from agentchat_client.protocol import MessageType
from server.core.events import Event
from server.core.view import ChatView


def message(i: int) -> Event:
    data = {"id": i, "text": f"m{i}", "sender": "bob"}
    return Event(MessageType.MESSAGE, orjson.dumps({"type": "message", "data": data}), message_id=i, _data=data)


def page(ids: range) -> list[dict]:
    return [{"type": "message", "data": {"id": i, "text": f"m{i}", "sender": "bob"}} for i in ids]


def test_the_newest_page_follows_new_messages_and_is_encoded_once() -> None:
    room = ChatView(page_size=3)
    room.load(page(range(1, 3)), has_older=False, last_id=2)
    frame, newest = room.newest_page_frame()
    assert newest == 2 and room.newest_page_frame()[0] is frame, "encoded once until something changes"
    for i in (3, 4):
        room.apply(message(i))
    frame, newest = room.newest_page_frame()
    body = orjson.loads(frame)["data"]
    assert newest == 4 and [m["data"]["id"] for m in body["messages"]] == [2, 3, 4]
    assert body["hasMore"] is True and body["beforeId"] is None
    assert room.last_id == 4


def test_replays_are_ignored() -> None:
    room = ChatView(page_size=5)
    room.load(page(range(1, 4)), has_older=False, last_id=3)
    room.apply(message(2))
    assert [m["data"]["id"] for m in room.recent] == [1, 2, 3]


def test_recent_ids_are_known_without_the_database() -> None:
    room = ChatView(page_size=2)
    room.load(page(range(1, 3)), has_older=False, last_id=2)
    room.apply(message(3))
    assert room.room_of(1) == "general" and room.room_of(3) == "general"
    assert room.room_of(99) is None, "unknown: the store decides"


def test_recent_messages_know_their_thread() -> None:
    room = ChatView(page_size=2)
    room.apply(message(1))
    reply = message(2)
    reply.data["threadId"] = 1
    room.apply(reply)
    assert room.place_of(1) == ("general", None) and room.place_of(2) == ("general", 1)
    assert room.place_of(3) is None


def test_statuses_and_questions_follow_their_events() -> None:
    room = ChatView()
    status = {"userId": "tasks", "status": "working", "currentTask": "x", "progress": 5, "timestamp": None}
    room.apply(Event(MessageType.STATUS_UPDATE, b"{}", _data=status))
    assert room.statuses["tasks"]["status"] == "working"
    asked = {"questionId": "q-1", "agent": "tasks", "to": "alice", "text": "?", "choices": ["y", "n"], "replyTo": None}
    room.apply(Event(MessageType.AGENT_QUESTION, b"frame", _data=asked))
    assert room.questions.get("q-1") is not None
    room.apply(Event(MessageType.QUESTION_CLOSED, b"{}", _data={"questionId": "q-1"}))
    assert room.questions.get("q-1") is None


def test_an_empty_page_size_keeps_no_page_but_still_counts() -> None:
    room = ChatView(page_size=0)
    room.load([], has_older=False, last_id=0)
    room.apply(message(1))
    frame, newest = room.newest_page_frame()
    assert orjson.loads(frame)["data"]["messages"] == [] and room.last_id == 1
