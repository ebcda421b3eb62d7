"""What the hub does with each frame of an authenticated connection.

Each handler checks the sender against the core's rules (``core.policy``), then calls the
``ChatService`` or answers the connection.  A :class:`ProtocolError` becomes an ``error`` frame
for the sender only; the connection stays open.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from agentchat_client.protocol import (
    GENERAL,
    AgentEventData,
    AgentQuestionData,
    AgentResponseData,
    ApprovalDecisionData,
    ApprovalRequestData,
    AgentStreamData,
    ChatMessageData,
    DmOpenData,
    ErrorCode,
    HistoryData,
    HistoryPage,
    MessageDeleteData,
    MessageEditData,
    MessageType,
    ProtocolError,
    QuestionAnswerData,
    ReactionData,
    Role,
    RoomAgentModeData,
    RoomCreateData,
    RoomInviteData,
    RoomReadData,
    RoomRef,
    RunQueuedData,
    RunSubscribeData,
    SearchData,
    SearchResults,
    StatusUpdateData,
    StopAgentData,
    TypingData,
    error_frame,
    server_frame,
)

from ..core.policy import require_agent, require_own_status, require_poster
from ..core.sent_ids import IN_FLIGHT
from ..serialize import message_envelope, message_event
from ..store.records import Message
from .connections import Conn
from .pipeline import read_on

if TYPE_CHECKING:
    from .hub import Hub

__all__ = ["HANDLERS"]

Handler = Callable[["Hub", Conn, Any], Awaitable[None]]


def _role(conn: Conn) -> Role:
    assert conn.identity is not None
    return conn.identity.role


def _agent(conn: Conn, kind: MessageType) -> str:
    require_agent(_role(conn), kind)
    assert conn.user_id is not None
    return conn.user_id


def _user(conn: Conn) -> str:
    assert conn.user_id is not None
    return conn.user_id


async def on_message(hub: Hub, conn: Conn, data: ChatMessageData) -> None:
    require_poster(_role(conn))
    user = _user(conn)
    content = (data.text, data.roomId or GENERAL, data.threadId, data.replyTo, tuple(data.attachments))
    earlier = hub.service.sent_ids.claim(user, data.id, content)
    if earlier is not None:  # a retry of a message already posted (or still being stored): not again
        row = await hub.store.get_message(earlier) if earlier != IN_FLIGHT else None
        if row is not None:  # the original, to this connection only: it confirms the retry
            await hub.send(conn, message_event(row).frame)
        return  # in flight: the original's broadcast reaches this connection too
    try:
        stored = await hub.service.submit(
            user, data.text, MessageType.MESSAGE, room_id=data.roomId or GENERAL, thread_id=data.threadId,
            client_id=data.id, mentions=data.mentions, reply_to=data.replyTo, attachment_ids=data.attachments,
            rate_limited=_role(conn) is not Role.AGENT,
        )
    except BaseException:
        hub.service.sent_ids.release(user, data.id)
        raise

    def settled(future: asyncio.Future[Message]) -> None:
        if future.cancelled() or future.exception() is not None:  # the store logged why
            hub.service.sent_ids.release(user, data.id)
            hub.spawn(hub.send(conn, error_frame(
                ErrorCode.INTERNAL_ERROR, "Your message could not be stored; please send it again", ref=data.id)))
        else:
            hub.service.sent_ids.posted(user, data.id, future.result().id or 0)

    await read_on(conn, stored, settled)  # the next frame is read while this one is stored


async def on_agent_response(hub: Hub, conn: Conn, data: AgentResponseData) -> None:
    agent = _agent(conn, MessageType.AGENT_RESPONSE)
    if data.runId is not None:
        await hub.runs.check_answer_run(agent, data.runId)
        await hub.runs.flushed(data.runId)  # the run's text first, then the answer that replaces it
    await hub.service.post(
        agent, data.text, MessageType.AGENT_RESPONSE, room_id=data.roomId or GENERAL, thread_id=data.threadId,
        client_id=data.id, mentions=data.mentions, reply_to=data.replyTo, attachment_ids=data.attachments,
        agent_status=data.agentStatus.value if data.agentStatus else None, stream_id=data.streamId,
        extra={"runId": data.runId} if data.runId else None,
    )


async def on_agent_stream(hub: Hub, conn: Conn, data: AgentStreamData) -> None:
    agent = _agent(conn, MessageType.AGENT_STREAM)
    room_id = data.roomId or GENERAL
    hub.rooms.require_member(room_id, agent)
    await hub.service.check_reply_to(data.replyTo, room_id)
    hub.service.stream(agent, data.streamId, data.delta, data.replyTo, room_id, data.threadId)


async def on_status_update(hub: Hub, conn: Conn, data: StatusUpdateData) -> None:
    agent = _agent(conn, MessageType.STATUS_UPDATE)
    require_own_status(agent, data.userId)
    await hub.service.set_status(agent, data.status.value, data.currentTask, data.progress)


async def on_history(hub: Hub, conn: Conn, data: HistoryData) -> None:
    room_id = data.roomId or GENERAL
    hub.rooms.require_readable(room_id, _user(conn))
    rows, has_more = await hub.store.history(data.beforeId, data.limit, room_id, data.threadId)
    page: HistoryPage = {  # type: ignore[typeddict-item]
        "roomId": room_id, "threadId": data.threadId, "beforeId": data.beforeId,
        "messages": [message_envelope(r) for r in rows], "hasMore": has_more,
    }
    await hub.send(conn, server_frame(MessageType.HISTORY, page))


async def on_search(hub: Hub, conn: Conn, data: SearchData) -> None:
    user = _user(conn)
    if data.roomId is not None:
        hub.rooms.require_readable(data.roomId, user)
        rooms = {data.roomId}
    else:
        rooms = hub.rooms.readable_ids(user)
    rows = await hub.store.search(data.query, data.limit, rooms, sender=data.sender, has_file=data.hasFile)
    results: SearchResults = {  # type: ignore[misc]
        "query": data.query, "roomId": data.roomId, "sender": data.sender, "hasFile": data.hasFile,
        "messages": [message_envelope(r) for r in rows],
    }
    await hub.send(conn, server_frame(MessageType.SEARCH, results))


async def on_typing(hub: Hub, conn: Conn, data: TypingData) -> None:
    if _role(conn) is Role.VIEWER:
        return  # viewers' typing is not relayed
    room_id = data.roomId or GENERAL
    hub.rooms.require_member(room_id, _user(conn))
    if conn.core.typing_relay(data.typing, time.monotonic()):
        hub.service.typing(_user(conn), data.typing, room_id, data.threadId)


async def on_stop_agent(hub: Hub, conn: Conn, data: StopAgentData) -> None:
    require_poster(_role(conn), "stop agents")
    if not await hub.known_agent(data.agent):
        raise ProtocolError(ErrorCode.NOT_FOUND, f"No agent named {data.agent!r}")
    assert conn.user_id is not None
    hub.service.stop_agent(data.agent, conn.user_id)
    await hub.runs.agent_stopped(data.agent, conn.user_id)


async def on_agent_question(hub: Hub, conn: Conn, data: AgentQuestionData) -> None:
    agent = _agent(conn, MessageType.AGENT_QUESTION)
    await hub.service.ask(
        agent, data.to, data.text, list(data.choices), float(data.timeoutSeconds), data.replyTo,
        ref=data.ref or data.questionId, wait=False, room_id=data.roomId or GENERAL,
    )


async def on_question_answer(hub: Hub, conn: Conn, data: QuestionAnswerData) -> None:
    assert conn.user_id is not None
    hub.service.answer(data.questionId, conn.user_id, data.answer)


# --- rooms, threads, edits ------------------------------------------------------------------


async def on_room_create(hub: Hub, conn: Conn, data: RoomCreateData) -> None:
    await hub.room_service.create(_user(conn), _role(conn), data.name, data.kind, list(data.members))


async def on_room_join(hub: Hub, conn: Conn, data: RoomRef) -> None:
    await hub.room_service.join(_user(conn), data.roomId)


async def on_room_leave(hub: Hub, conn: Conn, data: RoomRef) -> None:
    await hub.room_service.leave(_user(conn), data.roomId)


async def on_room_invite(hub: Hub, conn: Conn, data: RoomInviteData) -> None:
    await hub.room_service.invite(_user(conn), _role(conn), data.roomId, data.userId)


async def on_room_agent_mode(hub: Hub, conn: Conn, data: RoomAgentModeData) -> None:
    await hub.room_service.set_agent_mode(_user(conn), _role(conn), data.roomId, data.agent, data.mode)


async def on_dm_open(hub: Hub, conn: Conn, data: DmOpenData) -> None:
    await hub.room_service.open_dm(_user(conn), _role(conn), data.userId)


async def on_room_read(hub: Hub, conn: Conn, data: RoomReadData) -> None:
    await hub.room_service.mark_read(_user(conn), data.roomId or GENERAL, data.lastReadId)


async def on_message_edit(hub: Hub, conn: Conn, data: MessageEditData) -> None:
    await hub.service.edit(_user(conn), _role(conn), data.id, data.text)


async def on_message_delete(hub: Hub, conn: Conn, data: MessageDeleteData) -> None:
    await hub.service.delete(_user(conn), _role(conn), data.id)


async def on_reaction(hub: Hub, conn: Conn, data: ReactionData) -> None:
    await hub.service.react(_user(conn), _role(conn), data.id, data.emoji, data.op == "add")
async def on_agent_event(hub: Hub, conn: Conn, data: AgentEventData) -> None:
    agent = _agent(conn, MessageType.AGENT_EVENT)
    await hub.runs.emit(agent, data.runId, data.event, reply_to=data.replyTo, room_id=data.roomId or GENERAL,
                        thread_id=data.threadId)


async def on_run_queued(hub: Hub, conn: Conn, data: RunQueuedData) -> None:
    agent = _agent(conn, MessageType.RUN_QUEUED)
    await hub.runs.queued(agent, data.runId, data.replyTo, data.position, data.roomId or GENERAL, data.threadId)


async def on_run_subscribe(hub: Hub, conn: Conn, data: RunSubscribeData) -> None:
    """The run's events after ``afterSeq``; live ones follow as for everyone (nothing in between)."""
    frames, _ = await hub.runs.replay(data.runId, data.afterSeq, conn.user_id)
    hub.write_now(conn, frames)


