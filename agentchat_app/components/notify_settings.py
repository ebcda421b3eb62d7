"""The header's bell: which messages raise a desktop notification while the tab is hidden.

Choosing ``all`` or ``mentions`` asks the browser's permission then and there (a user action;
the page never asks on load).  See ``state/notify.py`` and ``assets/agentchat_notify.js``.
"""

from __future__ import annotations

import reflex as rx

from ..state.notify import NotifyState

__all__ = ["notify_settings"]

_ASK = "window.agentchatAskNotifications && window.agentchatAskNotifications()"


def _choice(value: str, label: str) -> rx.Component:
    return rx.text(rx.flex(rx.radio_group.item(value=value), label, spacing="2", align="center"), as_="label", size="2")


def notify_settings() -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(
            rx.icon_button(rx.icon("bell", size=16), variant="ghost", size="2", aria_label="Notification settings",
                           id="notify-settings"),
        ),
        rx.popover.content(
            rx.vstack(
                rx.text("Desktop notifications", weight="bold", size="2", id="notify-title"),
                rx.text("While this tab is hidden, notify me of:", size="1", color_scheme="gray"),
                rx.radio_group.root(
                    rx.vstack(
                        _choice("all", "All messages"),
                        _choice("mentions", "Mentions and direct messages"),
                        _choice("none", "Nothing"),
                        spacing="2",
                    ),
                    value=NotifyState.notify_mode,
                    on_change=[NotifyState.choose, rx.call_script(_ASK)],
                    aria_labelledby="notify-title",
                    size="2",
                ),
                rx.button("Allow notifications in this browser", size="1", variant="soft",
                          on_click=rx.call_script(_ASK)),
                spacing="2",
            ),
            side="bottom",
            align="end",
            max_width="300px",
        ),
    )
