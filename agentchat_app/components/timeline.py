"""What goes between messages: day separators and the "New messages" line (``chat/timeline.py``)."""

from __future__ import annotations

import reflex as rx

from ..chat.models import ChatMessage
from .page_values import PageValues

__all__ = ["timeline_marks", "jump_to_latest_button"]


def _line(label: rx.Var[str] | str, class_name: str, color: str) -> rx.Component:
    return rx.hstack(
        rx.separator(size="4", color_scheme=color, flex="1"),
        rx.text(label, size="1", weight="medium", color_scheme=color, white_space="nowrap"),
        rx.separator(size="4", color_scheme=color, flex="1"),
        align="center",
        spacing="3",
        width="100%",
        padding_x="12px",
        padding_y="6px",
        class_name=class_name,
        role="separator",
        aria_label=label,
    )


def timeline_marks(message: ChatMessage, page: PageValues) -> rx.Component:
    return rx.fragment(
        rx.cond(message.day_label != "", _line(message.day_label, "day-separator", "gray")),
        rx.cond(
            (page.unread_key != "") & (message.key == page.unread_key),
            _line("New messages", "new-messages", "red"),
        ),
    )


def jump_to_latest_button() -> rx.Component:
    """Shown by ``assets/agentchat_keys.js`` (``data-behind`` on the log) when new messages
    arrive while the reader is scrolled up; a click scrolls to the newest."""
    return rx.button(
        rx.icon("arrow-down", size=14, aria_hidden="true"),
        "Jump to latest",
        size="2",
        radius="full",
        variant="solid",
        id="jump-latest",
        class_name="jump-latest",
        on_click=rx.call_script("window.agentchatJumpToLatest && window.agentchatJumpToLatest()"),
    )
