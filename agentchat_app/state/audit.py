"""The approvals audit log on /admin: every request, decision and outcome (a mixin of ``AdminState``)."""

from __future__ import annotations

import dataclasses
import json

import reflex as rx

from ..services import audit
from ..services.api import ApiError

__all__ = ["AuditMixin", "AuditRow"]

_ACTIONS = {
    "requested": "asked",
    "approve": "approved (vote)",
    "deny": "denied (vote)",
    "approved": "closed: approved",
    "denied": "closed: denied",
    "expired": "closed: expired",
    "cancelled": "closed: cancelled",
}


@dataclasses.dataclass
class AuditRow:
    id: int = 0
    at: str = ""
    action: str = ""
    actor: str = ""
    agent: str = ""
    tool: str = ""
    approval_id: str = ""
    detail: str = ""


def _row(line: audit.AuditLine) -> AuditRow:
    detail = {k: v for k, v in line.detail.items() if k != "toolCallId"}
    return AuditRow(line.id, line.at.replace("T", " ")[:19] + " UTC", _ACTIONS.get(line.action, line.action),
                    line.actor, line.agent, line.tool, line.approval_id,
                    json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else "")


class AuditMixin(rx.State, mixin=True):
    audit: list[AuditRow] = []
    audit_more: bool = False
    audit_error: str = ""

    async def _refresh_audit(self, token: str) -> None:
        try:
            lines, more = await audit.audit_log(token)
        except ApiError as exc:
            self.audit_error = str(exc)
            return
        self.audit_error = ""
        self.audit = [_row(line) for line in lines]
        self.audit_more = more

    @rx.event
    async def older_audit(self):
        if not self.audit:
            return
        try:
            lines, more = await audit.audit_log(await self._token(), before=self.audit[-1].id)  # type: ignore[attr-defined]
        except ApiError as exc:
            self.audit_error = str(exc)
            return
        self.audit = [*self.audit, *(_row(line) for line in lines)]
        self.audit_more = more
