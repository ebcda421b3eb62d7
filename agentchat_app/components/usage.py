"""Usage and costs on /admin: a stacked bar chart per day (per agent or per person, dollars or
tokens), the table behind it, and the CSV export."""

from __future__ import annotations

import reflex as rx

from ..chat.usage import Series, UsageRow
from ..state.admin import AdminState

__all__ = ["usage_section"]


def _bar(series: Series) -> rx.Component:
    return rx.recharts.bar(data_key=series.name, stack_id="usage", fill=series.color, name=series.name)


def _chart() -> rx.Component:
    return rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
        rx.recharts.x_axis(data_key="day"),
        rx.recharts.y_axis(),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(),
        rx.foreach(AdminState.usage_series, _bar),
        data=AdminState.usage_points,
        width="100%",
        height=260,
    )


def _row(row: UsageRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.day, white_space="nowrap")),
        rx.table.cell(row.agent),
        rx.table.cell(row.person),
        rx.table.cell(row.calls),
        rx.table.cell(rx.text(row.tokens, title=row.input_tokens + " in, " + row.output_tokens + " out")),
        rx.table.cell(row.cost),
    )


def usage_section() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Usage", size="4", as_="h2"),
            rx.spacer(),
            rx.segmented_control.root(
                rx.segmented_control.item("Per agent", value="agent"),
                rx.segmented_control.item("Per person", value="person"),
                value=AdminState.usage_by, on_change=AdminState.set_usage_by, size="1",
            ),
            rx.segmented_control.root(
                rx.segmented_control.item("Cost", value="costUsd"),
                rx.segmented_control.item("Tokens", value="totalTokens"),
                value=AdminState.usage_metric, on_change=AdminState.set_usage_metric, size="1",
            ),
            rx.segmented_control.root(
                *(rx.segmented_control.item(f"{days} d", value=days) for days in ("7", "14", "30", "90")),
                value=AdminState.usage_days, on_change=AdminState.set_usage_days, size="1",
            ),
            rx.button(rx.icon("download", size=14, aria_hidden="true"), "CSV", size="1", variant="soft",
                      on_click=AdminState.export_usage, class_name="usage-csv"),
            width="100%",
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        rx.text("What the LLM agents' model calls used and cost, per UTC day, over the last ", AdminState.usage_days,
                " days (prices and budgets: the agents config).", size="2", color_scheme="gray"),
        rx.cond(AdminState.usage_error != "",
                rx.callout(AdminState.usage_error, icon="triangle-alert", color_scheme="red", size="1")),
        rx.cond(
            AdminState.usage_rows.length() > 0,
            rx.vstack(
                rx.box(_chart(), width="100%", class_name="usage-chart"),
                rx.table.root(
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell("Day (UTC)"), rx.table.column_header_cell("Agent"),
                        rx.table.column_header_cell("Asked by"), rx.table.column_header_cell("Calls"),
                        rx.table.column_header_cell("Tokens"), rx.table.column_header_cell("Cost"),
                    )),
                    rx.table.body(rx.foreach(AdminState.usage_rows, _row)),
                    variant="surface",
                    width="100%",
                    class_name="usage-table",
                ),
                width="100%",
                spacing="3",
            ),
            rx.text("No model calls in the last ", AdminState.usage_days, " days.", size="2", color_scheme="gray"),
        ),
        spacing="3",
        width="100%",
    )
