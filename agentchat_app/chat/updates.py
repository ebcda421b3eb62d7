"""A message's changing state: room, thread, reply count, edits, deletion, reactions (pure).

A ``message`` payload carries this state when it arrives; ``message_updated`` carries the new
state later (an edit, a delete, a reaction, a thread reply).  Both go through here, so a
message shown from history, live or after recovery looks the same.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .convert import segments
from .models import ChatMessage, ReactionView

__all__ = ["GENERAL", "room_of", "thread_of", "with_state", "apply_update", "reaction_views"]

GENERAL = "general"
"""The room everyone is in; a frame without ``roomId`` belongs to it."""


def room_of(data: dict[str, Any]) -> str:
    room = data.get("roomId")
    return room if isinstance(room, str) and room else GENERAL


def thread_of(data: dict[str, Any]) -> int:
    thread = data.get("threadId")
    return thread if isinstance(thread, int) and not isinstance(thread, bool) else 0


def reaction_views(reactions: Any, me: str) -> list[ReactionView]:
    """Emoji -> people, as chips in the order the server keeps them."""
    if not isinstance(reactions, dict):
        return []
    views: list[ReactionView] = []
    for emoji, people in reactions.items():
        names = [p for p in people or [] if isinstance(p, str)] if isinstance(people, list) else []
        if isinstance(emoji, str) and names:
            views.append(ReactionView(emoji=emoji, count=len(names), who=", ".join(names), mine=me in names))
    return views


def with_state(message: ChatMessage, data: dict[str, Any], me: str) -> ChatMessage:
    """``message`` with the room/thread/edit/reaction state of its payload."""
    count = data.get("replyCount")
    deleted = bool(data.get("deleted"))
    if deleted:  # a tombstone: nothing of what was said stays
        message = dataclasses.replace(message, text="", segments=[], attachments=[])
    return dataclasses.replace(
        message,
        room_id=room_of(data),
        thread_id=thread_of(data),
        reply_count=count if isinstance(count, int) and count > 0 else 0,
        edited=bool(data.get("editedAt")) and not deleted,
        deleted=deleted,
        reactions=[] if deleted else reaction_views(data.get("reactions"), me),
    )


def apply_update(message: ChatMessage, data: dict[str, Any], me: str) -> ChatMessage:
    """A ``message_updated`` payload applied to a shown message (it holds the full new state)."""
    text = data.get("text")
    changed = message
    if isinstance(text, str) and text != message.text:
        changed = dataclasses.replace(message, text=text, segments=segments(text, me))
    return with_state(changed, {**data, "roomId": data.get("roomId") or message.room_id,
                                "threadId": data.get("threadId", message.thread_id or None)}, me)
