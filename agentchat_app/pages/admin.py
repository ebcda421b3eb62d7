"""``/admin``: people (roles, access, reset links), agent keys and invites, for admins."""

from __future__ import annotations

import reflex as rx

from ..components.admin_table import invites_section, keys_section, new_secret, people_table
from ..components.audit import audit_section
from ..components.usage import usage_section
from ..state.admin import AdminState

__all__ = ["admin_page"]


def admin_page() -> rx.Component:
    return rx.cond(
        AdminState.is_admin,
        rx.container(
            rx.vstack(
                rx.hstack(
                    rx.heading("Users and roles", size="6", as_="h1"),
                    rx.hstack(
                        rx.link(rx.button("Back to chat", variant="soft"), href="/"),
                        rx.color_mode.button(variant="ghost", aria_label="Switch light or dark theme"),
                        spacing="2",
                    ),
                    justify="between",
                    width="100%",
                    align="center",
                ),
                rx.text("Viewers can read but not post; developers can post and use agents; admins also manage "
                        "accounts here. Changes reach open chat tabs at once; a disabled person is signed out "
                        "everywhere.", color_scheme="gray", size="2"),
                rx.cond(AdminState.admin_notice != "",
                        rx.callout(AdminState.admin_notice, icon="check", color_scheme="green", size="1",
                                   role="status")),
                rx.cond(AdminState.admin_error != "",
                        rx.callout(AdminState.admin_error, icon="triangle-alert", color_scheme="red", size="1",
                                   role="alert")),
                new_secret(),
                people_table(),
                keys_section(),
                invites_section(),
                usage_section(),
                audit_section(),
                spacing="4",
                width="100%",
                padding_y="24px",
            ),
            size="3",
        ),
        rx.center(rx.spinner(size="3"), height="100vh"),
    )
