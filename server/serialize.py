"""Stored rows -> protocol envelopes, the same shape live and in history or recovery."""

from __future__ import annotations

from typing import Any

import orjson

from agentchat_client.protocol import MessageType, MessageUpdated, StatusUpdate, StoredEnvelope, iso, server_envelope, server_frame

from .core.events import Event
from .store import AgentStatus, Attachment, Message, MessageStore

__all__ = ["message_envelope", "message_event", "StoredEvents", "row_envelope", "update_data", "attachment_meta", "status_data", "encode_client_id"]


def encode_client_id(client_id: int | str | None) -> str | None:
    return None if client_id is None else orjson.dumps(client_id).decode()


def _decode_client_id(raw: str | None) -> int | str | None:
    if raw is None:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw


def attachment_meta(attachment: Attachment) -> dict[str, Any]:
    return {"id": attachment.id, "name": attachment.name, "size": attachment.size, "type": attachment.content_type}


def message_envelope(row: Message) -> StoredEnvelope:
    """A stored message as every client receives it: live, in history, search and recovery."""
    data: dict[str, Any] = {
        "id": row.id,
        "roomId": row.room_id,
        "threadId": row.thread_id,
        "text": row.text,
        "sender": row.sender,
        "timestamp": iso(row.created_at),
        "mentions": row.mentions,
        "replyTo": row.reply_to,
        "attachments": row.attachments,
        "clientId": _decode_client_id(row.client_id),
        "replyCount": row.reply_count,
        "lastReplyAt": iso(row.last_reply_at),
        "editedAt": iso(row.edited_at),
        "deleted": row.deleted,
        "reactions": row.reactions,
    }
    if row.kind == MessageType.AGENT_RESPONSE:
        data["agentStatus"] = row.agent_status
        data["streamId"] = row.stream_id
        kind = MessageType.AGENT_RESPONSE
    else:
        data["isCommand"] = row.is_command
        kind = MessageType.MESSAGE
    if row.extra:
        data.update(row.extra)
    return server_envelope(kind, data)  # type: ignore[call-overload, return-value]


def update_data(row: Message) -> MessageUpdated:
    """An update row as the ``message_updated`` it was broadcast as (the same, replayed)."""
    assert row.target_id is not None and row.id is not None
    return {
        "id": row.target_id,
        "eventId": row.id,
        "roomId": row.room_id,
        "threadId": row.thread_id,
        "text": row.text,
        "editedAt": iso(row.edited_at),
        "deleted": row.deleted,
        "reactions": row.reactions,
        "replyCount": row.reply_count,
        "lastReplyAt": iso(row.last_reply_at),
        "by": row.sender,
        "timestamp": iso(row.created_at),
    }


def row_envelope(row: Message) -> dict[str, Any]:
    """Any stored row in its envelope: a message, or the ``message_updated`` of an update row."""
    if row.is_update:
        return server_envelope(MessageType.MESSAGE_UPDATED, update_data(row))
    return dict(message_envelope(row))


def message_event(row: Message) -> Event:
    """The event published for a committed row (and rebuilt from the database on repair)."""
    envelope = row_envelope(row)
    kind = MessageType(envelope["type"])
    return Event(kind, server_frame(kind, envelope["data"]), message_id=row.id, room=row.room_id,  # type: ignore[call-overload]
                 _data=envelope["data"])


def status_data(row: AgentStatus) -> StatusUpdate:
    progress = row.progress
    if progress is not None and float(progress).is_integer():
        progress = int(progress)
    return {
        "userId": row.agent,
        "status": row.status,
        "currentTask": row.current_task,
        "progress": progress,
        "timestamp": iso(row.updated_at),
    }


class StoredEvents:
    """Committed rows as the events they were published as: what the Redis fan-out repairs gaps
    with (it sits beside the store, not above it, so it is handed this instead)."""

    def __init__(self, store: MessageStore) -> None:
        self.store = store

    async def events(self, ids: list[int]) -> list[Event]:
        return [message_event(row) for row in await self.store.get_messages(ids)]

    async def latest_id(self) -> int:
        return await self.store.latest_id()
