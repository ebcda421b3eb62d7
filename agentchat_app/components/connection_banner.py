"""One calm banner while a connection is away: "Reconnecting…", then "Back online".

Two links can be away: the browser's socket to this app (Reflex's own; while it is down no state
update can arrive, so the page decides alone: ``has_connection_errors``), and the app's link to
the chat server (``ChatState.banner``, from ``chat/banner.py``).  At most one banner shows: the
app's own socket first.  This replaces Reflex's default overlay, whose toast shows framework text
("Cannot connect to server ... Check if server is reachable at ws://...") to people.
"""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors

from ..chat.banner import RECONNECTING_TEXT
from ..state.chat import ChatState

__all__ = ["app_overlay", "chat_banner", "BANNER_ID"]

BANNER_ID = "connection-banner"


def _banner(text: rx.Var[str] | str, element_id: str) -> rx.Component:
    back = text == "Back online" if isinstance(text, rx.Var) else False
    return rx.box(
        rx.cond(back, rx.icon("wifi", size=14, aria_hidden="true"), rx.spinner(size="1")),
        rx.text(text, size="2", weight="medium"),
        id=element_id,
        class_name=rx.Var.create("connection-banner") + rx.cond(back, " back-online", ""),
        # A live region, but not role="status": that is the header's connection indicator.
        aria_live="polite",
    )


def app_overlay(_stateful: bool = True) -> rx.Component:
    """In every page (an app wrap): the banner for the browser's own socket to the app."""
    return rx.fragment(rx.cond(has_connection_errors, _banner(RECONNECTING_TEXT, "app-reconnecting")))


def chat_banner() -> rx.Component:
    """On the chat page: the banner for the link to the chat server (unless the other one shows)."""
    return rx.cond(~has_connection_errors & (ChatState.banner != ""), _banner(ChatState.banner, BANNER_ID))
