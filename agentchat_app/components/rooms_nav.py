"""The left column: channels and direct messages with unread and mention badges; creating and
browsing channels; starting a direct message with a person or an agent."""

from __future__ import annotations

import reflex as rx

from ..chat.models import Member, RoomView
from ..state.chat import ChatState

__all__ = ["rooms_nav", "rooms_dialogs"]


def _badges(room: RoomView) -> rx.Component:
    return rx.hstack(
        rx.cond(room.mentions > 0, rx.badge(f"@{room.mentions}", color_scheme="red", variant="solid", size="1",
                                            class_name="room-mentions", aria_label=f"{room.mentions} mentions")),
        rx.cond(room.unread > 0, rx.badge(room.unread, color_scheme="gray", variant="solid", size="1",
                                          class_name="room-unread", aria_label=f"{room.unread} unread")),
        spacing="1",
    )


def _room_link(room: RoomView) -> rx.Component:
    return rx.button(
        rx.icon(rx.match(room.kind, ("private", "lock"), ("dm", "at-sign"), "hash"), size=14, aria_hidden="true"),
        rx.text(room.label, as_="span", class_name="room-name", flex_grow="1", text_align="left",
                weight=rx.cond(room.unread > 0, "bold", "regular"), overflow="hidden", text_overflow="ellipsis",
                white_space="nowrap"),
        _badges(room),
        variant=rx.cond(room.active, "soft", "ghost"),
        color_scheme=rx.cond(room.active, "violet", "gray"),
        size="2",
        width="100%",
        justify="start",
        on_click=ChatState.open_room(room.room_id),
        class_name="room-link",
        aria_current=rx.cond(room.active, "page", "false"),
        custom_attrs={"data-room": room.room_id, "data-room-name": room.label},
    )


def _section(title: str, rooms: rx.Var[list[RoomView]], *buttons: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(title, size="2", as_="h2", color_scheme="gray"),
            rx.hstack(*buttons, spacing="1"),
            justify="between",
            align="center",
            width="100%",
            padding_x="8px",
        ),
        rx.vstack(rx.foreach(rooms, _room_link), spacing="1", width="100%", role="list"),
        spacing="1",
        width="100%",
    )


def _create_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Create a channel"),
            rx.form(
                rx.vstack(
                    rx.el.label("Name", html_for="channel-name"),
                    rx.input(id="channel-name", name="name", placeholder="e.g. design-review", max_length=80,
                             required=True, width="100%"),
                    rx.el.label(rx.hstack(rx.el.input(type="checkbox", name="private", id="channel-private"),
                                          rx.text("Private: only people you invite can see it", size="2"),
                                          spacing="2", align="center")),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray")),
                        rx.button("Create", type="submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=ChatState.create_room,
                reset_on_submit=True,
            ),
            max_width="440px",
        ),
        open=ChatState.show_create,
        on_open_change=ChatState.set_show_create,
    )


def _public_row(room: RoomView) -> rx.Component:
    return rx.hstack(
        rx.icon("hash", size=14, aria_hidden="true"),
        rx.text(room.name, flex_grow="1"),
        rx.text(f"{room.member_count} members", size="1", color_scheme="gray"),
        rx.cond(
            room.is_member,
            rx.button("Open", size="1", variant="soft", on_click=ChatState.open_room(room.room_id),
                      aria_label=f"Open {room.name}"),
            rx.button("Join", size="1", on_click=ChatState.join_room(room.room_id), aria_label=f"Join {room.name}"),
        ),
        align="center",
        width="100%",
        spacing="2",
        class_name="public-room",
    )


def _browse_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Browse channels"),
            rx.vstack(rx.foreach(ChatState.public_rooms, _public_row), spacing="2", width="100%",
                      max_height="60vh", overflow_y="auto"),
            rx.hstack(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")), justify="end",
                      margin_top="12px"),
            max_width="480px",
        ),
        open=ChatState.show_browse,
        on_open_change=ChatState.set_show_browse,
    )


def _dm_row(member: Member) -> rx.Component:
    return rx.button(
        rx.icon(rx.cond(member.is_agent, "bot", "user"), size=14, aria_hidden="true"),
        member.user_id,
        rx.cond(member.is_agent, rx.badge("agent", size="1", variant="soft", color_scheme="violet")),
        variant="ghost",
        width="100%",
        justify="start",
        on_click=ChatState.open_dm(member.user_id),
        aria_label=f"Message {member.user_id}",
    )


def _dm_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Direct message"),
            rx.dialog.description("Pick a person or an agent.", size="2"),
            rx.vstack(rx.foreach(ChatState.dm_people, _dm_row), spacing="1", width="100%", max_height="60vh",
                      overflow_y="auto", margin_top="8px"),
            rx.hstack(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")), justify="end",
                      margin_top="12px"),
            max_width="420px",
        ),
        open=ChatState.show_dm,
        on_open_change=ChatState.set_show_dm,
    )


def _small(icon: str, label: str, on_click: rx.EventSpec) -> rx.Component:
    return rx.icon_button(rx.icon(icon, size=14), size="1", variant="ghost", color_scheme="gray",
                          on_click=on_click, aria_label=label, title=label)


def rooms_nav() -> rx.Component:
    return rx.el.nav(
        rx.vstack(
            _section(
                "Channels", ChatState.channels,
                _small("search", "Browse channels", ChatState.set_show_browse(True)),
                rx.cond(ChatState.can_post, _small("plus", "Create channel", ChatState.set_show_create(True))),
            ),
            _section(
                "Direct messages", ChatState.direct_rooms,
                rx.cond(ChatState.can_post, _small("plus", "New direct message", ChatState.set_show_dm(True))),
            ),
            spacing="4",
            width="100%",
            padding="10px",
        ),
        aria_label="Rooms",
        style={"height": "100%", "overflow_y": "auto"},
    )


def rooms_dialogs() -> rx.Component:
    """Once per page (the column itself is shown twice: beside the chat and in the phone drawer)."""
    return rx.fragment(_create_dialog(), _browse_dialog(), _dm_dialog())
