"""``/login``, ``/signup`` and ``/reset`` (set a new password from an admin's reset link)."""

from __future__ import annotations

import reflex as rx

from ..components.auth_form import auth_card, auth_form, error_callout, field
from ..state.auth import AuthState

__all__ = ["login_page", "signup_page", "reset_page"]


def login_page() -> rx.Component:
    return auth_form(
        "Sign in",
        "Sign in",
        "/auth/sign-in",
        rx.text("New here? ", rx.link("Create an account", href="/signup"), size="2"),
        "current-password",
    )


def signup_page() -> rx.Component:
    return auth_form(
        "Create your account",
        "Create account",
        "/auth/sign-up",
        rx.text("Already have an account? ", rx.link("Sign in", href="/login"), size="2"),
        "new-password",
        with_invite=True,
    )


def reset_page() -> rx.Component:
    return auth_card(
        "Choose a new password",
        rx.cond(
            AuthState.reset_done,
            rx.vstack(
                rx.callout(rx.text("Your password is changed, ", AuthState.form_username,
                                   ". Sign in with the new one."),
                           icon="check", color_scheme="green", size="1", role="status", width="100%"),
                rx.link(rx.button("Sign in", size="3", width="100%"), href="/login", width="100%"),
                width="100%",
            ),
            rx.form(
                rx.vstack(
                    field("New password", "password", kind="password", autocomplete="new-password", focus=True),
                    field("Repeat the new password", "confirm", kind="password", autocomplete="new-password"),
                    error_callout(),
                    rx.button("Set password", type="submit", size="3", width="100%"),
                    spacing="4",
                    width="100%",
                ),
                on_submit=AuthState.set_new_password,
                reset_on_submit=False,
            ),
        ),
    )
