"""What each MCP tool does, through the hub's services: the same rules and the same path as the
socket's frames (rooms decide who may read, ``ChatService.post`` validates, rate-limits, stores
and then broadcasts, so a mention wakes agents as any message does)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentchat_client.protocol import MessageType, Role

from ..core.identity import Identity
from ..core.policy import require_poster
from ..core.roster import Member
from ..serialize import message_envelope
from ..store import Message
from .tools import MembersArgs, PostArgs, ReadArgs, SearchArgs, members_result, message_item

if TYPE_CHECKING:
    from ..hub import Hub

__all__ = ["ChatTools"]


def _item(row: Message) -> dict[str, Any]:
    return message_item(message_envelope(row))


class ChatTools:
    """The four tools for one caller at a time; every room check is the socket's own."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def search_messages(self, who: Identity, args: SearchArgs) -> dict[str, Any]:
        rooms = self.hub.rooms
        if args.roomId is not None:
            rooms.require_readable(args.roomId, who.user_id)
            readable = {args.roomId}
        else:
            readable = rooms.readable_ids(who.user_id)
        rows = await self.hub.store.search(args.query, args.limit, readable)
        return {"query": args.query, "messages": [_item(r) for r in rows]}

    async def read_messages(self, who: Identity, args: ReadArgs) -> dict[str, Any]:
        self.hub.rooms.require_readable(args.roomId, who.user_id)
        if args.threadId is not None:
            await self.hub.service.check_thread(args.threadId, args.roomId)
        rows, has_more = await self.hub.store.history(args.beforeId, args.limit, args.roomId, args.threadId)
        result: dict[str, Any] = {"roomId": args.roomId, "messages": [_item(r)
                                                                       for r in rows], "hasMore": has_more}
        if args.threadId is not None:
            result["threadId"] = args.threadId
        return result

    async def post_message(self, who: Identity, args: PostArgs) -> dict[str, Any]:
        require_poster(who.role)
        row = await self.hub.service.post(
            who.user_id, args.text, MessageType.MESSAGE, room_id=args.roomId, thread_id=args.threadId,
            reply_to=args.replyTo, rate_limited=who.role is not Role.AGENT,
        )
        return {"posted": _item(row)}

    async def list_members(self, who: Identity, args: MembersArgs) -> dict[str, Any]:
        hub = self.hub
        room = hub.rooms.require_readable(args.roomId, who.user_id)
        online = await hub.presence.online()
        hosted = [name for name, info in hub.agents.items() if info.in_process]
        if room.is_general:
            return members_result(room, hub.roster.snapshot(online, hosted), hub.agents)
        people = []
        for name in sorted(room.members):
            member = hub.roster.get(name)
            if member is None:
                is_agent = bool(await hub.lookup_user(name))
                member = Member(name, Role.AGENT.value if is_agent else Role.DEVELOPER.value, is_agent)
            people.append(member.to_wire(name in online or name in hosted))
        return members_result(room, people, hub.agents)
