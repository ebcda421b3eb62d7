"""In-process agents' runs: the run API's events go straight to the hub's ``RunService``.

The run API itself (steps, tool calls with policies and approvals, streamed text, reasoning,
usage) is ``agentchat_client.runs``, shared with out-of-process agents; this is only its sink.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentchat_client.runs import ApprovalResult, Run, ToolCall

if TYPE_CHECKING:
    from ..hub import Hub

__all__ = ["HubRunSink"]


class HubRunSink:
    """Emits on the hub of this process: no socket, same checks as for agents on a socket."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def emit(self, run: Run, event: dict[str, Any]) -> None:
        await self.hub.runs.emit(run.agent, run.run_id, event, reply_to=run.reply_to, room_id=run.room_id,
                                 thread_id=run.thread_id)

    async def request_approval(self, run: Run, call: ToolCall, args: Mapping[str, Any], reason: str | None,
                               to: Mapping[str, Any], expires_in: float) -> ApprovalResult:
        runs = self.hub.runs
        approval = await runs.request_approval(run.agent, run.run_id, call.call_id, call.name, dict(args), reason,
                                               dict(to), expires_in, wait=True)
        outcome = await runs.wait_approval(approval.approval_id)
        return ApprovalResult(outcome.approval_id, outcome.outcome, outcome.by)
