"""``/``: the chat, with the people panel beside it (a drawer on small screens)."""

from __future__ import annotations

import reflex as rx

from ..components.composer import composer
from ..components.header import header
from ..components.message_list import message_list
from ..components.sidebar import sidebar
from ..state.chat import ChatState

__all__ = ["chat_page"]


def chat_page() -> rx.Component:
    return rx.cond(
        ChatState.signed_in,
        rx.vstack(
            header(),
            rx.hstack(
                rx.el.main(
                    rx.vstack(message_list(), composer(), spacing="0", width="100%", height="100%"),
                    style={"flex_grow": "1", "min_width": "0", "height": "100%", "display": "flex"},
                ),
                rx.box(
                    sidebar(),
                    width=["100%", "100%", "100%", "300px"],
                    flex_shrink="0",
                    height="100%",
                    border_left=f"1px solid {rx.color('gray', 5)}",
                    background=rx.color("gray", 2),
                    display=rx.cond(ChatState.show_people, "block", ["none", "none", "none", "block"]),
                    position=rx.cond(ChatState.show_people, ["absolute", "absolute", "absolute", "static"], "static"),
                    right="0",
                    top="0",
                    z_index="5",
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
