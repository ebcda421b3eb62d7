"""Search in the header: what the person typed, as a ``search`` frame, and the answer as results.

Pure (no Reflex, no sockets).  ``parse_query`` splits the filters out of the words
(``from:bob in:design has:file login``); ``search_frame`` makes the frame's data (``None`` when
there is nothing to look for); ``to_result`` turns one found message into what the results list
shows: sender, time, room and a snippet with the matching words marked.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from agentchat_client.protocol import GENERAL

from .convert import short_time

__all__ = ["SearchBox", "SearchQuery", "SearchResult", "Snip", "parse_query", "search_frame", "to_result", "snippet",
           "SNIPPET_CHARS", "RESULT_LIMIT"]

SNIPPET_CHARS = 140
"""About this much text around the first match (whole words, with … where cut)."""
RESULT_LIMIT = 20
_FILTER = re.compile(r"(?<!\S)(from|in|has):(\S*)", re.IGNORECASE)
_WORD = re.compile(r"\w+")


@dataclasses.dataclass(frozen=True)
class SearchQuery:
    words: str = ""
    sender: str | None = None
    room: str | None = None
    """A room's id or name as typed after ``in:`` (resolved to an id by the caller)."""
    has_file: bool = False
    problem: str = ""
    """Why this cannot be searched as typed (an unknown ``has:`` value), shown instead of results."""

    @property
    def empty(self) -> bool:
        return not _WORD.search(self.words) and self.sender is None and not self.has_file and self.room is None


@dataclasses.dataclass
class Snip:
    """A run of snippet text; ``hit`` marks a matching word."""

    text: str = ""
    hit: bool = False


@dataclasses.dataclass
class SearchResult:
    key: str = ""
    id: int = 0
    sender: str = ""
    time: str = ""
    timestamp: str = ""
    room_id: str = GENERAL
    room: str = ""
    snips: list[Snip] = dataclasses.field(default_factory=list)
    has_file: bool = False


def parse_query(typed: str) -> SearchQuery:
    """``from:name``, ``in:room`` and ``has:file`` anywhere in the text; the rest are the words."""
    sender: str | None = None
    room: str | None = None
    has_file = False
    problem = ""
    for match in _FILTER.finditer(typed):
        kind, value = match.group(1).lower(), match.group(2).lstrip("@#")
        if kind == "from" and value:
            sender = value
        elif kind == "in" and value:
            room = value
        elif kind == "has":
            if value.lower() in ("file", "files", "attachment", "attachments"):
                has_file = True
            elif value:
                problem = f"Unknown filter has:{value} (try has:file)"
    words = " ".join(_FILTER.sub(" ", typed).split())
    return SearchQuery(words=words, sender=sender, room=room, has_file=has_file, problem=problem)


def search_frame(query: SearchQuery, room_id: str | None, limit: int = RESULT_LIMIT) -> dict[str, Any] | None:
    """The ``search`` frame's data, or ``None`` when there is nothing to look for yet."""
    if query.problem or query.empty:
        return None
    data: dict[str, Any] = {"query": query.words[:200], "limit": limit}
    if query.sender:
        data["sender"] = query.sender[:64]
    if query.has_file:
        data["hasFile"] = True
    if room_id:
        data["roomId"] = room_id
    if not _WORD.search(query.words) and "sender" not in data and "hasFile" not in data:
        # ``in:room`` alone: the server wants words or a filter; nothing is found without words.
        return None
    return data


