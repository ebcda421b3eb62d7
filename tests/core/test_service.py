"""The chat service with an in-memory store and fan-out: no sockets, no database."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agentchat_client.protocol import ErrorCode, MessageType, ProtocolError
from server.backends.fanout import MemoryFanout
from server.backends.ratelimit import MemoryRateLimiter
from server.core.events import Event
from server.core.policy import Limits
from server.core.rooms import RoomDirectory
from server.core.view import ChatView
from server.hub.service import ChatService
from server.store import MemoryStore


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.exists_calls = 0

    async def get_message(self, message_id: int):  # noqa: ANN201
        self.exists_calls += 1
        return await super().get_message(message_id)


class Harness:
    def __init__(self) -> None:
        self.store = CountingStore()
        self.view = ChatView()
        self.events: list[Event] = []
        self.tasks: set[asyncio.Task[Any]] = set()
        self.fanout = MemoryFanout()
        self.service = ChatService(
            self.store, self.fanout, self.view, RoomDirectory(), MemoryRateLimiter(3, 0.0),
            Limits(max_message_chars=100), self.spawn,
        )

    def spawn(self, coro: Any, name: str = "") -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        return task

    def deliver(self, event: Event) -> None:
        self.view.apply(event)
        if event.kind is MessageType.QUESTION_CLOSED:
            self.service.question_closed(event.data)
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [e.kind.value for e in self.events]


@pytest.fixture()
async def chat() -> Harness:
    harness = Harness()
    await harness.fanout.start(harness.deliver)
    return harness


async def error_code(awaitable: Any) -> ErrorCode:
    with pytest.raises(ProtocolError) as info:
        await awaitable
    return info.value.code


async def test_a_message_is_stored_before_anyone_receives_it(chat: Harness) -> None:
    row = await chat.service.post("alice", "hello @bob", client_id="c-1")
    assert row.id == 1 and row.mentions == ["bob"]
    assert chat.kinds() == ["message"] and chat.events[0].message_id == 1
    assert chat.events[0].data["clientId"] == "c-1"
    assert (await chat.store.history(None, 10))[0][0].text == "hello @bob"


async def test_reply_to_recent_messages_needs_no_database_read(chat: Harness) -> None:
    first = await chat.service.post("alice", "first")
    await chat.service.post("bob", "re", reply_to=first.id)
    assert chat.store.exists_calls == 0
    assert await error_code(chat.service.post("bob", "re", reply_to=999)) is ErrorCode.INVALID_MESSAGE
    assert chat.store.exists_calls == 1


async def test_bad_text_never_reaches_the_store(chat: Harness) -> None:
    assert await error_code(chat.service.post("alice", "x" * 101)) is ErrorCode.MESSAGE_TOO_LONG
    assert await error_code(chat.service.post("alice", "nul\x00")) is ErrorCode.INVALID_MESSAGE
    assert await error_code(chat.service.post("alice", "  ")) is ErrorCode.INVALID_MESSAGE
    assert await error_code(chat.service.post("alice", "f", attachment_ids=["nope"])) is ErrorCode.INVALID_MESSAGE
    assert await chat.store.latest_id() == 0 and chat.events == []


async def test_rate_limited_posts_say_when_to_retry(chat: Harness) -> None:
    for i in range(3):
        await chat.service.post("alice", f"m{i}", rate_limited=True)
    with pytest.raises(ProtocolError) as info:
        await chat.service.post("alice", "one too many", rate_limited=True)
    assert info.value.code is ErrorCode.RATE_LIMITED and info.value.extra["retryAfter"] > 0
    await chat.service.post("alice", "agents and in-process callers are not limited")


async def test_a_status_with_a_nul_is_refused_before_anyone_sees_it(chat: Harness) -> None:
    with pytest.raises(ProtocolError):
        await chat.service.set_status("tasks", "working", "bad\x00", None)
    assert chat.events == [] and await chat.store.agent_statuses() == []
    await chat.service.set_status("tasks", "working", "fine", 50)
    assert chat.kinds() == ["status_update"] and chat.view.statuses["tasks"]["progress"] == 50


async def test_question_ids_are_minted_and_bound_to_agent_and_person(chat: Harness) -> None:
    first = await chat.service.ask("tasks", "alice", "Delete #3?", ["Delete", "Cancel"], 60, ref="mine")
    second = await chat.service.ask("files", "bob", "Delete #3?", ["Delete", "Cancel"], 60, ref="mine")
    assert first != second, "a second agent re-using an id gets its own question, never someone else's"
    assert chat.events[0].data["ref"] == "mine"
    with pytest.raises(ProtocolError) as info:
        chat.service.answer(first, "bob", "Delete")
    assert info.value.code is ErrorCode.FORBIDDEN
    waiting = asyncio.ensure_future(chat.service.wait_answer(first))
    chat.service.answer(first, "alice", "Delete")
    assert await waiting == "Delete"
    with pytest.raises(ProtocolError) as info:
        chat.service.answer(first, "alice", "Delete")
    assert info.value.code is ErrorCode.NOT_FOUND, "answering twice is a clear error"


async def test_stopping_an_agent_cancels_its_open_questions(chat: Harness) -> None:
    question = await chat.service.ask("tasks", "alice", "Mark done?", ["Yes", "No"], 60)
    waiting = asyncio.ensure_future(chat.service.wait_answer(question))
    chat.service.stop_agent("tasks", "bob")
    assert await waiting is None
    closed = [e.data for e in chat.events if e.kind is MessageType.QUESTION_CLOSED]
    assert closed == [closed[0]] and closed[0]["status"] == "cancelled"
    stop = next(e for e in chat.events if e.kind is MessageType.STOP_AGENT)
    assert stop.target_user == "tasks" and stop.data == {"agent": "tasks", "by": "bob"}
    with pytest.raises(ProtocolError) as info:
        chat.service.answer(question, "alice", "Yes")
    assert info.value.code is ErrorCode.NOT_FOUND


async def test_unanswered_questions_time_out(chat: Harness) -> None:
    question = await chat.service.ask("tasks", "alice", "Mark done?", ["Yes", "No"], 0.01)
    assert await asyncio.wait_for(chat.service.wait_answer(question), 5) is None
    await asyncio.wait_for(asyncio.gather(*chat.tasks), 5)
    assert chat.kinds()[-2:] == ["question_closed", "agent_response"]
    assert "did not answer" in chat.events[-1].data["text"]
