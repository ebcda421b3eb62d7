"""Agent runs in the log: the folded steps line under an answer, live runs, approval cards.

A run folds into one line ("3 steps · 2 tool calls · 4.2 s") that opens (a native
``<details>``: keyboard and screen readers get it for free) to every step and tool call with its
arguments and result, status and duration; long results fold again, and so does the model's
reasoning ("Thought for 3 s").  Approval cards show Approve / Deny to those who may decide and
who is awaited to everyone else.
"""

from __future__ import annotations

import reflex as rx

from ..chat.models import ChatMessage
from ..chat.runs import ApprovalView, RunItem, RunView
from ..state.chat import ChatState
from .common import avatar
from .page_values import PageValues

__all__ = ["approval_card", "live_run", "run_line"]

_STATUS_COLOR = ("running", "blue"), ("waiting", "amber"), ("skipped", "gray"), ("error", "red"), ("done", "green")


def _pre(text: rx.Var[str], label: str) -> rx.Component:
    return rx.el.pre(text, class_name="run-pre", aria_label=label, white_space="pre-wrap", word_break="break-word",
                     font_size="12px", margin="4px 0", padding="6px 8px", border_radius="6px",
                     background=rx.color("gray", 3), max_height="320px", overflow_y="auto")


def _result(item: RunItem) -> rx.Component:
    return rx.cond(
        item.result != "",
        rx.box(
            rx.text("Result", size="1", weight="medium", color_scheme="gray"),
            rx.cond(
                item.result_folded,
                rx.fragment(  # the first lines, and all of it on demand (CSS hides the preview when open)
                    rx.el.details(
                        rx.el.summary(rx.text("Show all", as_="span", size="1"), class_name="run-more"),
                        _pre(item.result, "Full result"),
                        class_name="run-result-folded",
                    ),
                    rx.box(_pre(item.result_preview, "Result, first lines"), class_name="run-result-preview"),
                ),
                _pre(item.result, "Result"),
            ),
        ),
    )


def _tool(item: RunItem) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.icon("wrench", size=13, aria_hidden="true"),
            rx.text(item.title, size="2", weight="medium", class_name="run-tool-name"),
            rx.badge(item.status_label, size="1", variant="soft",
                     color_scheme=rx.match(item.status, *_STATUS_COLOR, "gray")),
            rx.cond(item.duration != "", rx.text(item.duration, size="1", color_scheme="gray")),
            align="center",
            spacing="2",
        ),
        rx.cond(item.args != "", rx.box(rx.text("Arguments", size="1", weight="medium", color_scheme="gray"),
                                        _pre(item.args, "Arguments"))),
        _result(item),
        class_name="run-item run-tool",
        custom_attrs={"data-status": item.status},
    )


def _step(item: RunItem) -> rx.Component:
    return rx.hstack(
        rx.icon("list-checks", size=13, aria_hidden="true"),
        rx.text(item.title, size="2", weight="medium"),
        rx.badge(item.status_label, size="1", variant="soft", color_scheme=rx.match(item.status, *_STATUS_COLOR, "gray")),
        rx.cond(item.duration != "", rx.text(item.duration, size="1", color_scheme="gray")),
        align="center",
        spacing="2",
        class_name="run-item run-step",
        custom_attrs={"data-status": item.status},
    )


def _reasoning(item: RunItem) -> rx.Component:
    return rx.el.details(
        rx.el.summary(rx.text(item.title, as_="span", size="2", color_scheme="gray"), class_name="run-reasoning-title"),
        rx.text(item.text, size="2", color_scheme="gray", white_space="pre-wrap", class_name="run-reasoning-text"),
        class_name="run-item run-reasoning",
    )


def _item(item: RunItem) -> rx.Component:
    return rx.box(
        rx.match(item.kind, ("tool", _tool(item)), ("reasoning", _reasoning(item)), _step(item)),
        padding_left=rx.cond(item.depth > 0, "18px", "0"),
        padding_y="3px",
    )