def snippet(text: str, words: list[str], width: int = SNIPPET_CHARS) -> list[Snip]:
    """About ``width`` characters around the first matching word, matches marked (case-insensitive,
    whole words and their beginnings: "deploy" marks "deployment")."""
    flat = " ".join(text.split())
    wanted = [w.lower() for w in words if w]
    spans = [(m.start(), m.end()) for m in _WORD.finditer(flat)
             if any(m.group(0).lower().startswith(w) for w in wanted)]
    start = 0
    if spans and spans[0][0] > width // 3:
        start = flat.rfind(" ", 0, spans[0][0] - width // 3) + 1
    end = min(len(flat), start + width)
    if end < len(flat):
        space = flat.rfind(" ", start, end)
        end = space if space > start else end
    snips: list[Snip] = []
    if start > 0:
        snips.append(Snip("…"))
    cursor = start
    for left, right in spans:
        if right <= start or left >= end:
            continue
        left, right = max(left, start), min(right, end)
        if left > cursor:
            snips.append(Snip(flat[cursor:left]))
        snips.append(Snip(flat[left:right], hit=True))
        cursor = right
    if cursor < end:
        snips.append(Snip(flat[cursor:end]))
    if end < len(flat):
        snips.append(Snip("…"))
    return snips


def to_result(envelope: dict[str, Any], words: str, room_names: dict[str, str]) -> SearchResult | None:
    """One found message (``{"type": ..., "data": ...}``) as a result row; ``None`` if malformed."""
    data = envelope.get("data") if isinstance(envelope, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("id"), int):
        return None
    room_id = data.get("roomId") if isinstance(data.get("roomId"), str) else GENERAL
    text = str(data.get("text") or "")
    attachments = data.get("attachments") if isinstance(data.get("attachments"), list) else []
    if not text and attachments:
        text = ", ".join(str(a.get("name") or "file") for a in attachments if isinstance(a, dict))
    return SearchResult(
        key=f"r{data['id']}",
        id=data["id"],
        sender=str(data.get("sender") or ""),
        time=short_time(data.get("timestamp")),
        timestamp=str(data.get("timestamp") or ""),
        room_id=room_id,
        room=room_names.get(room_id, room_id),
        snips=snippet(text, _WORD.findall(words)),
        has_file=bool(attachments),
    )


class SearchBox:
    """The search of one session: the newest question asked and its answer.

    Answers come back in order, but the person types faster than the server answers: an answer
    is kept only if it is for the newest question (the server repeats the query and filters).
    ``rooms`` (id -> name) resolves ``in:`` and names each result's room; whoever knows the rooms
    keeps it current.
    """

    def __init__(self) -> None:
        self.rooms: dict[str, str] = {GENERAL: "general"}
        self.asked: dict[str, Any] | None = None
        self.words = ""
        self.results: list[SearchResult] = []
        self.status = ""
        """"Searching…", "No messages found", a problem with the query, or "" (results or idle)."""

    def ask(self, typed: str) -> dict[str, Any] | None:
        """The frame to send for what is typed now (``None``: nothing to send; ``status`` says why)."""
        query = parse_query(typed)
        room_id = None
        if query.room is not None:
            room_id = self._room_id(query.room)
            if room_id is None:
                return self._settle(f"No room called {query.room}")
        if query.problem:
            return self._settle(query.problem)
        data = search_frame(query, room_id)
        if data is None:
            return self._settle("" if query.empty else "Type a word to find (or from:name, has:file)")
        self.asked, self.words, self.status = data, query.words, "Searching…"
        return data

    def clear(self) -> None:
        self._settle("")

    def on_results(self, data: dict[str, Any]) -> bool:
        """An answer from the server; False if it is for an older question (dropped)."""
        asked = self.asked
        if asked is None or any(data.get(k, d) != asked.get(k, d) for k, d in
                                (("query", ""), ("roomId", None), ("sender", None), ("hasFile", False))):
            return False
        found = [to_result(item, self.words, self.rooms) for item in data.get("messages") or []]
        self.results = [r for r in found if r is not None]
        self.status = "" if self.results else "No messages found"
        return True

    def _room_id(self, typed: str) -> str | None:
        wanted = typed.lower()
        for room_id, name in self.rooms.items():
            if room_id.lower() == wanted or name.lower() == wanted:
                return room_id
        return None

    def _settle(self, status: str) -> None:
        self.asked, self.words, self.results, self.status = None, "", [], status
        return None
