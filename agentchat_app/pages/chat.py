"""``/``: the chat, with the people panel beside it (a drawer on small screens)."""

from __future__ import annotations

import reflex as rx

from ..components.composer import composer
from ..components.connection_banner import chat_banner
from ..components.header import header
from ..components.message_actions import delete_dialog, edit_dialog
from ..components.message_list import message_list
from ..components.room_header import room_header
from ..components.rooms_nav import rooms_dialogs, rooms_nav
from ..components.sidebar import sidebar
from ..components.thread_panel import thread_panel
from ..state.chat import ChatState

__all__ = ["chat_page"]


def chat_page() -> rx.Component:
    return rx.cond(
        ChatState.signed_in,
        rx.vstack(
            chat_banner(),
            header(),
            rx.hstack(
                rx.box(
                    rooms_nav(),
                    width="240px",
                    flex_shrink="0",
                    height="100%",
                    border_right=f"1px solid {rx.color('gray', 5)}",
                    background=rx.color("gray", 2),
                    display=["none", "none", "block"],
                ),
                rx.el.main(
                    rx.vstack(room_header(), message_list(), composer(), spacing="0", width="100%", height="100%"),
                    style={"flex_grow": "1", "min_width": "0", "height": "100%", "display": "flex"},
                ),
                rx.box(
                    rx.cond(ChatState.thread_open, thread_panel(), sidebar()),
                    width=rx.cond(ChatState.thread_open, "380px", "300px"),
                    flex_shrink="0",
                    height="100%",
                    border_left=f"1px solid {rx.color('gray', 5)}",
                    background=rx.color("gray", 2),
                    display=["none", "none", "none", "block"],
                    class_name=rx.cond(ChatState.thread_open, "side-column thread-open", "side-column"),
                ),
                rx.cond(
                    ChatState.show_people,
                    rx.box(
                        rx.box(rooms_nav(), display=["block", "block", "none"]),
                        sidebar(),
                        position="absolute",
                        inset="0",
                        z_index="5",
                        background=rx.color("gray", 2),
                        display=["block", "block", "block", "none"],
                        id="people-panel",
                    ),
                ),
                spacing="0",
                width="100%",
                flex_grow="1",
                min_height="0",
                position="relative",
            ),
            edit_dialog(),
            delete_dialog(),
            rooms_dialogs(),
            spacing="0",
            height="100dvh",
            width="100%",
        ),
        rx.center(rx.spinner(size="3"), height="100vh"),
    )
