"""Approvals of a run's tool calls: requested by the agent, decided by people, closed once.

Part of ``RunService`` (split out to keep each module about one thing): every change to an
approval is a compare-and-set in the store with its audit line, so a decision repeated, raced
or made on two processes closes it once and the tool runs at most once.  In-process agents await
the outcome (``wait_approval``); agents on a socket hear ``approval_resolved``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from agentchat_client.protocol import ErrorCode, MessageType, ProtocolError, Role, iso, server_frame, utc_now

from ..core.approvals import (
    Approval,
    ApprovalBook,
    Audience,
    cancel,
    decide,
    expire,
    new_approval_id,
    request_data,
    resolved_data,
)
from ..core.events import Event
from ..core.rooms import RoomDirectory
from ..store import AuditEntry, Store

if TYPE_CHECKING:
    from ..core.runs import RunBook

__all__ = ["ApprovalOutcomeInfo", "RunApprovals"]

log = logging.getLogger(__name__)
CAS_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class ApprovalOutcomeInfo:
    """How an approval closed, as an in-process agent learns it."""

    approval_id: str
    outcome: str
    by: tuple[str, ...]



class RunApprovals:
    """The approval half of ``RunService`` (which provides these attributes)."""

    store: Store
    rooms: RoomDirectory
    publish: Callable[[Event], None]
    spawn: Callable[..., Any]
    book: RunBook
    approvals: ApprovalBook
    _waiters: dict[str, asyncio.Future[ApprovalOutcomeInfo]]
    _timers: dict[str, asyncio.Task[Any]]

    # approvals -------------------------------------------------------------------------------
    async def request_approval(
        self, agent: str, run_id: str, tool_call_id: str, tool: str, args: dict[str, Any], reason: str | None,
        to: dict[str, Any], expires_in: float, *, wait: bool = False,
    ) -> Approval:
        """Mint (or find again) the approval for a tool call of ``agent``'s run and publish it.

        Asking again for the same tool call returns the same approval: pending, it is sent again
        to the agent; closed, its ``approval_resolved`` is (an agent that reconnects learns the
        outcome it missed)."""
        state = self.book.get(run_id)
        if state is None:
            known = await self.store.get_run(run_id)
            if known is None:
                raise ProtocolError(ErrorCode.NOT_FOUND, f"runId: there is no run {run_id}")
            if known.agent != agent:
                raise ProtocolError(ErrorCode.FORBIDDEN, f"runId: run {run_id} belongs to {known.agent}")
        else:
            state.check_sender(agent)
        existing = self.approvals.for_tool_call(run_id, tool_call_id)
        if existing is None and state is not None and not state.finished:
            if tool_call_id not in state.tools_open | state.tools_ended:
                raise ProtocolError(
                    ErrorCode.INVALID_MESSAGE,
                    f"toolCallId: run {run_id} has no tool call {tool_call_id!r} waiting to run (send TOOL_CALL_START first)",
                )
            now = utc_now()
            draft = Approval(
                new_approval_id(), run_id, tool_call_id, agent, tool, Audience.from_wire(to), now,
                now + timedelta(seconds=expires_in), args=args, reason=reason, reply_to=state.reply_to,
                room_id=state.room_id,
            )
            if wait:
                self._waiters[draft.approval_id] = asyncio.get_running_loop().create_future()
            stored = await self.store.add_approval(draft, self._audit(draft, "requested", agent, {
                "args": args, "reason": reason, "to": draft.audience.to_wire(), "expiresAt": iso(draft.expires_at)}))
            if stored.approval_id != draft.approval_id:
                self._waiters.pop(draft.approval_id, None)
            else:
                self._publish_pending(stored)
                return stored
            existing = stored
        if existing is None:
            existing = await self._stored_for(run_id, tool_call_id)
        if wait and existing.approval_id not in self._waiters:
            self._waiters[existing.approval_id] = asyncio.get_running_loop().create_future()
        self._repeat(existing)
        return existing

    async def _stored_for(self, run_id: str, tool_call_id: str) -> Approval:
        for approval in await self.store.pending_approvals():
            if approval.run_id == run_id and approval.tool_call_id == tool_call_id:
                return approval
        raise ProtocolError(ErrorCode.NOT_FOUND, f"Run {run_id} is finished and asked nothing for {tool_call_id!r}")

    def _repeat(self, approval: Approval) -> None:
        """Tell the agent again where its request stands."""
        if approval.pending:
            frame = server_frame(MessageType.APPROVAL_REQUEST, request_data(approval))
            self.publish(Event(MessageType.APPROVAL_REQUEST, frame, target_user=approval.agent, room=approval.room_id))
        else:
            data = resolved_data(approval)
            frame = server_frame(MessageType.APPROVAL_RESOLVED, data)
            self.publish(Event(MessageType.APPROVAL_RESOLVED, frame, target_user=approval.agent, room=approval.room_id,
                               _data=dict(data)))

    async def wait_approval(self, approval_id: str) -> ApprovalOutcomeInfo:
        """How the approval closed (for in-process agents, asked with ``wait=True``)."""
        future = self._waiters.get(approval_id)
        if future is None:
            stored = await self.store.get_approval(approval_id)
            if stored is None or stored.pending:
                raise RuntimeError(f"approval {approval_id} was not asked with wait=True")
            return ApprovalOutcomeInfo(approval_id, stored.status, stored.resolved_by)
        try:
            return await asyncio.shield(future)
        finally:
            if future.done():
                self._waiters.pop(approval_id, None)

    async def decide(self, user: str, role: Role, approval_id: str, decision: str) -> Approval:
        """``user`` approves or denies; the error they get otherwise (core rules)."""
        for _ in range(CAS_ATTEMPTS):
            current = await self.store.get_approval(approval_id)
            if current is None:
                raise ProtocolError(ErrorCode.NOT_FOUND, f"There is no approval {approval_id}")
            now = utc_now()
            if current.is_overdue(now):
                await self._close(current, expire(current, now), "server")
                raise ProtocolError(ErrorCode.CONFLICT, "This request has expired")
            self.rooms.require_member(current.room_id, user)
            changed = decide(current, user, role, decision, now)
            audit = [self._audit(changed, decision, user, {})]
            if not changed.pending:
                audit.append(self._audit(changed, changed.status, user, {"by": list(changed.resolved_by)}))
            if await self.store.update_approval(changed, current.version, audit):
                if changed.pending:
                    self._publish_pending(changed)
                else:
                    self._publish_resolved(changed)
                return changed
        raise ProtocolError(ErrorCode.CONFLICT, "Others are deciding this request right now; try again")

    async def agent_stopped(self, agent: str, by: str) -> None:
        """A person stopped ``agent``: its open approvals close (cancelled)."""
        for approval in self.approvals.of_agent(agent):
            await self._cancel(approval, by)

    async def _cancel(self, approval: Approval, by: str) -> None:
        for _ in range(CAS_ATTEMPTS):
            current = await self.store.get_approval(approval.approval_id)
            if current is None:
                return
            if not await self._close(current, cancel(current, by, utc_now()), by or "server"):
                if not (await self.store.get_approval(approval.approval_id) or current).pending:
                    return
                continue
            return

    async def _close(self, current: Approval, closed: Approval | None, actor: str) -> bool:
        if closed is None:
            return False
        line = self._audit(closed, closed.status, actor, {"by": list(closed.resolved_by)})
        if not await self.store.update_approval(closed, current.version, [line]):
            return False
        self._publish_resolved(closed)
        return True

    def _schedule_expiry(self, approval: Approval) -> None:
        async def expire_later() -> None:
            delay = (approval.expires_at - utc_now()).total_seconds()
            await asyncio.sleep(max(0.0, delay))
            for _ in range(CAS_ATTEMPTS):
                current = await self.store.get_approval(approval.approval_id)
                if current is None or not current.pending:
                    return
                if await self._close(current, expire(current, utc_now()), "server"):
                    return
                if current.is_overdue(utc_now()) is False:
                    return

        self._timers[approval.approval_id] = self.spawn(expire_later(), f"expire-{approval.approval_id}")

    def _publish_pending(self, approval: Approval) -> None:
        data = request_data(approval)
        frame = server_frame(MessageType.APPROVAL_REQUEST, data)
        self.publish(Event(MessageType.APPROVAL_REQUEST, frame, room=approval.room_id, _data=dict(data)))

    def _publish_resolved(self, approval: Approval) -> None:
        data = resolved_data(approval)
        frame = server_frame(MessageType.APPROVAL_RESOLVED, data)
        self.publish(Event(MessageType.APPROVAL_RESOLVED, frame, room=approval.room_id, _data=dict(data)))

    @staticmethod
    def _audit(approval: Approval, action: str, actor: str, detail: dict[str, Any]) -> AuditEntry:
        return AuditEntry(action, actor, approval.approval_id, approval.run_id, approval.agent, approval.tool,
                          approval.room_id, {"toolCallId": approval.tool_call_id, **detail}, utc_now())

