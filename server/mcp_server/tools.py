"""The MCP tools AgentChat offers, as plain data and pure functions (no I/O, no SDK types).

What a caller may do is decided here: which tools a role sees (viewers get the read tools only),
how arguments are checked (pydantic models, the same bounds as the socket protocol's frames) and
how results are shaped for a model's context (compact JSON, empty fields left out).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from agentchat_client.protocol import GENERAL, MAX_SAFE_INT, MemberInfo, Role, RoomId
from agentchat_client.protocol.client_frames import Text
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..core.rooms import Room

__all__ = [
    "ARGUMENTS",
    "MAX_LIMIT",
    "POST_TOOLS",
    "READ_TOOLS",
    "ToolRefused",
    "ToolSpec",
    "check_arguments",
    "members_result",
    "message_item",
    "tools_for",
    "validation_text",
]

MAX_LIMIT = 100
"""Most messages one call returns: a page that still fits comfortably in a model's context."""
DEFAULT_LIMIT = 20


class ToolRefused(Exception):
    """A call that cannot be done as asked; the text goes back to the caller as a tool error."""


MessageId = Annotated[int, Field(ge=1, le=MAX_SAFE_INT)]
"""Not strict, unlike the socket's: a model that writes an id as "42" is understood."""
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]


class _Args(BaseModel):
    # Unknown arguments are refused: a model that misspells one learns it at once.
    model_config = ConfigDict(extra="forbid", frozen=True)


class SearchArgs(_Args):
    query: Annotated[Text, Field(min_length=1, max_length=200)] = Field(
        description="Words to find; a message matches when it contains every word.")
    roomId: RoomId | None = Field(None, description="Only this room; omitted: every room you can read.")
    limit: Limit = Field(DEFAULT_LIMIT, description=f"At most this many messages, newest first (1 to {MAX_LIMIT}).")


class ReadArgs(_Args):
    roomId: RoomId = Field(GENERAL, description="The room to read (default: general).")
    beforeId: MessageId | None = Field(
        None, description="Only messages older than this id (page back); omitted: the most recent.")
    threadId: MessageId | None = Field(None, description="Read the replies of this thread (its root message's id).")
    limit: Limit = Field(DEFAULT_LIMIT, description=f"At most this many messages, oldest first (1 to {MAX_LIMIT}).")


class PostArgs(_Args):
    text: Annotated[Text, Field(min_length=1)] = Field(
        description="The message (Markdown; @name mentions someone, and wakes a mentioned agent).")
    roomId: RoomId = Field(GENERAL, description="The room to post in (default: general); you must be a member.")
    replyTo: MessageId | None = Field(None, description="The id of a message of the same room this answers.")
    threadId: MessageId | None = Field(None, description="Post as a reply in this thread (its root message's id).")


class MembersArgs(_Args):
    roomId: RoomId = Field(GENERAL, description="The room (default: general, where everyone is).")


ARGUMENTS: dict[str, type[_Args]] = {
    "search_messages": SearchArgs,
    "read_messages": ReadArgs,
    "post_message": PostArgs,
    "list_members": MembersArgs,
}


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    title: str
    description: str
    read_only: bool

    @property
    def input_schema(self) -> dict[str, Any]:
        schema = ARGUMENTS[self.name].model_json_schema()
        schema.pop("title", None)
        for field in schema.get("properties", {}).values():
            field.pop("title", None)
        return schema


READ_TOOLS = (
    ToolSpec("search_messages", "Search messages",
             "Full-text search over the messages of the rooms you can read, newest first.", True),
    ToolSpec("read_messages", "Read messages",
             "The recent messages of a room (or a thread), oldest first; pass beforeId to page back.", True),
    ToolSpec("list_members", "List members",
             "Who is in a room: people and agents, with role and whether they are online.", True),
)
POST_TOOLS = (
    ToolSpec("post_message", "Post a message",
             "Post a message in a room as yourself; people and agents in the room see it live.", False),
)


def tools_for(role: Role) -> tuple[ToolSpec, ...]:
    """The tools this role may call: viewers read, everyone else reads and posts."""
    return READ_TOOLS if not role.can_post else READ_TOOLS + POST_TOOLS


def validation_text(error: ValidationError) -> str:
    """A pydantic error as one line a model can act on, e.g.
    ``limit: Input should be less than or equal to 100; colour: unknown argument``."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "arguments"
        message = "unknown argument" if item["type"] == "extra_forbidden" else item["msg"]
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def check_arguments(name: str, role: Role, arguments: dict[str, Any] | None) -> _Args:
    """The call's arguments, checked; :class:`ToolRefused` for an unknown or forbidden tool or bad input."""
    allowed = {spec.name for spec in tools_for(role)}
    if name not in ARGUMENTS:
        raise ToolRefused(f"There is no tool {name[:64]!r}; the tools are {', '.join(sorted(allowed))}.")
    if name not in allowed:
        raise ToolRefused(f"Viewers may read but not post: {name} is not available to a {role.value}.")
    try:
        return ARGUMENTS[name].model_validate(arguments or {})
    except ValidationError as exc:
        raise ToolRefused(f"Invalid arguments for {name}: {validation_text(exc)}") from None


def message_item(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """A stored message (as clients receive it) for a model: ``kind`` (``message`` from a person,
    ``agent_response`` from an agent) and the fields that say something, no empty ones."""
    data = envelope["data"]
    wanted = ("id", "roomId", "threadId", "sender", "text", "timestamp", "replyTo", "mentions", "replyCount",
              "lastReplyAt", "editedAt", "deleted", "reactions", "agentStatus", "runId")
    item = {"kind": envelope["type"]}
    item.update((key, data[key]) for key in wanted if data.get(key) not in (None, [], {}, False, 0, ""))
    if data.get("deleted"):
        item["text"] = ""
    if data.get("attachments"):
        item["attachments"] = [{"id": a.get("id"), "name": a.get("name")} for a in data["attachments"]]
    return item


def members_result(room: Room, people: Iterable[MemberInfo], agent_names: Iterable[str] = ()) -> dict[str, Any]:
    """A room's members as ``list_members`` answers: each with role, agent or not, online or not,
    and for agents the room's mode (when they answer there)."""
    agents = set(agent_names)
    members = []
    for info in people:
        entry: dict[str, Any] = {"userId": info["userId"], "role": info["role"], "isAgent": info["isAgent"],
                                 "online": info["status"] == "online"}
        if info["isAgent"] or info["userId"] in agents:
            entry["isAgent"] = True
            entry["agentMode"] = room.mode_of(info["userId"]).value
        members.append(entry)
    result: dict[str, Any] = {"roomId": room.room_id, "name": room.name, "kind": room.kind.value, "members": members}
    if room.is_general:
        result["note"] = "Everyone is in general; this lists agents, people online and the most recently seen."
    return result
