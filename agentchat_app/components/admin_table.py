"""The admin's tables: people (role, access, last active, reset link), agent keys and invites.

Plain tables with labelled controls: every select and button says whom it acts on.
"""

from __future__ import annotations

import reflex as rx

from ..state.admin import AdminState, InviteRow, KeyRow, PersonRow
from .common import role_badge

__all__ = ["admin_table", "people_table", "keys_section", "invites_section", "new_secret"]


def _person_row(person: PersonRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(person.name),
        rx.table.cell(role_badge(person.role)),
        rx.table.cell(
            rx.cond(
                person.is_agent,
                rx.text("agent", size="1", color_scheme="gray"),
                rx.select.root(
                    # the name goes on the trigger: it is the button a screen reader lands on
                    rx.select.trigger(aria_label=f"Role for {person.name}"),
                    rx.select.content(*[rx.select.item(role, value=role) for role in ("admin", "developer", "viewer")]),
                    value=person.role,
                    on_change=lambda role: AdminState.change_role(person.name, role),
                    size="1",
                ),
            )
        ),
        rx.table.cell(rx.cond(person.disabled, rx.badge("disabled", color_scheme="red", variant="soft", size="1"),
                              rx.text("active", size="1", color_scheme="gray"))),
        rx.table.cell(rx.text(person.last_active, size="1")),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    person.disabled,
                    rx.button("Enable", size="1", variant="soft",
                              on_click=AdminState.set_disabled(person.name, False),
                              aria_label=f"Enable {person.name}"),
                    rx.button("Disable", size="1", variant="soft", color_scheme="red",
                              on_click=AdminState.set_disabled(person.name, True),
                              aria_label=f"Disable {person.name}"),
                ),
                rx.cond(
                    person.is_agent,
                    rx.fragment(),
                    rx.button("Reset link", size="1", variant="outline",
                              on_click=AdminState.make_reset_link(person.name),
                              aria_label=f"Password reset link for {person.name}"),
                ),
                spacing="2",
            )
        ),
        custom_attrs={"data-user": person.name},
    )


def people_table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("User"),
                rx.table.column_header_cell("Role"),
                rx.table.column_header_cell("Change role"),
                rx.table.column_header_cell("Access"),
                rx.table.column_header_cell("Last active"),
                rx.table.column_header_cell("Actions"),
            )
        ),
        rx.table.body(rx.foreach(AdminState.people, _person_row)),
        variant="surface",
        width="100%",
    )


admin_table = people_table


def new_secret() -> rx.Component:
    return rx.cond(
        AdminState.secret_value != "",
        rx.callout.root(
            rx.vstack(
                rx.el.label(AdminState.secret_label, html_for="new-secret", class_name="field-label"),
                rx.hstack(
                    rx.input(id="new-secret", value=AdminState.secret_value, read_only=True, width="100%",
                             size="2"),
                    rx.button("Copy", size="2", on_click=rx.set_clipboard(AdminState.secret_value),
                              aria_label="Copy to the clipboard"),
                    rx.button("Done", size="2", variant="soft", on_click=AdminState.dismiss_secret),
                    width="100%",
                ),
                width="100%",
                spacing="2",
            ),
            color_scheme="amber",
            role="status",
            width="100%",
        ),
    )


def _key_row(key: KeyRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(key.agent),
        rx.table.cell(key.label),
        rx.table.cell(rx.text(key.created, size="1")),
        rx.table.cell(rx.text(key.last_used, size="1")),
        rx.table.cell(
            rx.cond(
                key.revoked,
                rx.text("revoked", size="1", color_scheme="gray"),
                rx.button("Revoke", size="1", variant="soft", color_scheme="red",
                          on_click=AdminState.revoke_key(key.id), aria_label=f"Revoke key {key.label} of {key.agent}"),
            )
        ),
        custom_attrs={"data-key": key.id},
    )


def keys_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Agent keys", size="4", as_="h2"),
        rx.text("A key lets an agent or script connect as that agent: userId is the agent's name, token the key. "
                "It is shown once; revoking it closes its connections.", size="2", color_scheme="gray"),
        rx.form(
            rx.hstack(
                rx.vstack(rx.el.label("Agent name", html_for="key-agent", class_name="field-label"),
                          rx.input(id="key-agent", name="agent", required=True, max_length=32, size="2"),
                          spacing="1"),
                rx.vstack(rx.el.label("Label", html_for="key-label", class_name="field-label"),
                          rx.input(id="key-label", name="label", max_length=80, size="2",
                                   placeholder="e.g. CI runner"),
                          spacing="1"),
                rx.button("Create key", type="submit", size="2"),
                align="end",
                spacing="3",
                wrap="wrap",
            ),
            on_submit=AdminState.create_key,
            reset_on_submit=True,
        ),
        rx.table.root(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Agent"), rx.table.column_header_cell("Label"),
                rx.table.column_header_cell("Created"), rx.table.column_header_cell("Last used"),
                rx.table.column_header_cell("Revoke"),
            )),
            rx.table.body(rx.foreach(AdminState.keys, _key_row)),
            variant="surface",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def _invite_row(invite: InviteRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(role_badge(invite.role)),
        rx.table.cell(invite.created_by),
        rx.table.cell(rx.text(invite.expires, size="1")),
        rx.table.cell(invite.status),
        rx.table.cell(
            rx.cond(
                invite.active,
                rx.button("Revoke", size="1", variant="soft", color_scheme="red",
                          on_click=AdminState.revoke_invite(invite.id), aria_label="Revoke this invite"),
                rx.fragment(),
            )
        ),
    )


def invites_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Invites", size="4", as_="h2"),
        rx.text("An invite link lets one person create an account with the role you choose, even when sign-up "
                "is closed to others.", size="2", color_scheme="gray"),
        rx.form(
            rx.hstack(
                rx.vstack(
                    rx.el.label("Role for the invited person", html_for="invite-role", class_name="field-label"),
                    rx.el.select(
                        rx.el.option("developer", value="developer"),
                        rx.el.option("viewer", value="viewer"),
                        rx.el.option("admin", value="admin"),
                        id="invite-role", name="role", class_name="native-select",
                    ),
                    spacing="1",
                ),
                rx.button("Create invite link", type="submit", size="2"),
                align="end",
                spacing="3",
            ),
            on_submit=AdminState.create_invite,
        ),
        rx.table.root(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Role"), rx.table.column_header_cell("Made by"),
                rx.table.column_header_cell("Expires"), rx.table.column_header_cell("Status"),
                rx.table.column_header_cell("Revoke"),
            )),
            rx.table.body(rx.foreach(AdminState.invites, _invite_row)),
            variant="surface",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )
