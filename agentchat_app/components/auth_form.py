"""The sign-in and sign-up card: a native form posted to the app's ``/auth/*`` routes.

A plain ``<form method="post">`` (not a Reflex event): the route's answer sets the HttpOnly
session cookie and sends the browser on, so no script ever holds the credential.  Errors come
back in the query string and are shown next to the form.
"""

from __future__ import annotations

import reflex as rx

from ..state.auth import AuthState
from .backend_url import native_form

__all__ = ["auth_form", "auth_card", "field"]


def field(label: str, name: str, *, kind: str = "text", autocomplete: str, default: rx.Var[str] | str = "",
          focus: bool = False, max_length: int | None = None) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=name, class_name="field-label"),
        rx.input(id=name, name=name, type=kind, auto_complete=autocomplete, required=True, size="3", width="100%",
                 auto_focus=focus, default_value=default, max_length=max_length),
        spacing="1",
        width="100%",
    )


def error_callout() -> rx.Component:
    return rx.cond(
        AuthState.form_error != "",
        rx.callout(AuthState.form_error, icon="triangle-alert", color_scheme="red", size="1", role="alert",
                   width="100%", id="form-error"),
    )


def auth_card(title: str, *children: rx.Component) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("messages-square", size=28, color=rx.color("accent", 10), aria_hidden="true"),
                    rx.heading("AgentChat", size="6", as_="h1"),
                    align="center",
                    spacing="2",
                ),
                rx.heading(title, size="4", as_="h2", weight="medium", color_scheme="gray"),
                *children,
                spacing="4",
                width="100%",
            ),
            size="4",
            width="100%",
            max_width="400px",
        ),
        min_height="100vh",
        padding="16px",
        background=rx.color("gray", 2),
    )


def _invite_fields(with_invite: bool) -> list[rx.Component]:
    if not with_invite:
        return []
    return [
        rx.el.input(type="hidden", name="invite", value=AuthState.invite),
        rx.cond(AuthState.invite != "",
                rx.text("You were invited: your account gets the role the admin chose.", size="2",
                        color_scheme="gray")),
    ]


def auth_form(title: str, button: str, route: str, footer: rx.Component, autocomplete_password: str,
              with_invite: bool = False) -> rx.Component:
    return auth_card(
        title,
        native_form(
            rx.vstack(
                field("Username", "username", autocomplete="username", focus=True, max_length=32),
                field("Password", "password", kind="password", autocomplete=autocomplete_password),
                *_invite_fields(with_invite),
                error_callout(),
                rx.button(button, type="submit", size="3", width="100%"),
                footer,
                spacing="4",
                width="100%",
            ),
            action=AuthState.form_base + route,
            method="post",
        ),
    )
