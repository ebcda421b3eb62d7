"""The admin's table of accounts with a role picker per person."""

from __future__ import annotations

import reflex as rx

from ..state.admin import AdminState, PersonRow
from .common import role_badge

__all__ = ["admin_table"]


def _row(person: PersonRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(person.name),
        rx.table.cell(role_badge(person.role)),
        rx.table.cell(
            rx.cond(
                person.is_agent,
                rx.text("agent", size="1", color_scheme="gray"),
                rx.select(
                    ["admin", "developer", "viewer"],
                    value=person.role,
                    on_change=lambda role: AdminState.change_role(person.name, role),
                    size="1",
                    aria_label=f"Role for {person.name}",
                ),
            )
        ),
        custom_attrs={"data-user": person.name},
    )


def admin_table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("User"),
                rx.table.column_header_cell("Role"),
                rx.table.column_header_cell("Change role"),
            )
        ),
        rx.table.body(rx.foreach(AdminState.people, _row)),
        variant="surface",
        width="100%",
    )
