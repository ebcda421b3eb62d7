"""Approvals that belong to the room: who may decide, how decisions add up, when one expires.

An agent asks before a tool call; the request names its deciders (:class:`Audience`): one
person, everyone with a role (``developer`` includes admins), or named people, with a quorum
of *different* people.  Viewers and agents never decide.  The rules, all pure:

- approved once ``quorum`` different addressed people approved;
- denied as soon as one addressed person denies (a veto: one "no" is enough to skip a tool);
- expired when ``expires_at`` passes first; cancelled when its agent is stopped;
- each person decides once; a closed approval takes no more decisions (``CONFLICT``).

The service stores every change with a compare-and-set on ``version``, so two processes (or two
people at once) can never both close it: the tool runs at most once.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from agentchat_client.protocol import (
    ApprovalOutcome,
    ApprovalRequest,
    ApprovalResolved,
    ErrorCode,
    ProtocolError,
    Role,
    iso,
)

__all__ = [
    "PENDING",
    "Approval",
    "ApprovalBook",
    "Audience",
    "Decision",
    "cancel",
    "decide",
    "expire",
    "from_request_data",
    "new_approval_id",
    "request_data",
    "resolved_data",
]

PENDING = "pending"
_RANK = {Role.VIEWER: 0, Role.AGENT: 0, Role.DEVELOPER: 1, Role.ADMIN: 2}


def new_approval_id() -> str:
    return "ap-" + secrets.token_hex(8)


@dataclass(frozen=True, slots=True)
class Audience:
    """Who decides: ``user``, or ``role`` (+ quorum), or ``users`` (+ quorum)."""

    user: str | None = None
    role: str | None = None
    users: tuple[str, ...] = ()
    quorum: int = 1

    @classmethod
    def from_wire(cls, to: dict[str, Any]) -> Audience:
        if to.get("user"):
            return cls(user=str(to["user"]))
        if to.get("role"):
            return cls(role=str(to["role"]), quorum=int(to.get("quorum", 1)))
        users = tuple(str(u) for u in to.get("users") or ())
        if not users:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, "to: name a user, a role or users")
        return cls(users=users, quorum=int(to.get("quorum", 1)))

    def to_wire(self) -> dict[str, Any]:
        if self.user:
            return {"user": self.user}
        if self.role:
            return {"role": self.role, "quorum": self.quorum}
        return {"users": list(self.users), "quorum": self.quorum}

    def may_decide(self, user: str, role: Role) -> bool:
        if _RANK.get(role, 0) == 0:
            return False  # viewers and agents never decide
        if self.user:
            return user == self.user
        if self.role:
            return _RANK[role] >= _RANK.get(Role(self.role), 99)
        return user in self.users

    def describe(self) -> str:
        """``alice``, ``developers``, ``alice, bob or carol``: for error messages and cards."""
        if self.user:
            return self.user
        if self.role:
            return f"{self.role}s"
        names = list(self.users)
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


@dataclass(frozen=True, slots=True)
class Decision:
    by: str
    decision: str  # "approve" | "deny"
    at: datetime


@dataclass(frozen=True, slots=True)
class Approval:
    approval_id: str
    run_id: str
    tool_call_id: str
    agent: str
    tool: str
    audience: Audience
    requested_at: datetime
    expires_at: datetime
    args: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    reply_to: int | None = None
    room_id: str = "general"
    status: str = PENDING
    decisions: tuple[Decision, ...] = ()
    resolved_at: datetime | None = None
    resolved_by: tuple[str, ...] = ()
    version: int = 0

    @property
    def pending(self) -> bool:
        return self.status == PENDING

    @property
    def approved_by(self) -> list[str]:
        return [d.by for d in self.decisions if d.decision == "approve"]

    @property
    def expires_in_seconds(self) -> float:
        return max(0.0, (self.expires_at - self.requested_at).total_seconds())

    def is_overdue(self, now: datetime) -> bool:
        return self.pending and now >= self.expires_at

    def _closed(self, outcome: ApprovalOutcome, by: Iterable[str], now: datetime, **changes: Any) -> Approval:
        return replace(self, status=outcome.value, resolved_at=now, resolved_by=tuple(by), version=self.version + 1,
                       **changes)


def decide(approval: Approval, user: str, role: Role, decision: str, now: datetime) -> Approval:
    """``approval`` after ``user`` decides, or the error they get.  Overdue approvals are for
    :func:`expire` first (the caller checks :meth:`Approval.is_overdue`)."""
    if not approval.pending:
        raise ProtocolError(ErrorCode.CONFLICT, f"This request was already closed ({approval.status})")
    if approval.is_overdue(now):
        raise ProtocolError(ErrorCode.CONFLICT, "This request has expired")
    if role is Role.VIEWER:
        raise ProtocolError(ErrorCode.FORBIDDEN, "Viewers may not decide approvals")
    if not approval.audience.may_decide(user, role):
        raise ProtocolError(ErrorCode.FORBIDDEN, f"This request is for {approval.audience.describe()}")
    if any(d.by == user for d in approval.decisions):
        earlier = next(d.decision for d in approval.decisions if d.by == user)
        raise ProtocolError(ErrorCode.CONFLICT, f"You already {'approved' if earlier == 'approve' else 'denied'} this request")
    decisions = (*approval.decisions, Decision(user, decision, now))
    if decision == "deny":
        return approval._closed(ApprovalOutcome.DENIED, [user], now, decisions=decisions)
    approvers = [d.by for d in decisions if d.decision == "approve"]
    if len(approvers) >= approval.audience.quorum:
        return approval._closed(ApprovalOutcome.APPROVED, approvers, now, decisions=decisions)
    return replace(approval, decisions=decisions, version=approval.version + 1)


def expire(approval: Approval, now: datetime) -> Approval | None:
    """The expired approval, or None when it is not overdue (or no longer pending)."""
    if not approval.is_overdue(now):
        return None
    return approval._closed(ApprovalOutcome.EXPIRED, [], now)


def cancel(approval: Approval, by: str, now: datetime) -> Approval | None:
    """The approval closed because its agent was stopped (or its run ended); None if not pending."""
    if not approval.pending:
        return None
    return approval._closed(ApprovalOutcome.CANCELLED, [by] if by else [], now)


class ApprovalBook:
    """The pending approvals this process knows of (kept from delivered events and the store),
    with their latest ``approval_request`` frame: re-sent to people when they (re)connect."""

    def __init__(self) -> None:
        self._pending: dict[str, tuple[Approval, bytes]] = {}

    def __contains__(self, approval_id: object) -> bool:
        return approval_id in self._pending

    def __len__(self) -> int:
        return len(self._pending)

    def get(self, approval_id: str) -> Approval | None:
        found = self._pending.get(approval_id)
        return found[0] if found else None

    def opened(self, approval: Approval, frame: bytes) -> None:
        current = self._pending.get(approval.approval_id)
        if current is None or current[0].version <= approval.version:
            self._pending[approval.approval_id] = (approval, frame)

    def closed(self, approval_id: str) -> Approval | None:
        found = self._pending.pop(approval_id, None)
        return found[0] if found else None

    def frames(self) -> list[tuple[str, bytes]]:
        """The pending requests, oldest first, each with its room."""
        ordered = sorted(self._pending.values(), key=lambda p: p[0].requested_at)
        return [(approval.room_id, frame) for approval, frame in ordered]

    def of_run(self, run_id: str) -> list[Approval]:
        return [a for a, _ in self._pending.values() if a.run_id == run_id]

    def of_agent(self, agent: str) -> list[Approval]:
        return [a for a, _ in self._pending.values() if a.agent == agent]

    def for_tool_call(self, run_id: str, tool_call_id: str) -> Approval | None:
        for approval, _ in self._pending.values():
            if approval.run_id == run_id and approval.tool_call_id == tool_call_id:
                return approval
        return None

    def all(self) -> list[Approval]:
        return [a for a, _ in self._pending.values()]


# --- on the wire -----------------------------------------------------------------------------


def request_data(approval: Approval) -> ApprovalRequest:
    """The ``approval_request`` everyone receives (again after each decision, while pending)."""
    return {
        "approvalId": approval.approval_id,
        "runId": approval.run_id,
        "roomId": approval.room_id,
        "toolCallId": approval.tool_call_id,
        "tool": approval.tool,
        "args": approval.args,
        "reason": approval.reason,
        "to": approval.audience.to_wire(),
        "requestedBy": approval.agent,
        "replyTo": approval.reply_to,
        "expiresAt": iso(approval.expires_at),
        "expiresInSeconds": approval.expires_in_seconds,
        "status": "pending",
        "approvedBy": approval.approved_by,
        "decisions": [{"by": d.by, "decision": d.decision, "at": iso(d.at)} for d in approval.decisions],  # type: ignore[typeddict-item]
        "timestamp": iso(approval.requested_at),
    }


def resolved_data(approval: Approval) -> ApprovalResolved:
    return {
        "approvalId": approval.approval_id,
        "runId": approval.run_id,
        "roomId": approval.room_id,
        "toolCallId": approval.tool_call_id,
        "outcome": approval.status,  # type: ignore[typeddict-item]
        "by": list(approval.resolved_by),
        "timestamp": iso(approval.resolved_at),
    }


def _when(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def from_request_data(data: dict[str, Any]) -> Approval:
    """An ``approval_request`` as delivered (from any process), back into an :class:`Approval`."""
    requested = _when(data["timestamp"])
    return Approval(
        approval_id=data["approvalId"], run_id=data["runId"], tool_call_id=data["toolCallId"],
        agent=data["requestedBy"], tool=data["tool"], audience=Audience.from_wire(data["to"]),
        requested_at=requested, expires_at=_when(data["expiresAt"]), args=dict(data.get("args") or {}),
        reason=data.get("reason"), reply_to=data.get("replyTo"), room_id=data.get("roomId") or "general",
        decisions=tuple(Decision(d["by"], d["decision"], _when(d["at"])) for d in data.get("decisions") or ()),
        version=len(data.get("decisions") or ()),
    )
