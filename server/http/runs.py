"""``GET /runs/{runId}/events``: any AG-UI client can watch a run, as Server-Sent Events.

One SSE event per AG-UI event: ``id:`` its ``seq``, ``data:`` the event JSON exactly as stored
and broadcast (``ag-ui-protocol``'s camelCase; compact JSON has no raw newline, so one ``data:``
line is enough).  ``Last-Event-ID`` resumes after that ``seq``; the stream ends after the run's
terminal event.  The events so far come first (from memory while the run is in progress, from
the database once it finished), then the live ones, with nothing missed or repeated between.

``Authorization: Bearer <token>`` (an access token, a development token or an agent key): 401
without a valid one; 404 for a run that does not exist or is in a room the caller may not read.
``ag_ui.encoder.EventEncoder`` cannot write ``id:`` lines, hence the few lines of framing here.

``GET /api/admin/approvals`` is the approvals audit log (admins only): every request, decision
and outcome, newest first, ``?before=<id>`` for older lines.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import orjson
from agentchat_client.protocol import RUN_ID_PATTERN, TERMINAL_EVENTS, ProtocolError, Role, iso
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ..accounts import AccountError, AccountService
from ..core.identity import Identity
from ..hub.runs import RunService
from ..store import AuditEntry, Store
from .api import error_response, json_response

__all__ = ["HEARTBEAT_SECONDS", "audit_line", "run_routes", "sse_event"]
AUDIT_PAGE = 100

HEARTBEAT_SECONDS = 15.0
"""A comment line this often keeps proxies from closing a quiet stream (a run waiting for approval)."""
_RUN_ID = re.compile(RUN_ID_PATTERN)


def sse_event(seq: int, event: dict[str, Any]) -> bytes:
    return b"id: %d\ndata: %s\n\n" % (seq, orjson.dumps(event))


def _last_event_id(request: Request) -> int | None:
    raw = request.headers.get("last-event-id", "").strip()
    if not raw:
        return 0
    return int(raw) if raw.isdigit() and len(raw) <= 16 else None


def audit_line(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": iso(entry.at), "action": entry.action, "actor": entry.actor,
            "approvalId": entry.approval_id, "runId": entry.run_id, "roomId": entry.room_id, "agent": entry.agent,
            "tool": entry.tool, "detail": entry.detail}


def run_routes(runs: RunService, accounts: AccountService, store: Store) -> list[Route]:
    async def caller(request: Request) -> Identity | Response:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return error_response(401, "unauthorized", "Send Authorization: Bearer <access token>.")
        try:
            return await accounts.authenticate(token.strip())
        except AccountError as exc:
            return error_response(401, "unauthorized", exc.message)

    async def audit(request: Request) -> Response:
        identity = await caller(request)
        if isinstance(identity, Response):
            return identity
        if identity.role is not Role.ADMIN:
            return error_response(403, "forbidden", "Only admins can read the approvals audit log.")
        before = request.query_params.get("before", "")
        limit = request.query_params.get("limit", str(AUDIT_PAGE))
        if (before and not before.isdigit()) or not limit.isdigit() or not 1 <= int(limit) <= 500:
            return error_response(400, "invalid_input", "before: a line id; limit: 1 to 500")
        lines = await store.audit_log(int(limit) + 1, int(before) if before else None)
        return json_response({"entries": [audit_line(e) for e in lines[:int(limit)]], "hasMore": len(lines) > int(limit)})

    async def run_events(request: Request) -> Response:
        identity = await caller(request)
        if isinstance(identity, Response):
            return identity
        run_id = request.path_params["run_id"]
        if not _RUN_ID.match(run_id):
            return error_response(404, "not_found", f"There is no run {run_id[:64]}")
        after = _last_event_id(request)
        if after is None:
            return error_response(400, "invalid_input", "Last-Event-ID: give the seq of the last event received")
        live = runs.listen(run_id)  # before the snapshot: nothing falls between the two
        try:
            frames, in_progress = await runs.replay(run_id, after, identity.user_id)
        except ProtocolError as exc:
            runs.unlisten(run_id, live)
            return error_response(404, "not_found", exc.message)
        return StreamingResponse(
            _stream(runs, run_id, frames, in_progress, live, after),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return [Route("/runs/{run_id:str}/events", run_events, methods=["GET"]),
            Route("/api/admin/approvals", audit, methods=["GET"])]


async def _stream(runs: RunService, run_id: str, frames: list[bytes], in_progress: bool,
                  live: asyncio.Queue[dict[str, Any]], after: int) -> AsyncIterator[bytes]:
    last = after
    try:
        for frame in frames:
            data = orjson.loads(frame)["data"]
            if data["seq"] <= last:
                continue
            last = data["seq"]
            yield sse_event(last, data["event"])
            if data["event"].get("type") in TERMINAL_EVENTS:
                return
        if not in_progress:
            return
        while True:
            try:
                data = await asyncio.wait_for(live.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            if data["seq"] <= last:
                continue  # already sent with the events so far
            last = data["seq"]
            yield sse_event(last, data["event"])
            if data["event"].get("type") in TERMINAL_EVENTS:
                return
    finally:
        runs.unlisten(run_id, live)
