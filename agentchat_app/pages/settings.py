"""``/settings``: a person's own tokens for the MCP servers agents use on their behalf."""

from __future__ import annotations

import reflex as rx

from ..state.settings import ServerRow, SettingsState

__all__ = ["settings_page"]


def _server_card(server: ServerRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(server.name, size="4", as_="h2"),
                rx.cond(server.has_token,
                        rx.badge("token saved ", server.hint, color_scheme="green", class_name="token-hint"),
                        rx.badge("no token", color_scheme="gray")),
                align="center",
                spacing="3",
            ),
            rx.cond(server.description != "", rx.text(server.description, size="2", color_scheme="gray")),
            rx.cond(server.has_token, rx.text("Saved ", server.updated, size="1", color_scheme="gray")),
            rx.form(
                rx.hstack(
                    rx.el.input(type="hidden", name="server", value=server.name),
                    rx.input(name="token", type="password", autocomplete="off", width="100%",
                             placeholder=rx.cond(server.has_token, "Paste a new token to replace it",
                                                 "Paste your token"),
                             aria_label="Token for " + server.name),
                    rx.button(rx.cond(server.has_token, "Replace", "Save"), type="submit"),
                    rx.cond(server.has_token,
                            rx.button("Remove", type="button", variant="soft", color_scheme="red",
                                      on_click=SettingsState.clear(server.name))),
                    width="100%",
                    spacing="2",
                ),
                on_submit=SettingsState.save,
                reset_on_submit=True,
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="mcp-server",
        data_server=server.name,
    )


def settings_page() -> rx.Component:
    return rx.cond(
        SettingsState.settings_loaded,
        rx.container(
            rx.vstack(
                rx.hstack(
                    rx.heading("Settings", size="6", as_="h1"),
                    rx.hstack(
                        rx.link(rx.button("Back to chat", variant="soft"), href="/"),
                        rx.color_mode.button(variant="ghost", aria_label="Switch light or dark theme"),
                        spacing="2",
                    ),
                    justify="between",
                    width="100%",
                    align="center",
                ),
                rx.heading("Your tokens for agents' tools", size="4", as_="h2"),
                rx.text("Some agents use tools on MCP servers that act as you. Each such call carries only your "
                        "own token. A saved token is stored encrypted and never shown again: you see its last "
                        "four characters.", color_scheme="gray", size="2"),
                rx.cond(SettingsState.settings_notice != "",
                        rx.callout(SettingsState.settings_notice, icon="check", color_scheme="green", size="1",
                                   role="status")),
                rx.cond(SettingsState.settings_error != "",
                        rx.callout(SettingsState.settings_error, icon="triangle-alert", color_scheme="red",
                                   size="1", role="alert")),
                rx.cond(SettingsState.servers.length() > 0,  # type: ignore[attr-defined]
                        rx.vstack(rx.foreach(SettingsState.servers, _server_card), width="100%", spacing="3"),
                        rx.text("No agent here uses a server that needs your own token.", size="2")),
                spacing="4",
                width="100%",
                padding_y="24px",
            ),
            size="3",
        ),
        rx.center(rx.spinner(size="3"), height="100vh"),
    )
