"""Runs, their events and approvals in SQL.

Run events are many (a streamed answer is dozens of them) and must never slow the chat: they are
queued without waiting and written by one writer task in batches, one transaction per batch, in
the order queued; each is broadcast only after its batch commits (``on_commit``), so a replay
from the database always holds everything anyone saw.  A failed batch is retried event by event.

Approvals are few and each change is a compare-and-set on ``version`` (with its audit lines, in
the same transaction): two decisions racing, on one process or several, cannot both close one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from agentchat_client.protocol import TERMINAL_EVENTS
from sqlalchemy import func, insert, select, update
from sqlmodel import Session

from ...core.approvals import Approval, Audience, Decision
from ...core.runs import run_outcome
from ..base import ApprovalStore, OnEventCommit, RunStore
from ..records import RUN_RUNNING, AuditEntry, Run, RunEvent
from ..tables import ApprovalAuditRow, ApprovalRow, RunEventRow, RunRow
from .database import Database

__all__ = ["SqlRuns"]

log = logging.getLogger(__name__)
BATCH_MAX = 1024
_RUNS = RunRow.__table__  # type: ignore[attr-defined]
_EVENTS = RunEventRow.__table__  # type: ignore[attr-defined]
_APPROVALS = ApprovalRow.__table__  # type: ignore[attr-defined]
_AUDIT = ApprovalAuditRow.__table__  # type: ignore[attr-defined]
Pending = tuple[Run, RunEvent, OnEventCommit | None, "asyncio.Future[bool]"]


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything here is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _write_events(session: Session, batch: list[Pending]) -> None:
    starts = [run for run, event, _, _ in batch if event.seq == 1]
    if starts:
        session.execute(insert(_RUNS), [
            {"run_id": r.run_id, "room_id": r.room_id, "agent": r.agent, "reply_to": r.reply_to,
             "thread_id": r.thread_id, "status": RUN_RUNNING,
             "started_at": r.started_at, "finished_at": None, "last_seq": 0}
            for r in starts
        ])
    session.execute(insert(_EVENTS), [
        {"run_id": e.run_id, "seq": e.seq, "type": e.type, "event": orjson.dumps(e.event).decode(),
         "created_at": e.created_at}
        for _, e, _, _ in batch
    ])
    for _, event, _, _ in batch:
        if event.type in TERMINAL_EVENTS:
            session.execute(
                update(_RUNS).where(_RUNS.c.run_id == event.run_id)
                .values(status=run_outcome(event.event), finished_at=event.created_at, last_seq=event.seq)
            )


def _run(row: Any, last_seq: int | None = None) -> Run:
    return Run(row.run_id, row.agent, row.room_id, row.reply_to, row.thread_id, row.status,
               _aware(row.started_at), _aware(row.finished_at),  # type: ignore[arg-type]
               last_seq if last_seq is not None else row.last_seq)


def _event(row: Any) -> RunEvent:
    return RunEvent(row.run_id, row.seq, orjson.loads(row.event), _aware(row.created_at))  # type: ignore[arg-type]


def _approval_values(a: Approval) -> dict[str, Any]:
    return {
        "approval_id": a.approval_id, "run_id": a.run_id, "tool_call_id": a.tool_call_id, "room_id": a.room_id,
        "agent": a.agent, "tool": a.tool, "args": a.args, "reason": a.reason, "audience": a.audience.to_wire(),
        "reply_to": a.reply_to, "status": a.status,
        "decisions": [{"by": d.by, "decision": d.decision, "at": d.at.isoformat()} for d in a.decisions],
        "requested_at": a.requested_at, "expires_at": a.expires_at, "resolved_at": a.resolved_at,
        "resolved_by": list(a.resolved_by), "version": a.version,
    }


def _approval(row: Any) -> Approval:
    return Approval(
        approval_id=row.approval_id, run_id=row.run_id, tool_call_id=row.tool_call_id, agent=row.agent,
        tool=row.tool, audience=Audience.from_wire(row.audience), requested_at=_aware(row.requested_at),  # type: ignore[arg-type]
        expires_at=_aware(row.expires_at), args=dict(row.args or {}), reason=row.reason,  # type: ignore[arg-type]
        reply_to=row.reply_to, room_id=row.room_id, status=row.status,
        decisions=tuple(Decision(d["by"], d["decision"], datetime.fromisoformat(d["at"])) for d in row.decisions or ()),
        resolved_at=_aware(row.resolved_at), resolved_by=tuple(row.resolved_by or ()), version=row.version,
    )


def _audit_values(entry: AuditEntry) -> dict[str, Any]:
    return {"at": entry.at, "action": entry.action, "actor": entry.actor, "approval_id": entry.approval_id,
            "run_id": entry.run_id, "room_id": entry.room_id, "agent": entry.agent, "tool": entry.tool,
            "detail": entry.detail}


def _audit(row: Any) -> AuditEntry:
    return AuditEntry(row.action, row.actor, row.approval_id, row.run_id, row.agent, row.tool, row.room_id,
                      dict(row.detail or {}), _aware(row.at), row.id)  # type: ignore[arg-type]


class SqlRuns(RunStore, ApprovalStore):
    db: Database
    _run_queue: list[Pending]
    _run_wakeup: asyncio.Event | None
    _run_in_flight: bool

    # the event writer --------------------------------------------------------------------
    def _start_run_writer(self) -> asyncio.Task[None]:
        self._run_queue = []
        self._run_in_flight = False
        self._run_wakeup = asyncio.Event()
        return asyncio.create_task(self._run_write_loop(), name="run-event-writer")

    def queue_run_event(self, run: Run, event: RunEvent, on_commit: OnEventCommit | None = None) -> asyncio.Future[bool]:
        if self._run_wakeup is None:
            raise RuntimeError("store is not started")
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._run_queue.append((run, event, on_commit, future))
        self._run_wakeup.set()
        return future

    async def _flush_runs(self) -> None:
        while self._run_queue or self._run_in_flight:
            await asyncio.sleep(0.005)

    async def _run_write_loop(self) -> None:
        assert self._run_wakeup is not None
        while True:
            await self._run_wakeup.wait()
            self._run_wakeup.clear()
            while self._run_queue:
                batch, self._run_queue = self._run_queue[:BATCH_MAX], self._run_queue[BATCH_MAX:]
                self._run_in_flight = True
                try:
                    await self._commit_events(batch)
                finally:
                    self._run_in_flight = False

    async def _commit_events(self, batch: list[Pending]) -> None:
        try:
            await self.db.write(lambda s: _write_events(s, batch))
        except Exception:
            if len(batch) == 1:
                run, event, _, future = batch[0]
                log.exception("could not store event %d of run %s (%s)", event.seq, run.run_id, event.type)
                if not future.done():
                    future.set_result(False)
                return
            log.warning("a batch of %d run events failed; storing them one by one", len(batch), exc_info=True)
            for item in batch:
                await self._commit_events([item])
            return
        with self.announce_scope():
            for run, event, on_commit, future in batch:
                if event.type in TERMINAL_EVENTS:
                    run.status, run.finished_at = run_outcome(event.event), event.created_at
                run.last_seq = max(run.last_seq, event.seq)
                if on_commit is not None:
                    try:
                        on_commit(run, event)
                    except Exception:
                        log.exception("on_commit callback failed for run %s", run.run_id)
                if not future.done():
                    future.set_result(True)

    # run reads -----------------------------------------------------------------------------
    async def get_run(self, run_id: str) -> Run | None:
        def work(s: Session) -> Run | None:
            row = s.execute(select(_RUNS).where(_RUNS.c.run_id == run_id)).first()
            if row is None:
                return None
            last = s.execute(select(func.max(_EVENTS.c.seq)).where(_EVENTS.c.run_id == run_id)).scalar() or 0
            return _run(row, last)

        return await self.db.read(work)

    async def run_events(self, run_id: str, after_seq: int = 0, limit: int | None = None) -> list[RunEvent]:
        query = select(_EVENTS).where(_EVENTS.c.run_id == run_id, _EVENTS.c.seq > after_seq).order_by(_EVENTS.c.seq)
        if limit is not None:
            query = query.limit(limit)
        return await self.db.read(lambda s: [_event(r) for r in s.execute(query)])

    async def runs_in_progress(self) -> list[Run]:
        def work(s: Session) -> list[Run]:
            rows = s.execute(select(_RUNS).where(_RUNS.c.status == RUN_RUNNING).order_by(_RUNS.c.started_at)).all()
            out = []
            for row in rows:
                last = s.execute(select(func.max(_EVENTS.c.seq)).where(_EVENTS.c.run_id == row.run_id)).scalar() or 0
                out.append(_run(row, last))
            return out

        return await self.db.read(work)

    # approvals -----------------------------------------------------------------------------
    async def add_approval(self, approval: Approval, audit: AuditEntry) -> Approval:
        def work(s: Session) -> Approval:
            found = s.execute(select(_APPROVALS).where(
                _APPROVALS.c.run_id == approval.run_id, _APPROVALS.c.tool_call_id == approval.tool_call_id)).first()
            if found is not None:
                return _approval(found)
            s.execute(insert(_APPROVALS), [_approval_values(approval)])
            s.execute(insert(_AUDIT), [_audit_values(audit)])
            return approval

        return await self.db.write(work)

    async def get_approval(self, approval_id: str) -> Approval | None:
        query = select(_APPROVALS).where(_APPROVALS.c.approval_id == approval_id)

        def work(s: Session) -> Approval | None:
            row = s.execute(query).first()
            return _approval(row) if row is not None else None

        return await self.db.read(work)

    async def update_approval(self, approval: Approval, expected_version: int, audit: Iterable[AuditEntry]) -> bool:
        values = _approval_values(approval)
        del values["approval_id"]
        lines = [_audit_values(e) for e in audit]

        def work(s: Session) -> bool:
            result = s.execute(
                update(_APPROVALS)
                .where(_APPROVALS.c.approval_id == approval.approval_id, _APPROVALS.c.version == expected_version)
                .values(**values)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return False
            if lines:
                s.execute(insert(_AUDIT), lines)
            return True

        return await self.db.write(work)

    async def pending_approvals(self) -> list[Approval]:
        query = select(_APPROVALS).where(_APPROVALS.c.status == "pending").order_by(_APPROVALS.c.requested_at)
        return await self.db.read(lambda s: [_approval(r) for r in s.execute(query)])

    async def audit_log(self, limit: int = 100, before_id: int | None = None) -> list[AuditEntry]:
        query = select(_AUDIT).order_by(_AUDIT.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(_AUDIT.c.id < before_id)
        return await self.db.read(lambda s: [_audit(r) for r in s.execute(query)])
