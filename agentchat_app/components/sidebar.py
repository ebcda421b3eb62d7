"""The "Users & Agents" panel: presence for everyone, live status and progress for agents."""

from __future__ import annotations

import reflex as rx

from ..chat.models import Member
from ..state.chat import ChatState
from .common import avatar, role_badge

__all__ = ["sidebar"]


def _presence_dot(member: Member) -> rx.Component:
    return rx.box(
        width="10px", height="10px", border_radius="50%", flex_shrink="0",
        background=rx.cond(member.online, rx.color("green", 9), rx.color("gray", 7)),
        aria_hidden="true",
    )


def _agent_status(member: Member) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge(
                rx.cond(member.status != "", member.status, "idle"),
                size="1",
                variant="soft",
                color_scheme=rx.match(member.status, ("working", "blue"), ("stuck", "orange"),
                                      ("completed", "green"), "gray"),
                class_name="agent-status",
            ),
            rx.cond(
                member.current_task != "",
                rx.text(member.current_task, size="1", color_scheme="gray", class_name="agent-task", trim="both"),
            ),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            member.has_progress,
            rx.hstack(
                rx.progress(
                    value=member.progress,
                    max=100,
                    size="1",
                    aria_label=f"{member.user_id} progress",
                    flex_grow="1",
                ),
                rx.text(f"{member.progress}%", size="1", color_scheme="gray", min_width="34px"),
                rx.cond(
                    (member.status == "working") & ChatState.can_post,
                    rx.button(
                        "Stop",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=ChatState.stop_agent(member.user_id),
                        aria_label=f"Stop {member.user_id}",
                    ),
                ),
                width="100%",
                align="center",
                spacing="2",
            ),
        ),
        width="100%",
        spacing="1",
        padding_left="34px",
    )


def _member_row(member: Member) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.box(
                avatar(member.user_id, member.is_agent, size="1"),
                _presence_dot(member),
                position="relative",
                display="flex",
                align_items="end",
                gap="0",
            ),
            rx.vstack(
                rx.hstack(
                    rx.text(member.user_id, weight="medium", size="2", class_name="member-name"),
                    rx.cond(member.is_me, rx.text("(you)", size="1", color_scheme="gray")),
                    # Developer is the usual role: only agents, admins and viewers get a badge.
                    rx.cond(member.is_agent, role_badge(rx.Var.create("agent")), rx.cond(
                        (member.role == "admin") | (member.role == "viewer"), role_badge(member.role))),
                    spacing="2",
                    align="center",
                ),
                rx.text(
                    rx.cond(member.online, "online", rx.cond(member.last_seen != "", member.last_seen, "offline")),
                    size="1",
                    color_scheme="gray",
                    class_name="member-presence",
                ),
                spacing="0",
            ),
            spacing="2",
            align="center",
            width="100%",
        ),
        rx.cond(member.is_agent, _agent_status(member)),
        spacing="1",
        width="100%",
        padding="8px",
        border_radius="8px",
        _hover={"background": rx.color("gray", 3)},
        custom_attrs={"data-member": member.user_id},
        class_name="member",
        role="listitem",
    )


def sidebar() -> rx.Component:
    return rx.el.aside(rx.vstack(
        rx.hstack(
            rx.heading("Users & Agents", size="3", as_="h2"),
            rx.badge(f"{ChatState.online_count} online", size="1", variant="surface", color_scheme="green"),
            justify="between",
            align="center",
            width="100%",
            padding_x="8px",
        ),
        rx.scroll_area(
            rx.vstack(rx.foreach(ChatState.members, _member_row), spacing="1", width="100%", role="list"),
            type="auto",
            scrollbars="vertical",
            flex_grow="1",
        ),
        width="100%",
        height="100%",
        padding="12px",
        spacing="3",
    ), aria_label="Users & Agents", style={"height": "100%"})
