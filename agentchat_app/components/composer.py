"""The composer: reply banner, attachments, mention suggestions, errors, textarea and Send."""

from __future__ import annotations

import reflex as rx

from ..chat.models import PendingFile
from ..state.chat import ChatState
from ..state.composer import ComposerState
from ..state.typing import TypingState

__all__ = ["composer", "PLACEHOLDER"]

PLACEHOLDER = "Type a message... Use @username to mention someone"


def _reply_banner() -> rx.Component:
    return rx.hstack(
        rx.icon("reply", size=14, aria_hidden="true"),
        rx.text("Replying to ", rx.text.strong(ComposerState.reply_to_sender), ": ", ComposerState.reply_to_excerpt,
                size="1", trim="both", class_name="reply-banner-text"),
        rx.spacer(),
        rx.icon_button(rx.icon("x", size=14), size="1", variant="ghost", on_click=ChatState.cancel_reply,
                       aria_label="Cancel reply"),
        align="center",
        spacing="2",
        width="100%",
        padding_x="8px",
        padding_y="4px",
        border_left=f"3px solid {rx.color('accent', 9)}",
        background=rx.color("accent", 2),
        border_radius="4px",
        id="reply-banner",
    )


def _pending(item: PendingFile) -> rx.Component:
    return rx.badge(
        rx.icon("paperclip", size=12, aria_hidden="true"),
        rx.text(item.name, as_="span", class_name="attachment-name"),
        rx.text(item.size_label, as_="span", color_scheme="gray"),
        rx.icon_button(rx.icon("x", size=12), size="1", variant="ghost", on_click=ChatState.remove_pending(item.id),
                       aria_label=f"Remove {item.name}"),
        variant="surface",
        radius="full",
        size="2",
        class_name="pending-file",
    )


def _suggestions() -> rx.Component:
    return rx.hstack(
        rx.text("Mention:", size="1", color_scheme="gray", aria_hidden="true"),
        rx.hstack(rx.foreach(
            ComposerState.suggestions,
            lambda name, index: rx.button(f"@{name}", size="1", variant="soft", on_click=ChatState.pick_mention(name),
                                          type="button", class_name="mention-suggestion", role="option",
                                          id=f"mention-option-{index}", tab_index=-1,
                                          aria_selected=rx.cond(index == 0, "true", "false")),
        ), role="listbox", aria_label="Mention suggestions (arrow keys choose, Enter or Tab takes)", spacing="2",
            wrap="wrap"),
        spacing="2",
        align="center",
        wrap="wrap",
        id="mention-suggestions",
    )


def _error() -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("triangle-alert", size=16)),
        rx.callout.text(ChatState.error, id="composer-error"),
        rx.icon_button(rx.icon("x", size=12), size="1", variant="ghost", on_click=ChatState.dismiss_error,
                       aria_label="Dismiss", margin_left="auto"),
        color_scheme="red",
        size="1",
        role="alert",
        width="100%",
        display="flex",
        align_items="center",
    )


def composer() -> rx.Component:
    return rx.vstack(
        # The line keeps its height when nobody types: appearing and going with every message,
        # it resized the log above it, which was laid out and painted again in every tab (and
        # jumped under the reader's eyes).
        rx.text(TypingState.text, size="1", color_scheme="gray", id="typing-indicator", padding_x="4px",
                min_height="var(--line-height-1)", width="100%"),
        rx.cond(ChatState.error != "", _error()),
        rx.cond(ComposerState.reply_to_id > 0, _reply_banner()),
        rx.cond(ComposerState.suggestions.length() > 0, _suggestions()),
        rx.cond(ComposerState.pending_files.length() > 0,
                rx.hstack(rx.foreach(ComposerState.pending_files, _pending), wrap="wrap", spacing="2")),
        rx.cond(
            ChatState.can_post,
            rx.form(
                rx.hstack(
                    rx.upload.root(
                        rx.button(
                            rx.cond(ComposerState.uploading, rx.spinner(size="1"), rx.icon("paperclip", size=16)),
                            rx.text("Attach", display=["none", "inline"]),
                            type="button",
                            variant="soft",
                            size="3",
                            aria_label="Attach",
                        ),
                        id="attach",
                        multiple=True,
                        no_drag=True,
                        no_keyboard=True,
                        on_drop=ChatState.handle_upload(rx.upload_files(upload_id="attach")),
                        border="none",
                        padding="0",
                    ),
                    rx.text_area(
                        id="composer",
                        name="message",
                        placeholder=PLACEHOLDER,
                        value=ComposerState.draft,
                        on_change=ChatState.set_draft,
                        on_focus=rx.call_script("window.agentchatMarkRead && window.agentchatMarkRead()"),
                        enter_key_submit=True,
                        auto_focus=True,
                        auto_height=True,
                        rows="1",
                        size="3",
                        max_height="40vh",
                        flex_grow="1",
                        aria_label="Message",
                    ),
                    rx.button(rx.icon("send-horizontal", size=16), "Send", type="submit", size="3",
                              aria_label="Send"),
                    align="end",
                    spacing="2",
                    width="100%",
                ),
                on_submit=ChatState.send,
                width="100%",
            ),
            rx.hstack(
                rx.text_area(
                    placeholder=PLACEHOLDER,
                    disabled=True,
                    rows="1",
                    size="3",
                    flex_grow="1",
                    aria_label="Message",
                    aria_describedby="composer-reason",
                ),
                rx.button("Send", size="3", disabled=True),
                width="100%",
                align="end",
            ),
        ),
        rx.cond(ChatState.composer_reason != "",
                rx.text(ChatState.composer_reason, size="1", color_scheme="gray", id="composer-reason")),
        width="100%",
        spacing="2",
        padding="12px",
        border_top=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 1),
    )
