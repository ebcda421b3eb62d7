"""The header's search field and its results (sender, time, room, a snippet with the matches marked).

Ctrl/Cmd+K focuses the field (``assets/agentchat_ux.js``); results come as you type (the field
is debounced by Reflex); Escape or a click elsewhere closes them; choosing one opens the conversation
around it (``state/search.py``).
"""

from __future__ import annotations

import reflex as rx

from ..chat.search import SearchResult, Snip
from ..state.chat import ChatState
from .local_time import local_time

__all__ = ["search_box", "SEARCH_PLACEHOLDER"]

SEARCH_PLACEHOLDER = "Search messages"


def _snip(snip: Snip) -> rx.Component:
    return rx.cond(snip.hit, rx.el.mark(snip.text, class_name="search-hit"), rx.text.span(snip.text))


def _result(result: SearchResult) -> rx.Component:
    return rx.el.li(
        rx.el.button(
            rx.hstack(
                rx.text(result.sender, weight="bold", size="2", class_name="search-sender"),
                rx.badge(rx.text.span("#"), result.room, size="1", variant="soft", color_scheme="gray",
                         class_name="search-room"),
                rx.cond(result.has_file, rx.icon("paperclip", size=12, aria_label="has a file")),
                rx.spacer(),
                local_time(result.timestamp, class_name="search-time", with_day=True),
                align="center",
                spacing="2",
                width="100%",
            ),
            rx.text(rx.foreach(result.snips, _snip), size="2", class_name="search-snippet", as_="div"),
            type="button",
            class_name="search-result",
            on_click=ChatState.open_result(result.id, result.room_id),
            custom_attrs={"data-message-id": result.id},
        ),
        role="none",
    )


def _results() -> rx.Component:
    return rx.box(
        rx.cond(
            ChatState.search_status != "",
            rx.text(ChatState.search_status, size="2", color_scheme="gray", padding="10px", id="search-status",
                    role="status"),
        ),
        rx.el.ul(
            rx.foreach(ChatState.search_results, _result),
            role="list",
            aria_label="Search results",
            class_name="search-results-list",
        ),
        id="search-results",
        class_name="search-results",
    )


def search_box() -> rx.Component:
    return rx.box(
        rx.el.form(
            # A value with on_change makes Reflex debounce the field: one search per pause in typing.
            rx.input(
                rx.input.slot(rx.icon("search", size=14, aria_hidden="true")),
                id="search",
                type="search",
                placeholder=SEARCH_PLACEHOLDER,
                value=ChatState.search_text,
                on_change=ChatState.set_search,
                on_focus=ChatState.reopen_search,
                size="2",
                width="100%",
                aria_label=SEARCH_PLACEHOLDER,
                aria_keyshortcuts="Control+K Meta+K",
                auto_complete="off",
            ),
            role="search",
            on_submit=rx.prevent_default,
        ),
        # Escape or a click elsewhere closes the results (assets/agentchat_ux.js presses this).
        rx.el.button(id="search-close", type="button", on_click=ChatState.close_search, hidden=True,
                     aria_hidden="true", tab_index=-1),
        rx.cond(ChatState.search_open, _results()),
        position="relative",
        flex_grow="1",
        max_width="420px",
        min_width="0",
        class_name="search-box",
    )
