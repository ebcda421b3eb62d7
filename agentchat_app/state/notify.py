"""The person's desktop-notification choice, kept in this browser's localStorage.

``all``, ``mentions`` (mentions and direct messages, the default) or ``none``.  It is a per-
browser choice, like the permission it goes with, so it lives where the browser keeps it: the
notifier (``assets/agentchat_notify.js``) reads the same ``agentchat-notify`` key.
"""

from __future__ import annotations

import reflex as rx

__all__ = ["NotifyState", "MODES"]

MODES = ("all", "mentions", "none")


class NotifyState(rx.State):
    notify_mode: str = rx.LocalStorage("mentions", name="agentchat-notify")

    @rx.event
    def choose(self, mode: str):
        if mode in MODES:
            self.notify_mode = mode
