"""One entry of the log: sender, time, text (or safe Markdown for agents), quote, files, Reply."""

from __future__ import annotations

import reflex as rx

from ..chat.models import AttachmentView, ChatMessage, Segment
from ..state.chat import ChatState
from .common import avatar
from .message_actions import message_actions, message_state
from .runs import run_line
from .send_status import send_status

__all__ = ["message_item", "safe_markdown"]


def safe_markdown(text: rx.Var[str]) -> rx.Component:
    """Markdown without raw HTML: a ``<script>`` or ``<img onerror>`` stays visible text."""
    return rx.markdown(
        text,
        use_raw=False,
        use_math=False,
        use_katex=False,
        # Images are not fetched: an agent echoing "![](https://tracker/...)" from a user
        # would otherwise make every reader's browser call that address.
        component_map={"img": lambda _value: rx.text.span("[image]", class_name="md-image")},
        class_name="agent-markdown",
    )


def _segment(segment: Segment) -> rx.Component:
    return rx.cond(
        segment.kind == "text",
        rx.text.span(segment.text),
        rx.text.span(
            segment.text,
            class_name=rx.cond(segment.kind == "mention_me", "mention mention-me", "mention"),
        ),
    )


def _plain_text(message: ChatMessage) -> rx.Component:
    return rx.text(
        rx.foreach(message.segments, _segment),
        as_="div",
        size="2",
        class_name="message-text",
        white_space="pre-wrap",
        word_break="break-word",
    )


def _quote(message: ChatMessage) -> rx.Component:
    return rx.button(
        rx.icon("corner-down-right", size=14, aria_hidden="true"),
        rx.text.strong(message.reply_sender),
        rx.text(message.reply_excerpt, as_="span", class_name="quote-text"),
        variant="ghost",
        size="1",
        color_scheme="gray",
        class_name="reply-quote",
        on_click=rx.scroll_to(f"msg-{message.reply_to}"),
        aria_label=f"Replying to {message.reply_sender}: show the original message",
        justify="start",
        max_width="100%",
        overflow="hidden",
    )


def _attachment(item: AttachmentView) -> rx.Component:
    return rx.button(
        rx.icon("paperclip", size=14, aria_hidden="true"),
        rx.text(item.name, as_="span", class_name="attachment-name"),
        rx.text(item.size_label, as_="span", size="1", color_scheme="gray"),
        variant="surface",
        size="1",
        radius="full",
        class_name="attachment-chip",
        on_click=ChatState.download(item.id, item.name),
        aria_label=f"Download {item.name} ({item.size_label})",
    )


def message_item(message: ChatMessage) -> rx.Component:
    return rx.hstack(
        avatar(message.sender, message.is_agent),
        rx.vstack(
            rx.hstack(
                rx.text(message.sender, weight="bold", size="2", class_name="message-sender"),
                rx.cond(message.is_agent, rx.badge("agent", size="1", variant="soft", color_scheme="violet")),
                rx.cond(
                    message.timestamp != "",
                    rx.moment(message.timestamp, format="HH:mm", size="1", color=rx.color("gray", 10),
                              class_name="message-time", title=message.timestamp),
                ),
                rx.cond(message.streaming, rx.badge("writing…", size="1", variant="outline", color_scheme="blue")),
                rx.spacer(),
                rx.cond(
                    ChatState.can_post & (message.id > 0),
                    rx.button(
                        rx.icon("reply", size=14, aria_hidden="true"),
                        "Reply",
                        size="1",
                        variant="ghost",
                        class_name="reply-button",
                        on_click=ChatState.start_reply(message.id, message.sender, message.text),
                        aria_label=f"Reply to {message.sender}",
                    ),
                ),
                message_actions(message),
                align="center",
                spacing="2",
                width="100%",
            ),
            rx.cond(message.reply_to > 0, _quote(message)),
            rx.cond(message.is_agent, safe_markdown(message.text), _plain_text(message)),
            rx.cond(
                message.attachments.length() > 0,
                rx.hstack(rx.foreach(message.attachments, _attachment), wrap="wrap", spacing="2"),
            ),
            message_state(message),
            rx.cond(message.run_id != "", run_line(message)),
            rx.cond(message.send_state != "", send_status(message)),
            rx.cond(message.usage_label != "", rx.text(message.usage_label, size="1", color_scheme="gray",
                                                        class_name="answer-usage")),
            spacing="1",
            width="100%",
            min_width="0",
        ),
        id=rx.cond(message.id > 0, f"msg-{message.id}",
                   rx.cond(message.client_id > 0, f"pending-{message.client_id}", f"stream-{message.stream_id}")),
        class_name=rx.Var.create("message")
        + rx.cond(message.is_agent, " from-agent", "")
        + rx.cond(message.mentions_me, " mentions-me", "")
        + rx.cond(message.send_state != "", " unconfirmed " + message.send_state, "")
        + rx.cond((message.id > 0) & (message.id == ChatState.highlight_id), " highlighted", ""),
        custom_attrs={"data-sender": message.sender, "data-notify": rx.cond(message.mentions_me, message.key, "")},
        spacing="3",
        align="start",
        width="100%",
        padding_x="12px",
        padding_y="8px",
        role="article",
        aria_label=f"{message.sender} at {message.time}",
    )
