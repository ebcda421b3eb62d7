"""The approvals audit log on /admin: who asked to run what, who decided, how it closed."""

from __future__ import annotations

import reflex as rx

from ..state.admin import AdminState
from ..state.audit import AuditRow

__all__ = ["audit_section"]


def _row(row: AuditRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.at, size="1", white_space="nowrap")),
        rx.table.cell(row.action),
        rx.table.cell(row.actor),
        rx.table.cell(rx.text(row.agent, " → ", rx.code(row.tool))),
        rx.table.cell(rx.text(row.detail, size="1", color_scheme="gray", class_name="audit-detail",
                              word_break="break-word")),
        custom_attrs={"data-approval": row.approval_id},
    )


def audit_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Approvals audit log", size="4", as_="h2"),
        rx.text("Every tool call an agent asked the room to approve, every decision, and how each request closed.",
                size="2", color_scheme="gray"),
        rx.cond(AdminState.audit_error != "",
                rx.callout(AdminState.audit_error, icon="triangle-alert", color_scheme="red", size="1")),
        rx.cond(
            AdminState.audit.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("When"), rx.table.column_header_cell("What"),
                    rx.table.column_header_cell("Who"), rx.table.column_header_cell("Agent and tool"),
                    rx.table.column_header_cell("Details"),
                )),
                rx.table.body(rx.foreach(AdminState.audit, _row)),
                variant="surface",
                width="100%",
                class_name="audit-log",
            ),
            rx.text("No approvals yet.", size="2", color_scheme="gray"),
        ),
        rx.cond(AdminState.audit_more, rx.button("Older", size="1", variant="soft", on_click=AdminState.older_audit)),
        spacing="3",
        width="100%",
    )
