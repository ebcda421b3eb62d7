"""The page-wide values a message reads, passed in rather than read from ``ChatState``.

Every component that reads a Reflex state re-renders in the browser whenever any var of that
state changes, so a message that read ``ChatState.can_post`` itself re-rendered with every new
message, typing notice or presence change.  Each message is drawn by a memoised component
(``message.message_row``) whose props are these values and the message: it renders again only
when one of them changes, and a new message changes none of them for the messages before it.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from ..chat.models import FilePreview
from ..chat.runs import RunView
from ..state.chat import ChatState

__all__ = ["PageValues", "from_state"]


@dataclasses.dataclass(frozen=True)
class PageValues:
    can_post: rx.Var[bool]
    highlight_id: rx.Var[int]
    unread_key: rx.Var[str]
    previews: rx.Var[list[FilePreview]]
    preview_ids: rx.Var[list[str]]
    loading_preview: rx.Var[str]
    runs: rx.Var[dict[str, RunView]]
    loading_runs: rx.Var[list[str]]
    is_admin: rx.Var[bool]
    form_base: rx.Var[str]


def from_state() -> PageValues:
    """The values read straight from ``ChatState`` (the recent messages, the thread panel)."""
    return PageValues(
        can_post=ChatState.can_post, highlight_id=ChatState.highlight_id, unread_key=ChatState.unread_key,
        previews=ChatState.previews, preview_ids=ChatState.preview_ids, loading_preview=ChatState.loading_preview,
        runs=ChatState.runs, loading_runs=ChatState.loading_runs, is_admin=ChatState.is_admin,
        form_base=ChatState.form_base,
    )
