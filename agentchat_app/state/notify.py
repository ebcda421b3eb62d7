"""The person's desktop-notification choice, kept in this browser's localStorage.

``all``, ``mentions`` (mentions and direct messages, the default) or ``none``.  It is a per-
browser choice, like the permission it goes with, so it lives where the browser keeps it: the
notifier (``assets/agentchat_notify.js``) reads the same ``agentchat-notify`` key.
"""

from __future__ import annotations

import json

import reflex as rx

from ..chat.session import Notice

__all__ = ["NotifyState", "MODES", "notify_elsewhere_script"]

MODES = ("all", "mentions", "none")


class NotifyState(rx.State):
    notify_mode: str = rx.LocalStorage("mentions", name="agentchat-notify")

    @rx.event
    def choose(self, mode: str):
        if mode in MODES:
            self.notify_mode = mode


def notify_elsewhere_script(notice: Notice) -> str:
    """The page's notifier shows it if the tab is hidden and the person's choice allows
    (the text goes in as JSON string literals: plain text, never markup)."""
    args = ", ".join(json.dumps(v) for v in (notice.title, notice.body, notice.tag))
    return f"window.agentchatNotifyElsewhere && window.agentchatNotifyElsewhere({args})"

