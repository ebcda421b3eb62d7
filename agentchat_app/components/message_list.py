"""The message log (``role="log"``): earlier pages, messages, live answers, agent questions."""

from __future__ import annotations

import reflex as rx

from ..chat.models import ChatMessage, FilePreview, Question
from ..chat.runs import RunView
from ..state.chat import ChatState
from ..state.log import LogState
from .message import message_item, message_with
from .page_values import PageValues
from .runs import approval_card, live_run
from .timeline import jump_to_latest_button

__all__ = ["message_list"]


@rx.memo
def settled_messages(
    messages: rx.Var[list[ChatMessage]],
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
    """The window (``LogState.older`` then ``LogState.recent``) as one keyed list: a message moving
    from the recent part to the older one keeps its elements (as two lists, the five that moved
    were drawn anew in every tab with one new message in five).  Each message is drawn again
    only if it or a value it shows changed (``KeyedMemo``)."""
    page = PageValues(can_post, highlight_id, unread_key, previews, preview_ids, loading_preview, runs, loading_runs,
                      is_admin, form_base)
    return rx.fragment(rx.foreach(messages, lambda message: message_with(message, page)))


def _settled(messages: rx.Var[list[ChatMessage]]) -> rx.Component:
    """The confirmed messages of the window, drawn by the memoised component."""
    return settled_messages(
        messages=messages, can_post=ChatState.can_post, highlight_id=ChatState.highlight_id,
        unread_key=ChatState.unread_key, previews=ChatState.previews, preview_ids=ChatState.preview_ids,
        loading_preview=ChatState.loading_preview, runs=ChatState.runs, loading_runs=ChatState.loading_runs,
        is_admin=ChatState.is_admin, form_base=ChatState.form_base,
    )


def _question(question: Question) -> rx.Component:
    open_for_me = (question.state == "open") & question.for_me
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("circle-help", size=16, color=rx.color("violet", 10), aria_hidden="true"),
                rx.text(
                    rx.text.strong(question.agent),
                    " asks ",
                    rx.cond(question.for_me, "you", question.to_user),
                    size="2",
                ),
                align="center",
                spacing="2",
            ),
            rx.text(question.text, size="3", white_space="pre-wrap", class_name="question-text"),
            rx.cond(
                question.state == "open",
                rx.hstack(
                    rx.foreach(
                        question.choices,
                        lambda choice: rx.button(
                            choice,
                            size="2",
                            variant="soft",
                            disabled=~open_for_me,
                            on_click=ChatState.answer_question(question.question_id, choice),
                        ),
                    ),
                    rx.cond(~question.for_me, rx.text(f"Waiting for {question.to_user}", size="1", color_scheme="gray")),
                    wrap="wrap",
                    spacing="2",
                    align="center",
                ),
                rx.text(
                    rx.match(
                        question.state,
                        ("answered", f"Answered “{question.answer}” by {question.answered_by}"),
                        ("timeout", "No answer in time"),
                        "Cancelled",
                    ),
                    size="1",
                    color_scheme="gray",
                    class_name="question-outcome",
                ),
            ),
            spacing="2",
        ),
        size="1",
        variant="surface",
        margin_x="12px",
        margin_y="6px",
        class_name="agent-question",
        role="group",
        aria_label=f"Question from {question.agent}",
    )


def message_list() -> rx.Component:
    """The log, with the floating "Jump to latest" over it (``assets/agentchat_keys.js``)."""
    return rx.box(_log(), jump_to_latest_button(), id="message-pane", position="relative", flex_grow="1",
                  min_height="0", width="100%", display="flex", flex_direction="column")


def _log() -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.cond(
                ChatState.has_more,
                rx.center(
                    rx.button("Load earlier", variant="soft", size="1", id="load-earlier",
                              on_click=ChatState.load_earlier),
                    width="100%",
                    padding="8px",
                ),
                rx.cond(
                    LogState.recent.length() > 0,
                    rx.center(rx.text("This is the beginning of the conversation.", size="1", color_scheme="gray"),
                              width="100%", padding="8px"),
                ),
            ),
            rx.cond(
                (LogState.recent.length() == 0) & (ChatState.connection == "Connected"),
                rx.center(
                    rx.vstack(
                        rx.icon("message-circle", size=32, color=rx.color("gray", 8), aria_hidden="true"),
                        rx.text("No messages yet. Say hello, or ask @helper what it can do.", color_scheme="gray"),
                        align="center",
                    ),
                    width="100%",
                    padding="48px",
                ),
            ),
            _settled(LogState.older + LogState.recent),
            rx.foreach(LogState.pending, message_item),
            # What you just sent, drawn by assets/agentchat_send.js until the line above shows it.
            rx.box(id="local-echo", width="100%"),
            rx.foreach(LogState.streams, message_item),
            rx.foreach(ChatState.questions, _question),
            rx.foreach(ChatState.live_runs, live_run),
            rx.foreach(ChatState.approvals, approval_card),
            rx.cond(
                ChatState.detached,
                rx.center(rx.button("Jump to latest", size="1", on_click=ChatState.jump_to_latest), width="100%"),
            ),
            spacing="0",
            width="100%",
            padding_y="8px",
            min_height="100%",
            justify="end",  # a short conversation sits above the composer, as in any chat
        ),
        id="message-log",
        custom_attrs={"data-room-kind": ChatState.room.kind},  # a DM's messages notify (agentchat_notify.js)
        role="log",
        aria_label="Messages",
        aria_live="polite",
        tab_index=0,
        flex_grow="1",
        overflow_y="auto",
        min_height="0",
        width="100%",
        on_click=rx.call_script("window.agentchatMarkRead && window.agentchatMarkRead()"),
    )
