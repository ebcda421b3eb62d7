"""Agent runs and approvals as the browser shows them: frames in, views out (pure, unit tested).

A run arrives as ``agent_event`` frames (AG-UI events numbered by ``seq``).  :class:`RunBoard`
keeps each run's events in order and turns them into a :class:`RunView`: a one-line summary
("3 steps · 2 tool calls · 4.2 s") and the lines it opens to (every step and tool call with its
arguments, result, status and duration; reasoning folded as "Thought for 3 s").  Approval
requests become :class:`ApprovalView` cards that know whether *this* person may decide, and
say who else is awaited ("Waiting for approval from developers (1 of 2)").

A run's answer text is not shown here: it is the agent's message (streamed, then stored).
"""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = [
    "RESULT_PREVIEW_LINES",
    "ApprovalView",
    "RunBoard",
    "RunItem",
    "RunView",
    "build_view",
    "duration_label",
    "pretty",
]

RESULT_PREVIEW_LINES = 6
RESULT_PREVIEW_CHARS = 600
MAX_RUNS = 60
"""Runs kept in a browser session (the live ones and the most recently opened)."""
MAX_CLOSED_APPROVALS = 20
_RANK = {"viewer": 0, "agent": 0, "developer": 1, "admin": 2}


@dataclasses.dataclass
class RunItem:
    """One line of a run's details: a step, a tool call or a reasoning block."""

    key: str = ""
    kind: str = "step"
    """``step``, ``tool`` or ``reasoning``."""
    title: str = ""
    status: str = "running"
    """``running``, ``done``, ``waiting`` (for an approval), ``skipped`` or ``error``."""
    status_label: str = ""
    duration: str = ""
    depth: int = 0
    args: str = ""
    result: str = ""
    result_preview: str = ""
    result_folded: bool = False
    text: str = ""
    approval_id: str = ""


@dataclasses.dataclass
class RunView:
    run_id: str = ""
    agent: str = ""
    reply_to: int = 0
    room_id: str = "general"
    status: str = "running"
    """``queued``, ``running``, ``done``, ``cancelled`` or ``error``."""
    summary: str = ""
    error: str = ""
    lines: list[RunItem] = dataclasses.field(default_factory=list)
    """What the summary opens to (not ``items``: Reflex object vars have an ``items()``)."""
    queued_position: int = 0
    answered: bool = False
    """Its agent's answer (an ``agent_response`` naming the run) is in the log: it shows there."""


@dataclasses.dataclass
class ApprovalView:
    approval_id: str = ""
    run_id: str = ""
    room_id: str = "general"
    tool: str = ""
    args: str = ""
    reason: str = ""
    requested_by: str = ""
    status: str = "pending"
    """``pending``, then ``approved``, ``denied``, ``expired`` or ``cancelled``."""
    can_decide: bool = False
    waiting_text: str = ""
    outcome_text: str = ""
    expires_at: str = ""


