"""``/login`` and ``/signup``."""

from __future__ import annotations

import reflex as rx

from ..components.auth_form import auth_form
from ..state.auth import AuthState

__all__ = ["login_page", "signup_page"]


def login_page() -> rx.Component:
    return auth_form(
        "Sign in",
        "Sign in",
        AuthState.sign_in,
        rx.text("New here? ", rx.link("Create an account", href="/signup"), size="2"),
        "current-password",
    )


def signup_page() -> rx.Component:
    return auth_form(
        "Create your account",
        "Create account",
        AuthState.sign_up,
        rx.text("Already have an account? ", rx.link("Sign in", href="/login"), size="2"),
        "new-password",
    )
