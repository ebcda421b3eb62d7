"""The open room's header: its name, its members and agents, inviting, agent modes, leaving."""

from __future__ import annotations

import reflex as rx

from ..chat.models import AgentModeView, Member
from ..state.chat import ChatState
from .common import avatar

__all__ = ["room_header"]

MODES = ["mention", "all", "off"]


def _member(member: Member) -> rx.Component:
    return rx.hstack(
        avatar(member.user_id, member.is_agent, size="1"),
        rx.text(member.user_id, size="2"),
        rx.cond(member.is_agent, rx.badge("agent", size="1", variant="soft", color_scheme="violet")),
        rx.cond(member.online, rx.badge("online", size="1", variant="soft", color_scheme="green")),
        spacing="2",
        align="center",
        class_name="room-member",
        custom_attrs={"data-room-member": member.user_id},
    )


def _agent_mode(item: AgentModeView) -> rx.Component:
    return rx.hstack(
        rx.text(item.agent, size="2", flex_grow="1"),
        rx.select.root(
            rx.select.trigger(aria_label=f"When {item.agent} answers in this room"),
            rx.select.content(*[rx.select.item(mode, value=mode) for mode in MODES]),
            value=item.mode,
            size="1",
            disabled=~ChatState.can_post,
            on_change=lambda mode: ChatState.set_agent_mode(item.agent, mode),
        ),
        align="center",
        width="100%",
        class_name="agent-mode",
    )


def _invite() -> rx.Component:
    return rx.cond(
        ChatState.can_post & (ChatState.room.room_id != "general") & (ChatState.room.kind != "dm"),
        rx.vstack(
            rx.heading("Invite", size="2", as_="h3"),
            rx.vstack(
                rx.foreach(
                    ChatState.invite_candidates,
                    lambda name: rx.button(rx.icon("user-plus", size=14, aria_hidden="true"), name, size="1",
                                           variant="ghost", on_click=ChatState.invite(name),
                                           aria_label=f"Invite {name}"),
                ),
                spacing="1",
                max_height="25vh",
                overflow_y="auto",
                width="100%",
            ),
            spacing="1",
            width="100%",
        ),
    )


def _members_popover() -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(
            rx.button(
                rx.icon("users", size=14, aria_hidden="true"),
                rx.cond(ChatState.room.room_id == "general", "Everyone", f"{ChatState.room.member_count} members"),
                size="1",
                variant="soft",
                color_scheme="gray",
                aria_label="Members and agents of this room",
                id="room-members-button",
            ),
        ),
        rx.popover.content(
            rx.vstack(
                rx.heading("Members", size="2", as_="h3"),
                rx.vstack(rx.foreach(ChatState.room_members, _member), spacing="1", max_height="40vh",
                          overflow_y="auto", width="100%"),
                _invite(),
                rx.cond(
                    ChatState.room_agents.length() > 0,
                    rx.vstack(
                        rx.heading("Agents answer", size="2", as_="h3"),
                        rx.foreach(ChatState.room_agents, _agent_mode),
                        spacing="1",
                        width="100%",
                    ),
                ),
                rx.cond(
                    (ChatState.room.room_id != "general") & (ChatState.room.kind != "dm"),
                    rx.button("Leave room", size="1", variant="soft", color_scheme="red",
                              on_click=ChatState.leave_room),
                ),
                spacing="3",
                width="280px",
            ),
            size="1",
            aria_label="Room members",
        ),
    )


def room_header() -> rx.Component:
    return rx.hstack(
        rx.icon(rx.match(ChatState.room.kind, ("private", "lock"), ("dm", "at-sign"), "hash"), size=18,
                aria_hidden="true"),
        rx.heading(ChatState.room.label, size="4", as_="h2", id="room-title", trim="both"),
        rx.cond(ChatState.room.kind == "private", rx.badge("private", size="1", variant="soft")),
        rx.spacer(),
        rx.cond(ChatState.room.is_member, _members_popover(),
                rx.button("Join", size="1", on_click=ChatState.join_room(ChatState.room.room_id),
                          aria_label=f"Join {ChatState.room.label}")),
        align="center",
        spacing="2",
        width="100%",
        padding_x="16px",
        padding_y="8px",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        class_name="room-header",
    )
