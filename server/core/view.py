"""What every server process keeps in memory about the chat, kept current from delivered events.

The newest page of ``general`` (so a newcomer's history — what the original protocol's clients
get — costs no database read and is encoded once until the next change), the newest id of the
message sequence, which recent messages exist, in which room and thread (a ``replyTo`` to a
recent message, or a reply to a recent thread root, is checked without the database), the
agents' statuses and the open questions.  Events arrive in id order; replays (after a fan-out repair) are recognised and ignored.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from agentchat_client.protocol import (
    GENERAL,
    StoredEnvelope,
    HistoryPage,
    MessageType,
    StatusUpdate,
    server_frame,
)

from .events import Event
from .questions import Question, QuestionBook

__all__ = ["ChatView"]

KNOWN_IDS_MAX = 4096
"""How many recent message ids are remembered for ``replyTo`` checks without the database."""


class ChatView:
    def __init__(self, page_size: int = 50) -> None:
        self.page_size = page_size
        self.last_id = 0
        self.recent: deque[StoredEnvelope] = deque(maxlen=max(page_size, 1))
        self.has_older = False
        self.statuses: dict[str, StatusUpdate] = {}
        self.questions = QuestionBook()
        self._known_ids: deque[int] = deque(maxlen=KNOWN_IDS_MAX)
        self._known_rooms: dict[int, tuple[str, int | None]] = {}
        self._page_frame: bytes | None = None

    # loading -----------------------------------------------------------------------------
    def load(self, newest_page: list[StoredEnvelope], has_older: bool, last_id: int) -> None:
        """Start from the database: the newest page (envelopes, oldest first) and the newest id."""
        self.recent.clear()
        if self.page_size:
            self.recent.extend(newest_page[-self.page_size:])
        self.has_older = has_older or len(newest_page) > self.page_size
        for envelope in newest_page:
            self._know(envelope["data"]["id"], envelope["data"].get("roomId", GENERAL), envelope["data"].get("threadId"))
        self.last_id = max(last_id, self.newest_id)
        self._page_frame = None

    def load_statuses(self, statuses: list[StatusUpdate]) -> None:
        self.statuses = {s["userId"]: s for s in statuses}

    # reading -----------------------------------------------------------------------------
    @property
    def newest_id(self) -> int:
        return int(self.recent[-1]["data"]["id"]) if self.recent else 0

    def room_of(self, message_id: int) -> str | None:
        """The room of a recent message; None means: not known here, ask the store."""
        place = self._known_rooms.get(message_id)
        return place[0] if place is not None else None

    def place_of(self, message_id: int) -> tuple[str, int | None] | None:
        """(room, thread root or None) of a recent message — neither ever changes; None: ask the store."""
        return self._known_rooms.get(message_id)

    def newest_page_frame(self) -> tuple[bytes, int]:
        """The ``history`` frame a newcomer gets, encoded once per change, and its newest id."""
        if self._page_frame is None:
            page: HistoryPage = {"roomId": GENERAL, "threadId": None, "beforeId": None,
                                 "messages": list(self.recent), "hasMore": self.has_older}
            self._page_frame = server_frame(MessageType.HISTORY, page)
        return self._page_frame, self.newest_id

    # applying events ---------------------------------------------------------------------
    def apply(self, event: Event) -> None:
        kind = event.kind
        if kind in (MessageType.MESSAGE, MessageType.AGENT_RESPONSE):
            self._remember(event)
        elif kind is MessageType.MESSAGE_UPDATED:
            self._updated(event)
        elif kind is MessageType.STATUS_UPDATE:
            data = event.data
            self.statuses[data["userId"]] = data  # type: ignore[assignment]
        elif kind is MessageType.AGENT_QUESTION:
            self.questions.opened(Question.from_event(event.data, event.frame))
        elif kind is MessageType.QUESTION_CLOSED:
            self.questions.closed(event.data["questionId"])

    def _remember(self, event: Event) -> None:
        message_id = event.message_id or event.data.get("id") or 0
        if message_id <= self.last_id:
            return  # a replay of something already known
        self.last_id = message_id
        data = event.data
        self._know(message_id, data.get("roomId", GENERAL), data.get("threadId"))
        if data.get("roomId", GENERAL) != GENERAL or data.get("threadId") is not None:
            return  # the cached page is general's timeline
        if self.page_size:
            if len(self.recent) == self.recent.maxlen:
                self.has_older = True
            self.recent.append({"type": event.kind.value, "data": event.data})  # type: ignore[arg-type, misc]
        else:
            self.has_older = True
        self._page_frame = None

    def _updated(self, event: Event) -> None:
        """An edit, delete, reaction or reply count: the cached page shows the new state."""
        event_id = event.message_id or 0
        if event_id <= self.last_id:
            return
        self.last_id = event_id
        data = event.data
        for index, envelope in enumerate(self.recent):
            current = envelope["data"]
            if current["id"] == data["id"]:
                changed = {**current, "text": data["text"], "editedAt": data["editedAt"], "deleted": data["deleted"],
                           "reactions": data["reactions"], "replyCount": data["replyCount"],
                           "lastReplyAt": data["lastReplyAt"]}
                if data["deleted"]:
                    changed["attachments"] = []
                self.recent[index] = {"type": envelope["type"], "data": changed}  # type: ignore[assignment, misc]
                self._page_frame = None
                return

    def _know(self, message_id: int, room_id: str, thread_id: int | None = None) -> None:
        if len(self._known_ids) == self._known_ids.maxlen:
            self._known_rooms.pop(self._known_ids[0], None)
        self._known_ids.append(message_id)
        self._known_rooms[message_id] = (room_id, thread_id)