async def on_approval_request(hub: Hub, conn: Conn, data: ApprovalRequestData) -> None:
    agent = _agent(conn, MessageType.APPROVAL_REQUEST)
    await hub.runs.request_approval(
        agent, data.runId, data.toolCallId, data.tool, dict(data.args), data.reason,
        data.to.model_dump(exclude_defaults=False), float(data.expiresInSeconds),
    )


async def on_approval_decision(hub: Hub, conn: Conn, data: ApprovalDecisionData) -> None:
    assert conn.user_id is not None
    await hub.runs.decide(conn.user_id, _role(conn), data.approvalId, data.decision)


HANDLERS: dict[MessageType, Handler] = {
    MessageType.MESSAGE: on_message,
    MessageType.AGENT_RESPONSE: on_agent_response,
    MessageType.AGENT_STREAM: on_agent_stream,
    MessageType.STATUS_UPDATE: on_status_update,
    MessageType.HISTORY: on_history,
    MessageType.SEARCH: on_search,
    MessageType.TYPING: on_typing,
    MessageType.STOP_AGENT: on_stop_agent,
    MessageType.AGENT_QUESTION: on_agent_question,
    MessageType.QUESTION_ANSWER: on_question_answer,
    MessageType.ROOM_CREATE: on_room_create,
    MessageType.ROOM_JOIN: on_room_join,
    MessageType.ROOM_LEAVE: on_room_leave,
    MessageType.ROOM_INVITE: on_room_invite,
    MessageType.ROOM_AGENT_MODE: on_room_agent_mode,
    MessageType.DM_OPEN: on_dm_open,
    MessageType.ROOM_READ: on_room_read,
    MessageType.MESSAGE_EDIT: on_message_edit,
    MessageType.MESSAGE_DELETE: on_message_delete,
    MessageType.REACTION: on_reaction,
    MessageType.AGENT_EVENT: on_agent_event,
    MessageType.RUN_QUEUED: on_run_queued,
    MessageType.RUN_SUBSCRIBE: on_run_subscribe,
    MessageType.APPROVAL_REQUEST: on_approval_request,
    MessageType.APPROVAL_DECISION: on_approval_decision,
}