def pretty(value: Any) -> str:
    """JSON indented for reading; a string that holds JSON is shown as that JSON."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        if not isinstance(parsed, (dict, list)):
            return value
        value = parsed
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
    except (TypeError, ValueError):
        return str(value)


def duration_label(start_ms: int | None, end_ms: int | None) -> str:
    if start_ms is None or end_ms is None or end_ms < start_ms:
        return ""
    seconds = (end_ms - start_ms) / 1000
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _fold(text: str) -> tuple[str, bool]:
    lines = text.splitlines()
    if len(lines) <= RESULT_PREVIEW_LINES and len(text) <= RESULT_PREVIEW_CHARS:
        return text, False
    preview = "\n".join(lines[:RESULT_PREVIEW_LINES])[:RESULT_PREVIEW_CHARS]
    return preview + "\n…", True


def build_view(run_id: str, head: dict[str, Any], events: list[dict[str, Any]], approvals: dict[str, str]) -> RunView:
    """A run's view from its events in order; ``approvals`` maps tool call id -> approval id
    of the requests still pending (those tool calls show "waiting for approval")."""
    view = RunView(run_id, str(head.get("agent") or ""), int(head.get("replyTo") or 0),
                   str(head.get("roomId") or "general"))
    items: list[RunItem] = []
    steps: dict[str, RunItem] = {}
    step_started: dict[str, int | None] = {}
    calls: dict[str, RunItem] = {}
    call_started: dict[str, int | None] = {}
    reasoning: dict[str, RunItem] = {}
    reasoning_started: dict[str, int | None] = {}
    open_steps: list[str] = []
    first = last = None
    for event in events:
        kind = event.get("type")
        when = event.get("timestamp") if isinstance(event.get("timestamp"), int) else None
        if when is not None:
            first = when if first is None else first
            last = when
        if kind == "STEP_STARTED":
            name = str(event.get("stepName"))
            item = RunItem(key=f"s{len(items)}", kind="step", title=name, status="running", status_label="running…",
                           depth=len(open_steps))
            items.append(item)
            steps[name], step_started[name] = item, when
            open_steps.append(name)
        elif kind == "STEP_FINISHED":
            name = str(event.get("stepName"))
            if name in steps:
                steps[name].status, steps[name].status_label = "done", "done"
                steps[name].duration = duration_label(step_started.get(name), when)
            if name in open_steps:
                open_steps.remove(name)
        elif kind == "TOOL_CALL_START":
            call_id = str(event.get("toolCallId"))
            item = RunItem(key=f"t{call_id}", kind="tool", title=str(event.get("toolCallName")), status="running",
                           status_label="running…", depth=len(open_steps))
            items.append(item)
            calls[call_id], call_started[call_id] = item, when
        elif kind == "TOOL_CALL_ARGS":
            found = calls.get(str(event.get("toolCallId")))
            if found is not None:
                found.args += str(event.get("delta") or "")
        elif kind == "TOOL_CALL_END":
            found = calls.get(str(event.get("toolCallId")))
            if found is not None:
                found.args = pretty(found.args) if found.args else "{}"
        elif kind == "TOOL_CALL_RESULT":
            call_id = str(event.get("toolCallId"))
            found = calls.get(call_id)
            if found is not None:
                content = event.get("content")
                text = content if isinstance(content, str) else pretty(content)
                if text.startswith("I did not run "):
                    found.status, found.status_label = "skipped", "not run"
                elif text.startswith("Error: "):
                    found.status, found.status_label = "error", "failed"
                else:
                    found.status, found.status_label = "done", "done"
                found.result = pretty(text)
                found.result_preview, found.result_folded = _fold(found.result)
                found.duration = duration_label(call_started.get(call_id), when)
        elif kind in ("REASONING_START", "REASONING_MESSAGE_START"):
            block = str(event.get("messageId"))
            if kind == "REASONING_START" or not reasoning:
                item = RunItem(key=f"r{block}", kind="reasoning", title="Thinking…", status="running",
                               depth=len(open_steps))
                items.append(item)
                reasoning[block], reasoning_started[block] = item, when
            else:
                reasoning[block] = list(reasoning.values())[-1]
        elif kind == "REASONING_MESSAGE_CONTENT":
            found = reasoning.get(str(event.get("messageId")))
            if found is not None:
                found.text += str(event.get("delta") or "")
        elif kind == "REASONING_END":
            block = str(event.get("messageId"))
            found = reasoning.get(block)
            if found is not None:
                label = duration_label(reasoning_started.get(block), when)
                found.status, found.title = "done", f"Thought for {label}" if label else "Thought"
        elif kind == "RUN_FINISHED":
            outcome: dict[str, Any] = event["outcome"] if isinstance(event.get("outcome"), dict) else {}
            view.status = "cancelled" if outcome.get("type") == "cancelled" else "done"
        elif kind == "RUN_ERROR":
            view.status, view.error = "error", str(event.get("message") or "")
    for call_id, approval_id in approvals.items():
        waiting = calls.get(call_id)
        if waiting is not None and waiting.status == "running":
            waiting.status, waiting.status_label, waiting.approval_id = "waiting", "waiting for approval", approval_id
    if view.status in ("cancelled", "error"):
        for item in items:
            if item.status in ("running", "waiting"):
                item.status, item.status_label = "skipped", "stopped" if view.status == "cancelled" else "not finished"
    step_count = sum(1 for i in items if i.kind == "step")
    call_count = sum(1 for i in items if i.kind == "tool")
    parts = [p for p in (_plural(step_count, "step") if step_count else "",
                         _plural(call_count, "tool call") if call_count else "") if p]
    if view.status == "running":
        parts.append("working…")
    else:
        took = duration_label(first, last)
        if took:
            parts.append(took)
        if view.status == "cancelled":
            parts.append("stopped")
        elif view.status == "error":
            parts.append("failed")
    view.summary = " · ".join(parts) or "no steps"
    view.lines = items
    return view


@dataclasses.dataclass
class _Run:
    head: dict[str, Any]
    events: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    last_seq: int = 0
    queued_position: int = 0
    answered: bool = False
    view: RunView | None = None


class RunBoard:
    """The runs and approvals one browser session knows, kept from frames."""

    def __init__(self, me: str, role: Callable[[], str], limit: int = MAX_RUNS) -> None:
        self.me = me
        self._role = role
        self.limit = limit
        self._runs: OrderedDict[str, _Run] = OrderedDict()
        self._approvals: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.missing: dict[str, int] = {}
        """Runs with a gap: run id -> the last seq held (ask ``run_subscribe`` for the rest)."""

    # frames in ---------------------------------------------------------------------------
    def on_event(self, data: dict[str, Any]) -> bool:
        """An ``agent_event``; True when what the board shows changed."""
        run_id, seq, event = data.get("runId"), data.get("seq"), data.get("event")
        if not isinstance(run_id, str) or not isinstance(seq, int) or not isinstance(event, dict):
            return False
        run = self._runs.get(run_id)
        if run is None:
            run = self._runs[run_id] = _Run(dict(data))
            self._trim()
        if seq <= run.last_seq:
            return False  # a repeat (a replay overlapping what arrived live)
        if seq != run.last_seq + 1:
            self.missing[run_id] = run.last_seq
            return False
        run.events.append(event)
        run.last_seq = seq
        run.queued_position = 0
        self.missing.pop(run_id, None)
        run.view = None
        return event.get("type") not in ("TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END")

    def on_queued(self, data: dict[str, Any]) -> bool:
        run_id = data.get("runId")
        if not isinstance(run_id, str) or (run_id in self._runs and self._runs[run_id].events):
            return False
        run = self._runs.setdefault(run_id, _Run(dict(data)))
        run.queued_position = int(data.get("position") or 1)
        run.view = None
        self._trim()
        return True

    def on_answer(self, data: dict[str, Any]) -> bool:
        """An ``agent_response``: a run it names shows under it from now on."""
        run_id = data.get("runId")
        run = self._runs.get(run_id) if isinstance(run_id, str) else None
        if run is None or run.answered:
            return False
        run.answered = True
        run.view = None
        return True

    def on_approval(self, data: dict[str, Any]) -> bool:
        approval_id = data.get("approvalId")
        if not isinstance(approval_id, str):
            return False
        current = self._approvals.get(approval_id)
        if current is not None and current.get("status") != "pending":
            return False  # closed already (a late copy)
        self._approvals[approval_id] = dict(data)
        self._touch_run(data.get("runId"))
        return True

    def on_resolved(self, data: dict[str, Any]) -> bool:
        approval_id = data.get("approvalId")
        current = self._approvals.get(approval_id) if isinstance(approval_id, str) else None
        if current is None:
            return False
        current["status"] = str(data.get("outcome") or "cancelled")
        current["by"] = list(data.get("by") or ())
        self._touch_run(current.get("runId"))
        closed = [k for k, v in self._approvals.items() if v.get("status") != "pending"]
        for key in closed[:-MAX_CLOSED_APPROVALS]:
            del self._approvals[key]
        return True

    def _touch_run(self, run_id: Any) -> None:
        run = self._runs.get(run_id) if isinstance(run_id, str) else None
        if run is not None:
            run.view = None

    def _trim(self) -> None:
        while len(self._runs) > self.limit:
            for run_id, run in self._runs.items():
                if not self._in_progress(run):
                    del self._runs[run_id]
                    break
            else:
                self._runs.popitem(last=False)

    @staticmethod
    def _in_progress(run: _Run) -> bool:
        return run.queued_position > 0 or not run.events or run.events[-1].get("type") not in ("RUN_FINISHED", "RUN_ERROR")

    # views out ---------------------------------------------------------------------------
    def view(self, run_id: str) -> RunView | None:
        run = self._runs.get(run_id)
        if run is None:
            return None
        if run.view is None:
            if not run.events:
                run.view = RunView(run_id, str(run.head.get("agent") or ""), int(run.head.get("replyTo") or 0),
                                   str(run.head.get("roomId") or "general"), status="queued",
                                   summary=f"queued ({_ordinal(run.queued_position)} in line)")
            else:
                pending = {str(a.get("toolCallId")): k for k, a in self._approvals.items()
                           if a.get("runId") == run_id and a.get("status") == "pending"}
                run.view = build_view(run_id, run.head, run.events, pending)
            run.view.queued_position = run.queued_position
            run.view.answered = run.answered
        return run.view

    def views(self) -> dict[str, RunView]:
        return {run_id: view for run_id in self._runs if (view := self.view(run_id)) is not None}

    def live(self) -> list[RunView]:
        """Runs queued or in progress whose answer is not in the log yet: shown on their own."""
        out = []
        for run_id, run in self._runs.items():
            if not run.answered and self._in_progress(run):
                view = self.view(run_id)
                if view is not None:
                    out.append(view)
        return out

    def knows(self, run_id: str) -> bool:
        run = self._runs.get(run_id)
        return run is not None and bool(run.events) and run.events[0].get("type") == "RUN_STARTED"

    def approvals(self) -> list[ApprovalView]:
        return [self._approval_view(data) for data in self._approvals.values()]

    def _approval_view(self, data: dict[str, Any]) -> ApprovalView:
        status = str(data.get("status") or "pending")
        to: dict[str, Any] = data["to"] if isinstance(data.get("to"), dict) else {}
        approved = [str(n) for n in data.get("approvedBy") or ()]
        quorum = int(to.get("quorum") or 1) if not to.get("user") else 1
        audience = _audience(to)
        view = ApprovalView(
            approval_id=str(data.get("approvalId")), run_id=str(data.get("runId") or ""),
            room_id=str(data.get("roomId") or "general"), tool=str(data.get("tool") or ""),
            args=pretty(data.get("args") or {}), reason=str(data.get("reason") or ""),
            requested_by=str(data.get("requestedBy") or ""), status=status, expires_at=str(data.get("expiresAt") or ""),
        )
        if status == "pending":
            decided = self.me in approved or any(
                isinstance(d, dict) and d.get("by") == self.me for d in data.get("decisions") or ())
            view.can_decide = not decided and _may_decide(to, self.me, self._role())
            count = f" ({len(approved)} of {quorum})" if quorum > 1 else ""
            if decided:
                view.waiting_text = f"You approved; waiting for {audience}{count}"
            elif view.can_decide and to.get("user") == self.me:
                view.waiting_text = "Waiting for your decision"
            else:
                view.waiting_text = f"Waiting for approval from {audience}{count}"
        else:
            by = ", ".join(str(n) for n in data.get("by") or ())
            view.outcome_text = {
                "approved": f"Approved by {by}" if by else "Approved",
                "denied": f"Denied by {by}" if by else "Denied",
                "expired": "Expired: nobody decided in time",
                "cancelled": f"Cancelled by {by}" if by else "Cancelled",
            }.get(status, status)
        return view


def _audience(to: dict[str, Any]) -> str:
    if to.get("user"):
        return str(to["user"])
    if to.get("role"):
        return f"{to['role']}s"
    names = [str(n) for n in to.get("users") or ()]
    if len(names) <= 1:
        return names[0] if names else "someone"
    return ", ".join(names[:-1]) + " or " + names[-1]


def _may_decide(to: dict[str, Any], me: str, role: str) -> bool:
    rank = _RANK.get(role, 0)
    if rank == 0:
        return False
    if to.get("user"):
        return to["user"] == me
    if to.get("role"):
        return rank >= _RANK.get(str(to["role"]), 99)
    return me in (to.get("users") or ())


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
