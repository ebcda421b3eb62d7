"""Under one of my messages not confirmed yet: "Sending…", "Waiting for connection…", or why it
failed with Retry and Discard (``state/outbox.py``)."""

from __future__ import annotations

import reflex as rx

from ..chat.models import ChatMessage
from ..state.chat import ChatState

__all__ = ["send_status"]


def send_status(message: ChatMessage) -> rx.Component:
    failed = message.send_state == "failed"
    return rx.hstack(
        rx.cond(
            failed,
            rx.icon("circle-alert", size=12, color=rx.color("red", 10), aria_hidden="true"),
            rx.icon("clock", size=12, aria_hidden="true"),
        ),
        rx.text(message.send_status, size="1", color_scheme=rx.cond(failed, "red", "gray"), class_name="send-status"),
        rx.cond(
            failed,
            rx.hstack(
                rx.button("Retry", size="1", variant="soft", on_click=ChatState.retry_send(message.client_id),
                          aria_label="Retry sending this message"),
                rx.button("Discard", size="1", variant="ghost", color_scheme="gray",
                          on_click=ChatState.discard_send(message.client_id),
                          aria_label="Discard this message"),
                spacing="2",
            ),
        ),
        align="center",
        spacing="2",
        role="status",
    )
