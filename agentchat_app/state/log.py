"""The live end of the message log, in a state of its own.

Every component that reads a Reflex state re-renders in the browser whenever any var of that
state changes.  A new message changes the newest few messages, and while they were vars of
``ChatState`` each one re-rendered the whole chat page (some 130 components: header, rooms,
members, composer and all) in every open tab.  Here a new message, a confirmed send or a
streamed word re-renders the end of the log and nothing else.  ``ChatState`` writes these
(``_copy_log``, ``_show_pending``).  The older part of the window is re-sent with one new message
in five; the browser draws both parts as one keyed list (``components/message_list.py``).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from ..chat.models import ChatMessage

__all__ = ["LogState", "assign_changed"]


class LogState(rx.State):
    older: list[ChatMessage] = []
    """The window but its newest few messages (re-sent with one new message in five)."""
    recent: list[ChatMessage] = []
    """The newest few messages of the open room (``chat/window.py``, ``split_for_display``)."""
    pending: list[ChatMessage] = []
    """Mine, not confirmed yet: "Sending…", "Waiting for connection…" or failed with Retry."""
    streams: list[ChatMessage] = []
    """Agents' answers as they are written."""


def assign_changed(state: rx.State, **values: Any) -> None:
    """Set only the vars whose value differs: Reflex re-sends every var that is assigned, equal
    or not, and the browser re-renders every component that reads that state."""
    for name, value in values.items():
        if getattr(state, name) != value:
            setattr(state, name, value)
