"""``/``: the chat, with the people panel beside it (a drawer on small screens)."""

from __future__ import annotations

import reflex as rx

from ..components.composer import composer
from ..components.connection_banner import chat_banner
from ..components.header import header
from ..components.message_list import message_list
from ..components.sidebar import sidebar
from ..state.chat import ChatState

__all__ = ["chat_page"]


def chat_page() -> rx.Component:
    return rx.cond(
        ChatState.signed_in,
        rx.vstack(
            chat_banner(),
            header(),
            rx.hstack(
                rx.el.main(
                    rx.vstack(message_list(), composer(), spacing="0", width="100%", height="100%"),
                    style={"flex_grow": "1", "min_width": "0", "height": "100%", "display": "flex"},
                ),
                rx.box(
                    sidebar(),
                    width="300px",
                    flex_shrink="0",
                    height="100%",
                    border_left=f"1px solid {rx.color('gray', 5)}",
                    background=rx.color("gray", 2),
                    display=["none", "none", "none", "block"],
                ),
                rx.cond(
                    ChatState.show_people,
                    rx.box(
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
            spacing="0",
            height="100dvh",
            width="100%",
        ),
        rx.center(rx.spinner(size="3"), height="100vh"),
    )
