"""The thread side panel: the root message, its replies, and a composer that replies in it."""

from __future__ import annotations

import reflex as rx

from ..state.chat import ChatState
from .message import message_item

__all__ = ["thread_panel"]


def thread_panel() -> rx.Component:
    return rx.el.aside(
        rx.vstack(
            rx.hstack(
                rx.heading("Thread", size="3", as_="h2"),
                rx.icon_button(rx.icon("x", size=16), size="1", variant="ghost", on_click=ChatState.close_thread,
                               aria_label="Close thread"),
                justify="between",
                align="center",
                width="100%",
                padding_x="12px",
                padding_top="10px",
            ),
            rx.box(
                rx.box(message_item(ChatState.thread_root), class_name="thread-root"),
                rx.text(
                    rx.cond(ChatState.thread_root.reply_count == 1, "1 reply",
                            f"{ChatState.thread_root.reply_count} replies"),
                    size="1", color_scheme="gray", padding_x="12px", class_name="thread-count",
                ),
                rx.foreach(ChatState.thread_messages, message_item),
                flex_grow="1",
                overflow_y="auto",
                min_height="0",
                width="100%",
                role="log",
                aria_label="Thread replies",
                id="thread-log",
            ),
            rx.cond(
                ChatState.can_post,
                rx.form(
                    rx.hstack(
                        rx.text_area(id="thread-composer", name="reply", placeholder="Reply in thread…",
                                     value=ChatState.thread_draft, on_change=ChatState.set_thread_draft,
                                     enter_key_submit=True, auto_height=True, rows="1", flex_grow="1",
                                     aria_label="Reply in thread"),
                        rx.button("Send", type="submit", aria_label="Send reply"),
                        align="end",
                        width="100%",
                    ),
                    on_submit=ChatState.send_thread_reply,
                    width="100%",
                    padding="10px",
                ),
            ),
            spacing="2",
            height="100%",
            width="100%",
        ),
        aria_label="Thread",
        style={"height": "100%"},
    )
