"""The top bar: name of the app, connection indicator, who I am, theme and sign-out."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors

from ..state.chat import ChatState
from .common import role_badge
from .search import search_box

__all__ = ["header", "connection_indicator"]


def connection_indicator() -> rx.Component:
    """Always visible. The browser's own link to the app counts too: if it is down, so is the chat."""
    label = rx.cond(has_connection_errors, "Reconnecting", ChatState.connection)
    return rx.badge(
        rx.box(
            width="8px", height="8px", border_radius="50%", background="currentColor",
            class_name=rx.cond(label == "Connected", "", "agentchat-pulse"),
        ),
        rx.text(label, id="connection-state"),
        color_scheme=rx.match(label, ("Connected", "green"), ("Disconnected", "red"), "amber"),
        variant="soft",
        size="2",
        role="status",
        aria_live="polite",
        aria_label=rx.Var.create("Connection: ") + label,
        gap="6px",
    )


def header() -> rx.Component:
    return rx.el.header(rx.hstack(
        rx.hstack(
            rx.icon("messages-square", size=22, color=rx.color("accent", 10), aria_hidden="true"),
            rx.heading("AgentChat", size="5", as_="h1", display=["none", "block"]),
            connection_indicator(),
            align="center",
            spacing="3",
        ),
        search_box(),
        rx.hstack(
            rx.button(
                rx.icon("users", size=16),
                rx.text("People", display=["none", "inline"]),
                variant="soft",
                size="2",
                on_click=ChatState.toggle_people,
                display=["flex", "flex", "flex", "none"],
                aria_label="Show users and agents",
            ),
            rx.hstack(
                rx.text(ChatState.user, weight="medium", id="me"),
                role_badge(ChatState.role),
                align="center",
                spacing="2",
                display=["none", "flex"],
            ),
            rx.cond(
                ChatState.is_admin,
                rx.link(rx.button("Admin", variant="ghost", size="2"), href="/admin"),
            ),
            rx.link(rx.button("Settings", variant="ghost", size="2"), href="/settings"),
            rx.color_mode.button(size="2", variant="ghost", aria_label="Switch light or dark theme"),
            rx.button("Sign out", variant="outline", size="2", on_click=ChatState.sign_out),
            align="center",
            spacing=rx.breakpoints(initial="2", sm="3"),
        ),
        justify="between",
        align="center",
        spacing="3",
        padding_x=rx.breakpoints(initial="10px", sm="16px"),
        padding_y="10px",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 1),
        width="100%",
    ), style={"width": "100%"})
