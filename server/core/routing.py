"""Who receives an event: one predicate, the single statement of the routing rules.

``accepts_event`` is the specification (after Zulip's ``accepts_event``); the hub's indexes (live
connections, connections by user) are how it is computed fast, and ``tests/core/test_routing.py``
checks that the two always agree.
"""

from __future__ import annotations

from typing import Protocol

from agentchat_client.protocol import GENERAL, MessageType

from .connection import ConnState
from .events import Event
from .rooms import RoomDirectory

__all__ = ["accepts_event", "PUBLIC_EVENTS", "Receiver"]

PUBLIC_EVENTS = frozenset(
    {
        MessageType.MESSAGE,
        MessageType.AGENT_RESPONSE,
        MessageType.AGENT_STREAM,
        MessageType.STATUS_UPDATE,
        MessageType.USER_PRESENCE,
        MessageType.TYPING,
        MessageType.AGENT_QUESTION,
        MessageType.QUESTION_CLOSED,
        MessageType.MESSAGE_UPDATED,
        MessageType.ROOM,
        MessageType.AGENT_EVENT,
        MessageType.RUN_QUEUED,
        MessageType.APPROVAL_REQUEST,
        MessageType.APPROVAL_RESOLVED,
    }
)
"""Kinds every connected person sees; other kinds reach only the user the event targets."""


class Receiver(Protocol):
    @property
    def state(self) -> ConnState: ...

    @property
    def user_id(self) -> str | None: ...


def accepts_event(receiver: Receiver, event: Event, rooms: RoomDirectory) -> bool:
    """Whether ``receiver`` (a connection) gets ``event`` now or, while it catches up, once it is live.

    A room's events reach its members only (everyone is in ``general``); an unknown room's reach
    nobody."""
    if receiver.state not in (ConnState.CATCHING_UP, ConnState.LIVE):
        return False
    user = receiver.user_id
    if event.target_user is not None:
        return user == event.target_user
    if event.exclude_user is not None and user == event.exclude_user:
        return False
    if event.kind not in PUBLIC_EVENTS:
        return False
    if event.room is None or event.room == GENERAL:
        return True
    room = rooms.get(event.room)
    return room is not None and user is not None and room.has_member(user)
