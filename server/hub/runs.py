"""``RunService``: agent runs and approvals, for agents' frames, in-process agents and HTTP watchers.

The rules are the core's (``core.runs``: what a run may emit, numbered how; ``core.approvals``:
who decides, how decisions add up).  This layer gathers the facts they need (the store, the
time), stores what happened and publishes it through the fan-out:

- every accepted event is queued for the store at once and broadcast when its batch commits, so
  emitting never waits for the database and a replay holds everything anyone saw;
- an approval change is a compare-and-set in the store (with its audit line), so a decision
  repeated, raced or made on two processes closes an approval once and a tool runs at most once;
- in-process agents await outcomes here (``wait_approval``); agents on a socket hear
  ``approval_resolved``; SSE watchers ``listen`` to one run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from agentchat_client.protocol import (
    TERMINAL_EVENTS,
    AgentEventEnvelope,
    ErrorCode,
    EventType,
    MessageType,
    ProtocolError,
    RunQueued,
    iso,
    server_frame,
    utc_now,
)

from ..core.approvals import (
    ApprovalBook,
    from_request_data,
    request_data,
)
from ..core.events import Event
from ..core.rooms import RoomDirectory
from ..core.runs import DEFAULT_ROOM, RunBook, RunState
from ..store import Run, RunEvent, Store
from .approvals import ApprovalOutcomeInfo, RunApprovals

__all__ = ["ApprovalOutcomeInfo", "RunService", "agent_event_frame"]

log = logging.getLogger(__name__)

Spawn = Callable[[Awaitable[Any], str], "asyncio.Task[Any]"]
Publish = Callable[[Event], None]
CheckReplyTo = Callable[[int | None, str], Awaitable[None]]
CheckThread = Callable[[int | None, str], Awaitable[None]]
Stream = Callable[[str, str, str, int | None, str, int | None], None]
CAS_ATTEMPTS = 8
ORPHAN_GRACE_SECONDS = 60.0
"""A run whose agent stays offline this long is closed with RUN_ERROR (it cannot finish it)."""


def now_ms() -> int:
    return int(time.time() * 1000)


def agent_event_frame(run: Run | RunState, seq: int, event: dict[str, Any]) -> tuple[AgentEventEnvelope, bytes]:
    data: AgentEventEnvelope = {"runId": run.run_id, "agent": run.agent, "seq": seq, "roomId": run.room_id,
                                "threadId": run.thread_id, "replyTo": run.reply_to, "event": event}
    return data, server_frame(MessageType.AGENT_EVENT, data)


class RunService(RunApprovals):
    def __init__(self, store: Store, rooms: RoomDirectory, publish: Publish, spawn: Spawn,
                 check_reply_to: CheckReplyTo, check_thread: CheckThread, stream: Stream) -> None:
        self.store = store
        self.rooms = rooms
        self.publish = publish
        self.spawn = spawn
        self.check_reply_to = check_reply_to
        self.check_thread = check_thread
        self.stream = stream
        self.book = RunBook()
        self.approvals = ApprovalBook()
        self.online: Callable[[str], Awaitable[bool]] | None = None
        """Whether an agent is online (set by the hub): orphaned runs of offline agents are closed."""
        self._records: dict[str, Run] = {}
        self._last_write: dict[str, asyncio.Future[bool]] = {}
        self._waiters: dict[str, asyncio.Future[ApprovalOutcomeInfo]] = {}
        self._timers: dict[str, asyncio.Task[Any]] = {}
        self._listeners: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}

    # start-up ------------------------------------------------------------------------------
    async def load(self) -> None:
        """Runs in progress and pending approvals, back from the store (after a restart)."""
        for run in await self.store.runs_in_progress():
            events = await self.store.run_events(run.run_id)
            if not events or events[0].type != EventType.RUN_STARTED.value:
                continue
            state = RunState(run.run_id, run.agent, run.room_id, run.reply_to, run.thread_id)
            frames = []
            for stored in events:
                state.apply(stored.event)
                frames.append((stored.seq, agent_event_frame(run, stored.seq, stored.event)[1]))
            state.last_seq = events[-1].seq
            self.book.load(state, frames)
            self._records[run.run_id] = run
        for approval in await self.store.pending_approvals():
            self.approvals.opened(approval, server_frame(MessageType.APPROVAL_REQUEST, request_data(approval)))
            self._schedule_expiry(approval)

    def watch_orphans(self, hosted: set[str]) -> None:
        """Close loaded runs nobody can finish: of agents hosted here (their work died with the
        last process) now, of other agents once they stay offline past the grace period."""
        for state in list(self.book):
            if state.agent in hosted:
                self.spawn(self.close_run(state.run_id, "The server restarted during this run.", "INTERRUPTED"),
                           f"close-{state.run_id}")
            else:
                self.spawn(self._close_if_offline(state.agent, ORPHAN_GRACE_SECONDS), f"orphans-{state.agent}")

    # runs ----------------------------------------------------------------------------------
    async def emit(self, agent: str, run_id: str, event: dict[str, Any], *, reply_to: int | None = None,
                   room_id: str = DEFAULT_ROOM, thread_id: int | None = None) -> int:
        """Accept one AG-UI event of ``agent``'s run (``RUN_STARTED`` opens it); returns its ``seq``.

        The event is validated already (``normalise_event``); this checks it against the run."""
        state = self.book.get(run_id)
        if state is None:
            if event.get("type") == EventType.RUN_STARTED.value:
                return await self._start(agent, run_id, event, reply_to, room_id, thread_id)
            known = await self.store.get_run(run_id)
            if known is not None and known.status != "running":
                raise ProtocolError(ErrorCode.CONFLICT, f"Run {run_id} is finished; start a new run")
            if known is not None and known.agent != agent:
                raise ProtocolError(ErrorCode.FORBIDDEN, f"Run {run_id} belongs to {known.agent}; only it may send its events")
            raise ProtocolError(ErrorCode.NOT_FOUND, f"No run {run_id} is in progress: open it with RUN_STARTED")
        state, seq = self.book.accept(run_id, agent, event)
        self._write(state, seq, event)
        if state.finished:
            self._run_ended(state)
        return seq

    async def _start(self, agent: str, run_id: str, event: dict[str, Any], reply_to: int | None, room_id: str,
                     thread_id: int | None) -> int:
        """A run belongs to the room (and thread) of the message that started it."""
        self.rooms.require_member(room_id, agent)
        await self.check_reply_to(reply_to, room_id)
        await self.check_thread(thread_id, room_id)
        if await self.store.get_run(run_id) is not None:
            raise ProtocolError(ErrorCode.CONFLICT, f"Run id {run_id} is taken; choose another")
        # Checked again (no await from here on): the id may have been taken meanwhile.
        state = self.book.start(run_id, agent, event, room_id=room_id, reply_to=reply_to, thread_id=thread_id)
        self._records[run_id] = Run(run_id, agent, room_id, reply_to, thread_id, started_at=utc_now())
        self._write(state, 1, event)
        return 1

    def _write(self, state: RunState, seq: int, event: dict[str, Any]) -> None:
        stamped = state.stamp(event, now_ms())
        record = self._records.get(state.run_id) or Run(state.run_id, state.agent, state.room_id, state.reply_to,
                                                        state.thread_id)
        self._records[state.run_id] = record
        self._last_write[state.run_id] = self.store.queue_run_event(
            record, RunEvent(state.run_id, seq, stamped, utc_now()), self._committed)

    async def flushed(self, run_id: str) -> None:
        """Wait until every event of ``run_id`` queued so far is stored and broadcast (so that an
        answer naming the run reaches everyone after the run's text, never before it)."""
        pending = self._last_write.get(run_id)
        if pending is not None and not pending.done():
            await asyncio.shield(pending)

    def _committed(self, run: Run, stored: RunEvent) -> None:
        """After the commit: broadcast the event (and, for old clients, text as ``agent_stream``
        deltas whose ``streamId`` is the run id: the run's final answer names it too)."""
        data, frame = agent_event_frame(run, stored.seq, stored.event)
        self.publish(Event(MessageType.AGENT_EVENT, frame, room=run.room_id, _data=dict(data)))
        event = stored.event
        if event.get("type") == EventType.TEXT_MESSAGE_CONTENT.value and event.get("delta"):
            # Clients of the original protocol see the run's text as one stream, named by the run.
            self.stream(run.agent, run.run_id, str(event["delta"]), run.reply_to, run.room_id, run.thread_id)
        if stored.type in TERMINAL_EVENTS:
            self._records.pop(run.run_id, None)
            self._last_write.pop(run.run_id, None)

    def _run_ended(self, state: RunState) -> None:
        """A run's terminal event was accepted: approvals still pending can no longer matter."""
        for approval in self.approvals.of_run(state.run_id):
            self.spawn(self._cancel(approval, ""), f"cancel-{approval.approval_id}")

    async def close_run(self, run_id: str, message: str, code: str) -> bool:
        """End a run its agent cannot end (it went away): ``RUN_ERROR`` on its behalf."""
        state = self.book.get(run_id)
        if state is None or state.finished:
            return False
        await self.emit(state.agent, run_id, {"type": EventType.RUN_ERROR.value, "message": message, "code": code})
        return True

    async def _close_if_offline(self, agent: str, grace: float) -> None:
        await asyncio.sleep(grace)
        if self.online is not None and await self.online(agent):
            return
        for state in self.book.of_agent(agent):
            try:
                await self.close_run(state.run_id, f"{agent} went offline during this run.", "AGENT_OFFLINE")
            except ProtocolError:
                pass

    def agent_offline(self, agent: str) -> None:
        """The agent's last connection here closed: its runs end unless it is back in time."""
        if self.book.of_agent(agent):
            self.spawn(self._close_if_offline(agent, ORPHAN_GRACE_SECONDS), f"orphans-{agent}")

    async def check_answer_run(self, agent: str, run_id: str) -> None:
        state = self.book.get(run_id)
        if state is not None:
            state.check_sender(agent)
            return
        known = await self.store.get_run(run_id)
        if known is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"runId: there is no run {run_id}")
        if known.agent != agent:
            raise ProtocolError(ErrorCode.FORBIDDEN, f"runId: run {run_id} belongs to {known.agent}")

    async def queued(self, agent: str, run_id: str, reply_to: int | None, position: int, room_id: str = DEFAULT_ROOM,
                     thread_id: int | None = None) -> None:
        """Tell the room that a request waits for ``agent`` (``position`` 1: next)."""
        self.rooms.require_member(room_id, agent)
        await self.check_reply_to(reply_to, room_id)
        data: RunQueued = {"runId": run_id, "agent": agent, "roomId": room_id, "threadId": thread_id,
                           "replyTo": reply_to, "position": position, "timestamp": iso(utc_now())}
        self.publish(Event(MessageType.RUN_QUEUED, server_frame(MessageType.RUN_QUEUED, data), room=room_id,
                           _data=dict(data)))

    # replay --------------------------------------------------------------------------------
    def _readable(self, room_id: str, user: str) -> bool:
        room = self.rooms.get(room_id)
        return room is not None and room.readable_by(user)

    async def replay(self, run_id: str, after_seq: int = 0, user: str | None = None) -> tuple[list[bytes], bool]:
        """The frames of ``run_id`` after ``after_seq`` and whether the run is still in progress.

        In progress: from memory, synchronously with the live stream (nothing between the two);
        finished: from the store.  Unknown, or in a room ``user`` may not read: ``NOT_FOUND``."""
        missing = ProtocolError(ErrorCode.NOT_FOUND, f"There is no run {run_id}")
        state = self.book.get(run_id)
        frames = self.book.snapshot(run_id, after_seq)
        if state is not None and frames is not None:
            if user is not None and not self._readable(state.room_id, user):
                raise missing
            return frames, True
        run = await self.store.get_run(run_id)
        if run is None or (user is not None and not self._readable(run.room_id, user)):
            raise missing
        frames = self.book.snapshot(run_id, after_seq)  # it may have started here meanwhile
        if frames is not None:
            return frames, True
        events = await self.store.run_events(run_id, after_seq)
        return [agent_event_frame(run, e.seq, e.event)[1] for e in events], False

    def listen(self, run_id: str) -> asyncio.Queue[dict[str, Any]]:
        """Every ``agent_event`` of ``run_id`` delivered from now on (for an SSE stream)."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._listeners.setdefault(run_id, set()).add(queue)
        return queue

    def unlisten(self, run_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        listeners = self._listeners.get(run_id)
        if listeners is not None:
            listeners.discard(queue)
            if not listeners:
                del self._listeners[run_id]

    def catch_up_frames(self) -> list[tuple[str, bytes]]:
        """What a connection gets after its history: every run in progress, then pending approvals
        (each with its room: see :meth:`visible_to`)."""
        return self.book.frames_in_progress() + self.approvals.frames()

    @staticmethod
    def visible_to(frames: list[tuple[str, bytes]], rooms: set[str]) -> list[bytes]:
        return [frame for room, frame in frames if room in rooms]

    # delivery (every process) ----------------------------------------------------------------
    def delivered(self, event: Event) -> None:
        kind = event.kind
        if kind is MessageType.AGENT_EVENT:
            data = event.data
            if self.book.delivered(data, event.frame):
                for queue in list(self._listeners.get(data["runId"], ())):
                    queue.put_nowait(data)
        elif kind is MessageType.RUN_QUEUED:
            self.book.queued(event.data["runId"], event.data.get("roomId") or DEFAULT_ROOM, event.frame)
        elif kind is MessageType.APPROVAL_REQUEST:
            approval = from_request_data(event.data)
            self.approvals.opened(approval, event.frame)
            if approval.approval_id not in self._timers:
                self._schedule_expiry(approval)
        elif kind is MessageType.APPROVAL_RESOLVED:
            data = event.data
            self.approvals.closed(data["approvalId"])
            timer = self._timers.pop(data["approvalId"], None)
            if timer is not None and timer is not asyncio.current_task():
                timer.cancel()
            waiter = self._waiters.get(data["approvalId"])
            if waiter is not None and not waiter.done():
                waiter.set_result(ApprovalOutcomeInfo(data["approvalId"], data["outcome"], tuple(data.get("by") or ())))
