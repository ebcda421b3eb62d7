"""``ChatService``: everything that speaks in the chat, for people's frames and in-process agents.

Posting a message, streaming part of an answer, reporting a status, asking a question and
stopping an agent all come through here, whether they arrive as a frame on a socket (the hub's
handlers), from an in-process agent (``WebSocketManager``) or, later, from HTTP.  The rules are
the core's (``server.core``); this layer gathers the facts they need (the store, the rate
limiter) and publishes the outcome through the fan-out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from agentchat_client.protocol import (
    GENERAL,
    AgentQuestion,
    AgentStreamEvent,
    ErrorCode,
    MessageType,
    ProtocolError,
    QuestionClosed,
    Role,
    StopRequest,
    TypingNotice,
    iso,
    parse_mentions,
    server_frame,
    utc_now,
)

from ..core.events import Event
from ..core.edits import MAX_REACTIONS, Change, MessageState, check_delete, check_edit, check_reaction
from ..core.policy import Limits, check_message_text, check_text
from ..core.rooms import RoomDirectory
from ..core.sent_ids import SentIds
from ..core.view import ChatView
from ..backends import Fanout, RateLimiter
from ..serialize import attachment_meta, encode_client_id, message_event, status_data
from ..store import AgentStatus, Message, Store

__all__ = ["ChatService"]

log = logging.getLogger(__name__)

Spawn = Callable[[Awaitable[Any], str], "asyncio.Task[Any]"]


class ChatService:
    def __init__(
        self, store: Store, fanout: Fanout, view: ChatView, rooms: RoomDirectory, limiter: RateLimiter,
        limits: Limits, spawn: Spawn,
    ) -> None:
        self.store = store
        self.fanout = fanout
        self.view = view
        self.rooms = rooms
        self.limiter = limiter
        self.limits = limits
        self.spawn = spawn
        self.question_waiters: dict[str, asyncio.Future[str | None]] = {}
        self.sent_ids = SentIds()
        """Client ids already posted, per person: a retried ``message`` is not stored twice."""

    # publishing --------------------------------------------------------------------------
    def publish(self, event: Event) -> None:
        self.fanout.publish(event)

    def _publish_row(self, row: Message) -> None:
        self.fanout.publish(message_event(row))

    # messages ----------------------------------------------------------------------------
    async def check_reply_to(self, reply_to: int | None, room_id: str = GENERAL) -> None:
        """``replyTo`` must name a stored message of the same room (recent ones are known from memory)."""
        if reply_to is None:
            return
        room = self.view.room_of(reply_to)
        if room is None:
            found = await self.store.get_message(reply_to)
            room = found.room_id if found is not None else None
        if room != room_id:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"replyTo: there is no message {reply_to} in this room")

    async def check_thread(self, thread_id: int | None, room_id: str) -> None:
        """A thread's root is a message of the same room's timeline (not itself a reply in a thread)."""
        if thread_id is None:
            return
        place = self.view.place_of(thread_id)  # recent messages: no database read
        if place is None:
            root = await self.store.get_message(thread_id)
            place = (root.room_id, root.thread_id) if root is not None else None
        if place is None or place[0] != room_id:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"threadId: there is no message {thread_id} in this room")
        if place[1] is not None:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"threadId: reply in thread {place[1]}, not to a reply")

    async def post(self, sender: str, text: str, kind: MessageType = MessageType.MESSAGE, **options: Any) -> Message:
        """Check, store, then broadcast one chat message or agent answer (committed before anyone sees it)."""
        return await (await self.submit(sender, text, kind, **options))

    async def submit(
        self,
        sender: str,
        text: str,
        kind: MessageType = MessageType.MESSAGE,
        *,
        room_id: str = GENERAL,
        thread_id: int | None = None,
        client_id: int | str | None = None,
        mentions: list[str] | tuple[str, ...] = (),
        reply_to: int | None = None,
        attachment_ids: list[str] | tuple[str, ...] = (),
        agent_status: str | None = None,
        stream_id: str | None = None,
        rate_limited: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> asyncio.Future[Message]:
        """Check one chat message or agent answer and put it on the write queue; the future
        completes once it is committed and broadcast.  Refusals raise here, before it is queued."""
        check_message_text(text, bool(attachment_ids), self.limits)
        self.rooms.require_member(room_id, sender)
        await self.check_reply_to(reply_to, room_id)
        await self.check_thread(thread_id, room_id)
        attachments = []
        if attachment_ids:
            found = await self.store.get_attachments(attachment_ids)
            missing = set(attachment_ids) - {a.id for a in found}
            if missing:
                raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"attachments: unknown file id {sorted(missing)[0]!r}")
            attachments = [attachment_meta(a) for a in found]
        if rate_limited:
            wait = await self.limiter.acquire(sender)
            if wait > 0:
                wait = round(wait + 0.0005, 3)
                raise ProtocolError(
                    ErrorCode.RATE_LIMITED, f"Too many messages; try again in {wait:g} s", retryAfter=wait
                )
        draft = Message(
            kind=kind.value,
            sender=sender,
            text=text,
            mentions=parse_mentions(text, list(mentions)),
            reply_to=reply_to,
            is_command=text.lstrip().startswith("/"),
            agent_status=agent_status,
            attachments=attachments,
            client_id=encode_client_id(client_id),
            stream_id=stream_id,
            extra=dict(extra or {}),
            created_at=utc_now(),  # explicit: no default factory to run per message
            room_id=room_id,
            thread_id=thread_id,
        )
        return self.store.submit(draft, on_commit=self._publish_row)

    def stream(self, agent: str, stream_id: str, delta: str, reply_to: int | None, room_id: str = GENERAL,
               thread_id: int | None = None) -> None:
        """A piece of an answer being written (not stored: the final answer is)."""
        check_text("delta", delta)
        data: AgentStreamEvent = {
            "streamId": stream_id, "roomId": room_id, "threadId": thread_id, "sender": agent, "replyTo": reply_to,
            "delta": delta, "timestamp": iso(utc_now()),
        }
        self.publish(Event(MessageType.AGENT_STREAM, server_frame(MessageType.AGENT_STREAM, data), room=room_id,
                           _data=dict(data)))

    def typing(self, user_id: str, typing: bool, room_id: str = GENERAL, thread_id: int | None = None) -> None:
        data: TypingNotice = {"userId": user_id, "roomId": room_id, "threadId": thread_id, "typing": typing,
                              "timestamp": iso(utc_now())}
        frame = server_frame(MessageType.TYPING, data)
        self.publish(Event(MessageType.TYPING, frame, exclude_user=user_id, room=room_id, _data=dict(data)))

    # changing messages ---------------------------------------------------------------------
    async def _target(self, message_id: int, user_id: str) -> MessageState:
        found = await self.store.get_message(message_id)
        room = self.rooms.get(found.room_id) if found is not None else None
        if found is None or room is None or not room.readable_by(user_id):
            raise ProtocolError(ErrorCode.NOT_FOUND, f"There is no message {message_id}")
        self.rooms.require_member(found.room_id, user_id)
        return MessageState(
            message_id, found.room_id, found.sender, found.text, found.thread_id, found.edited_at, found.deleted,
            found.reactions, found.reply_count, found.last_reply_at, found.attachments,
        )

    async def edit(self, user_id: str, role: Role, message_id: int, text: str) -> Message | None:
        target = await self._target(message_id, user_id)
        check_edit(user_id, role, target)
        check_message_text(text, bool(target.attachments), self.limits)
        return await self.store.update_message(message_id, Change("edit", user_id, utc_now(), text=text),
                                               on_commit=self._publish_row)

    async def delete(self, user_id: str, role: Role, message_id: int) -> Message | None:
        target = await self._target(message_id, user_id)
        check_delete(user_id, role, target)
        return await self.store.update_message(message_id, Change("delete", user_id, utc_now()),
                                               on_commit=self._publish_row)

    async def react(self, user_id: str, role: Role, message_id: int, emoji: str, add: bool) -> Message | None:
        target = await self._target(message_id, user_id)
        check_reaction(role, target)
        if add and emoji not in target.reactions and len(target.reactions) >= MAX_REACTIONS:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"A message holds at most {MAX_REACTIONS} different reactions")
        change = Change("react" if add else "unreact", user_id, utc_now(), emoji=emoji)
        return await self.store.update_message(message_id, change, on_commit=self._publish_row)

    # agent status ------------------------------------------------------------------------
    async def set_status(self, agent: str, status: str, current_task: str | None, progress: float | None) -> None:
        if current_task is not None:
            check_text("currentTask", current_task)
        row = AgentStatus(agent, status, current_task, progress, utc_now())
        data = status_data(row)
        self.publish(Event(MessageType.STATUS_UPDATE, server_frame(MessageType.STATUS_UPDATE, data), _data=dict(data)))
        try:
            await self.store.save_agent_status(row)
        except Exception:
            log.exception("could not save the status of %s", agent)

    # stopping ----------------------------------------------------------------------------
    def stop_agent(self, agent: str, by: str) -> None:
        """Ask ``agent`` to stop (wherever it runs) and close the questions it has open."""
        data: StopRequest = {"agent": agent, "by": by}
        self.publish(Event(MessageType.STOP_AGENT, server_frame(MessageType.STOP_AGENT, data), target_user=agent,
                           _data=dict(data)))
        for question in self.view.questions.of_agent(agent):
            self.close_question(question.question_id, "cancelled")

    # questions ---------------------------------------------------------------------------
    async def ask(
        self,
        agent: str,
        to: str,
        text: str,
        choices: list[str],
        timeout: float,
        reply_to: int | None = None,
        ref: str | None = None,
        wait: bool = True,
        room_id: str = GENERAL,
    ) -> str:
        """Publish a question from ``agent`` to person ``to``; returns the id the server minted.

        With ``wait`` (in-process agents) the answer can be awaited with :meth:`wait_answer`;
        agents on a socket hear ``question_closed`` instead."""
        self.rooms.require_member(room_id, agent)
        await self.check_reply_to(reply_to, room_id)
        question_id = self.view.questions.make_id()
        data: AgentQuestion = {
            "questionId": question_id, "roomId": room_id, "agent": agent, "to": to, "text": text, "choices": list(choices),
            "timeoutSeconds": timeout, "replyTo": reply_to, "timestamp": iso(utc_now()),
        }
        if ref is not None:
            data["ref"] = ref
        if wait:
            self.question_waiters[question_id] = asyncio.get_running_loop().create_future()
        self.publish(Event(MessageType.AGENT_QUESTION, server_frame(MessageType.AGENT_QUESTION, data), room=room_id,
                           _data=dict(data)))
        self.spawn(self._expire_question(question_id, timeout), f"question-{question_id}")
        return question_id

    async def wait_answer(self, question_id: str) -> str | None:
        """The chosen answer, or None on timeout or cancel (for in-process agents)."""
        future = self.question_waiters.get(question_id)
        if future is None:
            return None  # not asked to wait, or already collected
        try:
            return await future
        finally:
            self.question_waiters.pop(question_id, None)

    async def _expire_question(self, question_id: str, timeout: float) -> None:
        await asyncio.sleep(timeout)
        question = self.view.questions.get(question_id)
        if question is None:
            return
        self.close_question(question_id, "timeout")
        minutes = f"{timeout / 60:g} min" if timeout >= 60 else f"{timeout:g} s"
        text = f"@{question.to} did not answer within {minutes}, so I went on without it: \"{question.text}\""
        try:
            await self.post(question.agent, text, MessageType.AGENT_RESPONSE, reply_to=question.reply_to,
                            room_id=question.room_id)
        except Exception:
            log.exception("could not report the timeout of question %s", question_id)

    def answer(self, question_id: str, user_id: str, answer: str) -> None:
        self.view.questions.check_answer(question_id, user_id, answer)
        self.close_question(question_id, "answered", answer, user_id)

    def close_question(self, question_id: str, status: str, answer: str | None = None, by: str | None = None) -> None:
        question = self.view.questions.get(question_id)
        data: QuestionClosed = {
            "questionId": question_id, "status": status,  # type: ignore[typeddict-item]
            "answer": answer, "answeredBy": by, "timestamp": iso(utc_now()),
        }
        if question is not None and question.ref is not None:
            data["ref"] = question.ref
        room = question.room_id if question is not None else None
        self.publish(Event(MessageType.QUESTION_CLOSED, server_frame(MessageType.QUESTION_CLOSED, data), room=room,
                           _data=dict(data)))

    def question_closed(self, data: dict[str, Any]) -> None:
        """Wake an in-process agent waiting for this question (called on delivery, on every process)."""
        waiter = self.question_waiters.get(data["questionId"])
        if waiter is not None and not waiter.done():
            waiter.set_result(data.get("answer") if data.get("status") == "answered" else None)
