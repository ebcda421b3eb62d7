"""What the UI shows, as plain dataclasses the Reflex state can hold and serialise.

Frames from the companion server are converted once, on arrival, into these view models:
the browser receives display-ready values (formatted time, mention segments, sizes), so
the components stay declarative and nothing a user typed is ever interpreted as HTML.
"""

from __future__ import annotations

import dataclasses

__all__ = ["Segment", "AttachmentView", "ReactionView", "ChatMessage", "Member", "Question", "PendingFile", "RoomView",
           "AgentModeView"]


@dataclasses.dataclass
class Segment:
    """A run of message text; ``kind`` is ``text``, ``mention`` or ``mention_me``."""

    text: str = ""
    kind: str = "text"


@dataclasses.dataclass
class AttachmentView:
    id: str = ""
    name: str = ""
    size: int = 0
    size_label: str = ""
    type: str = ""


@dataclasses.dataclass
class ReactionView:
    """One emoji under a message: how many reacted, who (for the chip's title), and whether I did."""

    emoji: str = ""
    count: int = 0
    who: str = ""
    mine: bool = False


@dataclasses.dataclass
class ChatMessage:
    """One entry of the message log.

    ``key`` is unique in the window: ``m<id>`` for stored messages, ``s<streamId>`` for an
    answer still streaming (it becomes ``m<id>`` when the final ``agent_response`` lands).
    """

    key: str = ""
    id: int = 0
    sender: str = ""
    text: str = ""
    time: str = ""
    timestamp: str = ""
    is_agent: bool = False
    is_mine: bool = False
    mentions_me: bool = False
    segments: list[Segment] = dataclasses.field(default_factory=list)
    reply_to: int = 0
    reply_sender: str = ""
    reply_excerpt: str = ""
    attachments: list[AttachmentView] = dataclasses.field(default_factory=list)
    streaming: bool = False
    stream_id: str = ""
    agent_status: str = ""
    run_id: str = ""
    """The run this agent answer ends: its steps and tool calls show under it."""
    room_id: str = "general"
    thread_id: int = 0
    """The root this reply belongs to (0: part of the room's timeline)."""
    reply_count: int = 0
    edited: bool = False
    deleted: bool = False
    reactions: list[ReactionView] = dataclasses.field(default_factory=list)
    send_state: str = ""
    """Mine and not confirmed yet (``chat/outbox.py``): ``queued``, ``sending`` or ``failed``."""
    send_status: str = ""
    """What to show about it: "Sending…", "Waiting for connection…" or why it failed."""
    client_id: int = 0
    usage_label: str = ""
    """What the answer's model calls used and cost ("1,234 tokens · $0.0021 · gpt-x"), or ""."""


@dataclasses.dataclass
class Member:
    """A person or agent in the sidebar, with presence and (for agents) live status."""

    user_id: str = ""
    role: str = ""
    is_agent: bool = False
    online: bool = False
    last_seen: str = ""
    status: str = ""
    current_task: str = ""
    progress: int = 0
    has_progress: bool = False
    is_me: bool = False


@dataclasses.dataclass
class Question:
    """An agent's question with its choices; ``state`` is ``open``, ``answered``, ``timeout`` or ``cancelled``."""

    question_id: str = ""
    agent: str = ""
    to_user: str = ""
    text: str = ""
    choices: list[str] = dataclasses.field(default_factory=list)
    state: str = "open"
    answer: str = ""
    answered_by: str = ""
    for_me: bool = False
    time: str = ""


@dataclasses.dataclass
class PendingFile:
    """A file uploaded for the next message (a chip above the composer)."""

    id: str = ""
    name: str = ""
    size_label: str = ""


@dataclasses.dataclass
class RoomView:
    """A room in the left column: ``label`` is what to show (a DM shows the other person)."""

    room_id: str = ""
    name: str = ""
    label: str = ""
    kind: str = "public"
    unread: int = 0
    mentions: int = 0
    is_member: bool = False
    members: list[str] = dataclasses.field(default_factory=list)
    member_count: int = 0
    active: bool = False


@dataclasses.dataclass
class AgentModeView:
    """An agent in the current room and its mode there (``mention``, ``all`` or ``off``)."""

    agent: str = ""
    mode: str = "mention"
