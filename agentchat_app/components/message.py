"""One entry of the log: sender, time (not repeated within a group), safe Markdown text, quote, files, actions."""

from __future__ import annotations

import dataclasses

import reflex as rx
from reflex.style import resolved_color_mode

from ..chat.models import ChatMessage, FilePreview, Segment
from ..chat.runs import RunView
from ..state.chat import ChatState
from .attachments import attachment
from .common import avatar
from .keyed_memo import keyed_memo
from .local_time import local_time
from .message_actions import message_actions, message_state
from .page_values import PageValues, from_state
from .rich_text import rich_text
from .runs import run_line
from .send_status import send_status
from .timeline import timeline_marks

__all__ = ["message_item", "message_with"]


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
    """Words and mentions as text nodes: a message without Markdown in it (``ChatMessage.rich``)."""
    return rx.text(
        rx.foreach(message.segments, _segment),
        as_="div",
        size="2",
        class_name="message-text rich-text",
        white_space="pre-wrap",
        word_break="break-word",
    )


def message_item(message: ChatMessage) -> rx.Component:
    """A message that reads the page-wide values from ``ChatState`` (``rx.foreach`` passes one argument)."""
    return message_with(message, from_state())


def message_with(message: ChatMessage, page: PageValues) -> rx.Component:
    # ``KeyedMemo`` skips a message whose value and shown values are unchanged; the log builds
    # only it and the ``message_row`` element for each message, not the whole tree (some forty
    # components) that ``message_row`` draws when it does render.
    values = {field.name: getattr(page, field.name) for field in dataclasses.fields(page)}
    return keyed_memo(message_row(message=message, **values), message.key, message,
                      [*values.values(), resolved_color_mode])


@rx.memo
def message_row(
    message: rx.Var[ChatMessage],
    can_post: rx.Var[bool],
    highlight_id: rx.Var[int],
    unread_key: rx.Var[str],
    previews: rx.Var[list[FilePreview]],
    preview_ids: rx.Var[list[str]],
    loading_preview: rx.Var[str],
    runs: rx.Var[dict[str, RunView]],
    loading_runs: rx.Var[list[str]],
    is_admin: rx.Var[bool],
    form_base: rx.Var[str],
) -> rx.Component:
    """One message and its timeline marks: everything it shows comes in through its props."""
    page = PageValues(can_post, highlight_id, unread_key, previews, preview_ids, loading_preview, runs, loading_runs,
                      is_admin, form_base)
    return rx.fragment(timeline_marks(message, page), _entry(message, page))


def _entry(message: ChatMessage, page: PageValues) -> rx.Component:
    return rx.hstack(
        rx.cond(message.continued, rx.box(class_name="avatar-space", aria_hidden="true"),
                avatar(message.sender, message.is_agent)),
        rx.vstack(
            rx.hstack(
                rx.text(message.sender, weight="bold", size="2", class_name="message-sender"),
                rx.cond(message.is_agent, rx.badge("agent", size="1", variant="soft", color_scheme="violet")),
                rx.cond(
                    message.timestamp != "",
                    local_time(message.timestamp, class_name="message-time"),
                ),
                rx.cond(message.streaming, rx.badge("writing…", size="1", variant="outline", color_scheme="blue")),
                align="center",
                spacing="2",
                width="100%",
                class_name="message-head",
            ),
            rx.hstack(
                rx.cond(
                    page.can_post & (message.id > 0),
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
                message_actions(message, page),
                align="center",
                spacing="1",
                class_name="message-toolbar",
            ),
            rx.cond(message.reply_to > 0, _quote(message)),
            rx.cond(
                message.streaming | message.rich,
                rich_text(rx.cond(message.streaming, message.text, message.markdown), agent=message.is_agent),
                _plain_text(message),
            ),
            rx.cond(
                message.attachments.length() > 0,
                rx.hstack(rx.foreach(message.attachments, lambda item: attachment(item, page)), wrap="wrap", spacing="2", align="start"),
            ),
            message_state(message, page),
            rx.cond(message.run_id != "", run_line(message, page)),
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
        + rx.cond(message.continued, " continued", "")
        + rx.cond(message.send_state != "", " unconfirmed " + message.send_state, "")
        + rx.cond((message.id > 0) & (message.id == page.highlight_id), " highlighted", ""),
        custom_attrs={"data-sender": message.sender, "data-notify": rx.cond(message.mentions_me, message.key, "")},
        spacing="3",
        align="start",
        width="100%",
        padding_x="12px",
        padding_y=rx.cond(message.continued, "2px", "8px"),
        position="relative",
        tab_index=-1,
        role="article",
        aria_label=f"{message.sender} at {message.time}",
    )
