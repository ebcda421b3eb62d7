"""The approvals audit log, as the /admin page reads it from the server (``GET /api/admin/approvals``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import companion

__all__ = ["AuditLine", "audit_log"]


@dataclass(frozen=True)
class AuditLine:
    id: int
    at: str
    action: str
    actor: str
    agent: str
    tool: str
    approval_id: str
    run_id: str
    room_id: str
    detail: dict[str, Any]


async def audit_log(token: str, before: int | None = None, limit: int = 50) -> tuple[list[AuditLine], bool]:
    """The newest lines (before line ``before``) and whether older ones exist."""
    params = {"limit": str(limit), **({"before": str(before)} if before else {})}
    body = await (await companion.api()).request("GET", "/api/admin/approvals", token=token, params=params)
    lines = [
        AuditLine(e["id"], e["at"], e["action"], e["actor"], e["agent"], e["tool"], e["approvalId"], e["runId"],
                  e["roomId"], dict(e.get("detail") or {}))
        for e in body["entries"]
    ]
    return lines, bool(body.get("hasMore"))
