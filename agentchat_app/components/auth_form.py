"""The sign-in and sign-up card (same fields, different button and handler)."""

from __future__ import annotations

import reflex as rx

from ..state.auth import AuthState

__all__ = ["auth_form"]


def auth_form(title: str, button: str, on_submit: rx.EventHandler, footer: rx.Component,
              autocomplete_password: str) -> rx.Component:
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.hstack(
                        rx.icon("messages-square", size=28, color=rx.color("accent", 10), aria_hidden="true"),
                        rx.heading("AgentChat", size="6", as_="h1"),
                        align="center",
                        spacing="2",
                    ),
                    rx.heading(title, size="4", as_="h2", weight="medium", color_scheme="gray"),
                    rx.vstack(
                        rx.el.label("Username", html_for="username", class_name="field-label"),
                        rx.input(id="username", name="username", auto_complete="username", required=True,
                                 size="3", width="100%", auto_focus=True, max_length=32),
                        spacing="1",
                        width="100%",
                    ),
                    rx.vstack(
                        rx.el.label("Password", html_for="password", class_name="field-label"),
                        rx.input(id="password", name="password", type="password", required=True,
                                 auto_complete=autocomplete_password, size="3", width="100%"),
                        spacing="1",
                        width="100%",
                    ),
                    rx.cond(
                        AuthState.form_error != "",
                        rx.callout(AuthState.form_error, icon="triangle-alert", color_scheme="red", size="1",
                                   role="alert", width="100%", id="form-error"),
                    ),
                    rx.button(button, type="submit", size="3", width="100%", loading=AuthState.busy),
                    footer,
                    spacing="4",
                    width="100%",
                ),
                on_submit=on_submit,
                reset_on_submit=False,
            ),
            size="4",
            width="100%",
            max_width="400px",
        ),
        min_height="100vh",
        padding="16px",
        background=rx.color("gray", 2),
    )