def _details(run: RunView, open_: rx.Var[bool] | bool = False) -> rx.Component:
    return rx.el.details(
        rx.el.summary(
            rx.text(run.summary, as_="span", size="1", color_scheme="gray", class_name="run-summary-text"),
            class_name="run-summary",
            aria_label=f"Steps of this answer: {run.summary}",
        ),
        rx.vstack(
            rx.foreach(run.lines, _item),
            rx.cond(run.error != "", rx.callout(run.error, icon="triangle-alert", color_scheme="red", size="1")),
            spacing="0",
            padding_left="4px",
            padding_top="4px",
            width="100%",
        ),
        open=open_,
        class_name="run-steps",
        custom_attrs={"data-run": run.run_id, "data-status": run.status},
    )


def run_line(message: ChatMessage, page: PageValues) -> rx.Component:
    """Under an agent's answer: its run folded into one line (loaded on demand for old messages)."""
    return rx.cond(
        message.run_id != "",
        rx.cond(
            page.runs.contains(message.run_id),
            _details(page.runs[message.run_id]),
            rx.button(
                rx.icon("list-checks", size=12, aria_hidden="true"),
                rx.cond(page.loading_runs.contains(message.run_id), "Loading steps…", "Show steps"),
                size="1",
                variant="ghost",
                color_scheme="gray",
                class_name="run-load",
                on_click=ChatState.load_run(message.run_id),
                aria_label="Show the steps of this answer",
            ),
        ),
    )


def live_run(run: RunView) -> rx.Component:
    """A run that has no answer in the log yet: who works on what, open while it runs."""
    return rx.hstack(
        avatar(run.agent, True),
        rx.vstack(
            rx.hstack(
                rx.text(run.agent, weight="bold", size="2"),
                rx.badge(rx.cond(run.status == "queued", "queued", "working…"), size="1", variant="outline",
                         color_scheme=rx.cond(run.status == "queued", "gray", "blue")),
                align="center",
                spacing="2",
            ),
            _details(run, open_=run.status != "queued"),
            spacing="1",
            width="100%",
            min_width="0",
        ),
        class_name="live-run",
        custom_attrs={"data-run": run.run_id, "data-agent": run.agent},
        spacing="3",
        align="start",
        width="100%",
        padding_x="12px",
        padding_y="8px",
        role="article",
        aria_label=f"{run.agent} is working",
    )


def approval_card(approval: ApprovalView) -> rx.Component:
    pending = approval.status == "pending"
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("shield-question", size=16, color=rx.color("amber", 10), aria_hidden="true"),
                rx.text(rx.text.strong(approval.requested_by), " asks to run ", rx.code(approval.tool), size="2"),
                align="center",
                spacing="2",
            ),
            rx.cond(approval.reason != "", rx.text(approval.reason, size="2", class_name="approval-reason")),
            _pre(approval.args, "Arguments"),
            rx.cond(
                pending,
                rx.hstack(
                    rx.cond(
                        approval.can_decide,
                        rx.hstack(
                            rx.button("Approve", size="2", color_scheme="green",
                                      on_click=ChatState.decide_approval(approval.approval_id, "approve")),
                            rx.button("Deny", size="2", variant="soft", color_scheme="red",
                                      on_click=ChatState.decide_approval(approval.approval_id, "deny")),
                            spacing="2",
                        ),
                    ),
                    rx.text(approval.waiting_text, size="1", color_scheme="gray", class_name="approval-waiting"),
                    wrap="wrap",
                    spacing="3",
                    align="center",
                ),
                rx.text(approval.outcome_text, size="1", color_scheme="gray", class_name="approval-outcome"),
            ),
            spacing="2",
        ),
        size="1",
        variant="surface",
        margin_x="12px",
        margin_y="6px",
        class_name="approval-card",
        custom_attrs={"data-approval": approval.approval_id, "data-status": approval.status},
        role="group",
        aria_label=f"Approval requested by {approval.requested_by}",
    )
