"""What the chat screen shows of agent runs and approvals, and what a person does with them.

A Reflex state mixin of ``ChatState``: the views come from the session's ``RunBoard``
(``chat/runs.py``, pure) and are copied here when they change; the events send frames through
the session's bridge (``approval_decision``; ``run_subscribe`` to load an old message's steps).
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from agentchat_client.protocol import MessageType

from ..chat.runs import ApprovalView, RunView

__all__ = ["RunsMixin"]


class RunsMixin(rx.State, mixin=True):
    runs: dict[str, RunView] = {}
    """Every run the session knows, by id (a message names its run: ``message.run_id``)."""
    live_runs: list[RunView] = []
    """Runs queued or in progress whose answer is not in the log yet."""
    approvals: list[ApprovalView] = []
    loading_runs: list[str] = []

    def _copy_runs(self, session: Any, fields: set[str]) -> None:
        board = session.runs
        if "runs" in fields:
            self.runs = board.views()
            self.live_runs = [r for r in board.live() if r.room_id == session.room_id]  # the open room's
            self.loading_runs = [r for r in self.loading_runs if not board.knows(r)]
        if "approvals" in fields:
            self.approvals = [a for a in board.approvals() if a.room_id == session.room_id]

    async def _ask_for_missing(self, session: Any, bridge: Any) -> None:
        """A run with a gap (a frame lost while reconnecting): ask for the rest, once per gap."""
        for run_id, after in list(session.runs.missing.items()):
            session.runs.missing.pop(run_id, None)
            await bridge.send(MessageType.RUN_SUBSCRIBE, {"runId": run_id, "afterSeq": after})

    @rx.event
    async def decide_approval(self, approval_id: str, decision: str):
        bridge = self._bridge()  # type: ignore[attr-defined]
        if bridge is None or not await bridge.send(
            MessageType.APPROVAL_DECISION, {"approvalId": approval_id, "decision": decision}
        ):
            self.error = "Not connected; try again in a moment."  # type: ignore[has-type]

    @rx.event
    async def load_run(self, run_id: str):
        """An old message's steps, on demand: the run's events from the server."""
        bridge = self._bridge()  # type: ignore[attr-defined]
        if not run_id or run_id in self.loading_runs or bridge is None:
            return
        if bridge.session.runs.knows(run_id):
            return
        self.loading_runs = [*self.loading_runs, run_id]
        if not await bridge.send(MessageType.RUN_SUBSCRIBE, {"runId": run_id, "afterSeq": 0}):
            self.loading_runs = [r for r in self.loading_runs if r != run_id]
