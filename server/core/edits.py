"""Changing a message after it was sent: edit, delete, react, and a thread's reply count.

Who may do what (``check_*``: people edit and delete their own messages, agents theirs, admins
delete any, viewers do neither), and what a change does to a message's state (``apply``).  Every
applied change becomes a ``message_updated`` event carrying the message's whole new state and an
``eventId`` from the same sequence as message ids, so replaying events after any id rebuilds
exactly the state a connected client has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from agentchat_client.protocol import ErrorCode, ProtocolError, Role

__all__ = ["MessageState", "Change", "check_edit", "check_delete", "check_reaction", "apply", "MAX_REACTIONS"]

MAX_REACTIONS = 50
"""Different emoji on one message at most (each with any number of people)."""

ChangeKind = Literal["edit", "delete", "react", "unreact", "reply"]


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    by: str
    at: datetime
    text: str = ""
    emoji: str = ""


@dataclass(slots=True)
class MessageState:
    """What of a message can change after it is sent."""

    id: int
    room_id: str
    sender: str
    text: str
    thread_id: int | None = None
    edited_at: datetime | None = None
    deleted: bool = False
    reactions: dict[str, list[str]] = field(default_factory=dict)
    reply_count: int = 0
    last_reply_at: datetime | None = None
    attachments: list[dict[str, object]] = field(default_factory=list)


def _not_viewer(role: Role, what: str) -> None:
    if role is Role.VIEWER:
        raise ProtocolError(ErrorCode.FORBIDDEN, f"Viewers may not {what}")


def _not_deleted(target: MessageState) -> None:
    if target.deleted:
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"Message {target.id} was deleted")


def check_edit(user_id: str, role: Role, target: MessageState) -> None:
    _not_viewer(role, "edit messages")
    _not_deleted(target)
    if target.sender != user_id:
        raise ProtocolError(ErrorCode.FORBIDDEN, "You can only edit your own messages")


def check_delete(user_id: str, role: Role, target: MessageState) -> None:
    _not_viewer(role, "delete messages")
    _not_deleted(target)
    if target.sender != user_id and role is not Role.ADMIN:
        raise ProtocolError(ErrorCode.FORBIDDEN, "You can only delete your own messages (admins may delete any)")


def check_reaction(role: Role, target: MessageState) -> None:
    _not_viewer(role, "react")
    _not_deleted(target)


def apply(state: MessageState, change: Change) -> bool:
    """Apply ``change`` to ``state`` in place; False when it changes nothing (then no event).

    Runs again on the stored row inside the write, so a change that raced with a delete is
    dropped rather than resurrecting the message."""
    if change.kind == "reply":
        state.reply_count += 1
        state.last_reply_at = change.at
        return True
    if state.deleted:
        return False
    if change.kind == "edit":
        if change.text == state.text:
            return False
        state.text, state.edited_at = change.text, change.at
        return True
    if change.kind == "delete":
        state.deleted, state.text, state.reactions, state.attachments = True, "", {}, []
        state.edited_at = change.at
        return True
    people = state.reactions.get(change.emoji, [])
    if change.kind == "react":
        if change.by in people or (change.emoji not in state.reactions and len(state.reactions) >= MAX_REACTIONS):
            return False
        state.reactions = {**state.reactions, change.emoji: [*people, change.by]}
        return True
    if change.by not in people:
        return False
    rest = [p for p in people if p != change.by]
    reactions = dict(state.reactions)
    if rest:
        reactions[change.emoji] = rest
    else:
        del reactions[change.emoji]
    state.reactions = reactions
    return True
