"""A run's life without I/O: who may emit, in what order, numbered how, and what a late joiner needs.

A run is one agent turn: ``RUN_STARTED`` first, ``RUN_FINISHED`` or ``RUN_ERROR`` last, AG-UI
events in between.  :class:`RunState` is one run's state machine:

- only the run's agent may emit (anyone else: ``FORBIDDEN``);
- events are numbered ``seq`` 1, 2, 3... with no gaps, in the order they are accepted;
- the pairs AG-UI clients check are checked here too (a ``TEXT_MESSAGE_CONTENT`` needs its
  ``TEXT_MESSAGE_START``, a ``TOOL_CALL_RESULT`` its ``TOOL_CALL_END``, a ``STEP_FINISHED`` its
  ``STEP_STARTED``...), so a run replayed to any AG-UI client is a valid stream;
- ``RUN_FINISHED`` needs every text message, tool call, reasoning block and step closed;
  ``RUN_ERROR`` ends a run in any state; nothing follows either.

:class:`RunBook` holds every run in progress that this process knows of, with the frames
delivered so far: a late joiner gets them first (``frames_in_progress``).  A run's events are
accepted on one process (where its agent is connected): ``accept`` numbers them at once;
every process (that one included) sees them again on delivery, where ``delivered`` keeps the
frames and, for runs accepted elsewhere, replays the state.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from agentchat_client.protocol import GENERAL, ErrorCode, EventType, ProtocolError

__all__ = [
    "DEFAULT_ROOM",
    "MAX_RUN_EVENTS",
    "RunBook",
    "RunState",
    "new_run_id",
    "run_outcome",
]

DEFAULT_ROOM = GENERAL
MAX_RUN_EVENTS = 20_000
"""A run may hold at most this many events (stream text in pieces of a few words, not letters)."""
MAX_OPEN_RUNS_PER_AGENT = 50
"""Runs one agent may have in progress at once (a runaway agent cannot fill the memory)."""
RECENTLY_FINISHED = 2048
"""How many finished run ids a process remembers, to answer a late event with "finished"."""

E = EventType
_CHUNKS = frozenset({E.TEXT_MESSAGE_CHUNK.value, E.TOOL_CALL_CHUNK.value, E.REASONING_MESSAGE_CHUNK.value})


def new_run_id() -> str:
    return "run-" + secrets.token_hex(8)


def run_outcome(event: dict[str, Any]) -> str:
    """``success`` / ``interrupt`` / ``cancelled`` for RUN_FINISHED, ``error`` for RUN_ERROR."""
    if event.get("type") == E.RUN_ERROR.value:
        return "error"
    outcome = event.get("outcome")
    return str(outcome.get("type")) if isinstance(outcome, dict) and outcome.get("type") else "success"


def _invalid(message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.INVALID_MESSAGE, message)


@dataclass(eq=False, slots=True)
class RunState:
    run_id: str
    agent: str
    room_id: str = DEFAULT_ROOM
    reply_to: int | None = None
    thread_id: int | None = None
    """The thread of the message that started it (its answer goes there too)."""
    last_seq: int = 0
    finished: bool = False
    outcome: str | None = None
    texts: set[str] = field(default_factory=set)
    tools_open: set[str] = field(default_factory=set)
    tools_ended: set[str] = field(default_factory=set)
    reasoning: set[str] = field(default_factory=set)
    reasoning_messages: set[str] = field(default_factory=set)
    steps: list[str] = field(default_factory=list)
    used_ids: set[str] = field(default_factory=set)

    @property
    def agui_thread_id(self) -> str:
        """AG-UI's ``threadId`` is the conversation: the room (a chat thread is ``thread_id``)."""
        return self.room_id

    # checking ----------------------------------------------------------------------------
    def check_sender(self, sender: str) -> None:
        if sender != self.agent:
            raise ProtocolError(ErrorCode.FORBIDDEN, f"Run {self.run_id} belongs to {self.agent}; only it may send its events")

    def check(self, event: dict[str, Any]) -> None:
        """Raise the error for emitting ``event`` now; change nothing."""
        kind = event.get("type")
        if self.finished:
            raise ProtocolError(ErrorCode.CONFLICT, f"Run {self.run_id} is finished; start a new run")
        if self.last_seq >= MAX_RUN_EVENTS and kind not in (E.RUN_FINISHED.value, E.RUN_ERROR.value):
            raise ProtocolError(ErrorCode.CONFLICT, f"Run {self.run_id} has {MAX_RUN_EVENTS} events, the most a run may hold")
        if kind == E.RUN_STARTED.value:
            raise ProtocolError(ErrorCode.CONFLICT, f"Run {self.run_id} has already started")
        if kind in _CHUNKS:
            raise _invalid(f"event: send {kind.replace('_CHUNK', '')}_START / _CONTENT / _END rather than {kind}")
        if kind in (E.RUN_FINISHED.value, E.RUN_ERROR.value):
            if event.get("runId") not in (None, self.run_id):
                raise _invalid(f"event.runId: this is run {self.run_id}")
            if kind == E.RUN_FINISHED.value:
                self._check_all_closed()
            return
        ident = _ident(kind, event)
        if kind == E.TEXT_MESSAGE_START.value:
            self._check_new(ident, "text message")
        elif kind in (E.TEXT_MESSAGE_CONTENT.value, E.TEXT_MESSAGE_END.value):
            self._check_open(ident, self.texts, "text message", E.TEXT_MESSAGE_START.value)
        elif kind == E.TOOL_CALL_START.value:
            self._check_new(ident, "tool call")
        elif kind in (E.TOOL_CALL_ARGS.value, E.TOOL_CALL_END.value):
            self._check_open(ident, self.tools_open, "tool call", E.TOOL_CALL_START.value)
        elif kind == E.TOOL_CALL_RESULT.value:
            if ident in self.tools_open:
                raise _invalid(f"event: end tool call {ident} (TOOL_CALL_END) before its result")
            self._check_open(ident, self.tools_ended, "ended tool call", E.TOOL_CALL_END.value)
        elif kind == E.REASONING_START.value:
            self._check_new(ident, "reasoning block")
        elif kind == E.REASONING_END.value:
            self._check_open(ident, self.reasoning, "reasoning block", E.REASONING_START.value)
        elif kind == E.REASONING_MESSAGE_START.value:
            self._check_new(ident, "reasoning message")
        elif kind in (E.REASONING_MESSAGE_CONTENT.value, E.REASONING_MESSAGE_END.value):
            self._check_open(ident, self.reasoning_messages, "reasoning message", E.REASONING_MESSAGE_START.value)
        elif kind == E.STEP_FINISHED.value:
            if ident not in self.steps:
                raise _invalid(f"event: no step {ident!r} is running (STEP_STARTED first)")

    def _check_new(self, ident: str, what: str) -> None:
        if ident in self.used_ids:
            raise _invalid(f"event: {what} id {ident!r} is already used in this run")

    @staticmethod
    def _check_open(ident: str, open_ids: set[str], what: str, opener: str) -> None:
        if ident not in open_ids:
            raise _invalid(f"event: no open {what} {ident!r} ({opener} first)")

    def _check_all_closed(self) -> None:
        still = [
            *(f"text message {i}" for i in sorted(self.texts)),
            *(f"tool call {i}" for i in sorted(self.tools_open)),
            *(f"reasoning message {i}" for i in sorted(self.reasoning_messages)),
            *(f"reasoning block {i}" for i in sorted(self.reasoning)),
            *(f"step {s!r}" for s in self.steps),
        ]
        if still:
            raise _invalid(f"event: close {', '.join(still[:3])} before RUN_FINISHED (or send RUN_ERROR)")

    # applying ----------------------------------------------------------------------------
    def apply(self, event: dict[str, Any]) -> int:
        """Record ``event`` (already checked) and return its ``seq``."""
        kind = event.get("type")
        self.last_seq += 1
        if kind in (E.RUN_FINISHED.value, E.RUN_ERROR.value):
            self.finished = True
            self.outcome = run_outcome(event)
            return self.last_seq
        ident = _ident(kind, event)
        if kind == E.TEXT_MESSAGE_START.value:
            self.texts.add(ident)
            self.used_ids.add(ident)
        elif kind == E.TEXT_MESSAGE_END.value:
            self.texts.discard(ident)
        elif kind == E.TOOL_CALL_START.value:
            self.tools_open.add(ident)
            self.used_ids.add(ident)
        elif kind == E.TOOL_CALL_END.value:
            self.tools_open.discard(ident)
            self.tools_ended.add(ident)
        elif kind == E.TOOL_CALL_RESULT.value:
            self.tools_ended.discard(ident)
        elif kind == E.REASONING_START.value:
            self.reasoning.add(ident)
            self.used_ids.add(ident)
        elif kind == E.REASONING_END.value:
            self.reasoning.discard(ident)
        elif kind == E.REASONING_MESSAGE_START.value:
            self.reasoning_messages.add(ident)
            self.used_ids.add(ident)
        elif kind == E.REASONING_MESSAGE_END.value:
            self.reasoning_messages.discard(ident)
        elif kind == E.STEP_STARTED.value:
            self.steps.append(ident)
        elif kind == E.STEP_FINISHED.value:
            self.steps.remove(ident)
        return self.last_seq

    def stamp(self, event: dict[str, Any], now_ms: int) -> dict[str, Any]:
        """The event as stored and sent: the server's ``timestamp``; ``threadId``/``runId`` of this run."""
        stamped = {**event, "timestamp": now_ms}
        if event.get("type") in (E.RUN_STARTED.value, E.RUN_FINISHED.value):
            stamped["threadId"] = self.agui_thread_id
            stamped["runId"] = self.run_id
        return stamped

    def closing_events(self) -> list[dict[str, Any]]:
        """What closes everything still open, innermost first (before a server-made RUN_FINISHED)."""
        events: list[dict[str, Any]] = []
        events += [{"type": E.TEXT_MESSAGE_END.value, "messageId": i} for i in sorted(self.texts)]
        events += [{"type": E.TOOL_CALL_END.value, "toolCallId": i} for i in sorted(self.tools_open)]
        events += [{"type": E.REASONING_MESSAGE_END.value, "messageId": i} for i in sorted(self.reasoning_messages)]
        events += [{"type": E.REASONING_END.value, "messageId": i} for i in sorted(self.reasoning)]
        events += [{"type": E.STEP_FINISHED.value, "stepName": s} for s in reversed(self.steps)]
        return events


def _ident(kind: Any, event: dict[str, Any]) -> str:
    if kind in (E.STEP_STARTED.value, E.STEP_FINISHED.value):
        return str(event.get("stepName"))
    if isinstance(kind, str) and kind.startswith("TOOL_CALL"):
        return str(event.get("toolCallId"))
    return str(event.get("messageId"))


class RunBook:
    """The runs in progress this process knows of, and the frames a late joiner needs."""

    def __init__(self) -> None:
        self.runs: dict[str, RunState] = {}
        self._frames: dict[str, list[tuple[int, bytes]]] = {}
        self._queued: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        """run id -> (room, ``run_queued`` frame) of requests waiting for their agent."""
        self._finished: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, run_id: object) -> bool:
        return run_id in self.runs

    def __len__(self) -> int:
        return len(self.runs)

    def get(self, run_id: str) -> RunState | None:
        return self.runs.get(run_id)

    def finished_recently(self, run_id: str) -> bool:
        return run_id in self._finished

    # accepting events (on the process where the agent speaks) -------------------------------
    def start(self, run_id: str, agent: str, event: dict[str, Any], *, room_id: str = DEFAULT_ROOM,
              reply_to: int | None = None, thread_id: int | None = None) -> RunState:
        """Open a run with its ``RUN_STARTED`` (seq 1)."""
        if event.get("type") != E.RUN_STARTED.value:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"No run {run_id} is in progress: open it with RUN_STARTED")
        if event.get("runId") != run_id:
            raise _invalid(f"event.runId: RUN_STARTED must carry runId {run_id!r}")
        if run_id in self.runs or run_id in self._finished:
            raise ProtocolError(ErrorCode.CONFLICT, f"Run id {run_id} is taken; choose another")
        if sum(1 for s in self.runs.values() if s.agent == agent) >= MAX_OPEN_RUNS_PER_AGENT:
            raise ProtocolError(ErrorCode.CONFLICT, f"{agent} has {MAX_OPEN_RUNS_PER_AGENT} runs in progress, the most "
                                                    "an agent may have; finish one first")
        state = RunState(run_id, agent, room_id, reply_to, thread_id)
        state.apply(event)
        self.runs[run_id] = state
        self._frames[run_id] = []
        return state

    def accept(self, run_id: str, sender: str, event: dict[str, Any]) -> tuple[RunState, int]:
        """Check ``event`` from ``sender`` against run ``run_id`` and number it."""
        state = self.runs.get(run_id)
        if state is None:
            if run_id in self._finished:
                raise ProtocolError(ErrorCode.CONFLICT, f"Run {run_id} is finished; start a new run")
            raise ProtocolError(ErrorCode.NOT_FOUND, f"No run {run_id} is in progress: open it with RUN_STARTED")
        state.check_sender(sender)
        state.check(event)
        return state, state.apply(event)

    # what every process sees ---------------------------------------------------------------
    def delivered(self, data: dict[str, Any], frame: bytes) -> bool:
        """A delivered ``agent_event``: keep its frame while the run is in progress.  Runs accepted
        on another process are replayed here so this process could accept their next events.
        False for a repeat (an event already delivered)."""
        run_id, seq, event = data["runId"], int(data["seq"]), data["event"]
        kind = event.get("type")
        self._unqueue(run_id)
        state = self.runs.get(run_id)
        if state is None:
            if kind != E.RUN_STARTED.value or run_id in self._finished:
                return False
            state = RunState(run_id, data["agent"], data.get("roomId") or DEFAULT_ROOM, data.get("replyTo"),
                              data.get("threadId"))
            self.runs[run_id] = state
            self._frames[run_id] = []
        frames = self._frames.setdefault(run_id, [])
        if frames and seq <= frames[-1][0]:
            return False
        if seq > state.last_seq:  # accepted elsewhere: replay it here
            state.apply(event)
        frames.append((seq, frame))
        if kind in (E.RUN_FINISHED.value, E.RUN_ERROR.value):
            self._forget(run_id)
        return True

    def load(self, state: RunState, frames: list[tuple[int, bytes]]) -> None:
        """A run in progress read back from the store at start-up."""
        self.runs[state.run_id] = state
        self._frames[state.run_id] = list(frames)

    def _forget(self, run_id: str) -> None:
        self.runs.pop(run_id, None)
        self._frames.pop(run_id, None)
        self._finished[run_id] = None
        while len(self._finished) > RECENTLY_FINISHED:
            self._finished.popitem(last=False)

    def ended_here(self, run_id: str) -> None:
        """A run that finished without a delivered terminal event (closed while it was unknown)."""
        self._forget(run_id)

    # queued requests -------------------------------------------------------------------------
    def queued(self, run_id: str, room_id: str, frame: bytes) -> None:
        if run_id not in self.runs and run_id not in self._finished:
            self._queued[run_id] = (room_id, frame)

    def _unqueue(self, run_id: str) -> None:
        self._queued.pop(run_id, None)

    def drop_queued(self, run_id: str) -> None:
        self._unqueue(run_id)

    # late joiners ------------------------------------------------------------------------------
    def snapshot(self, run_id: str, after_seq: int = 0) -> list[bytes] | None:
        """The frames of run ``run_id`` after ``after_seq`` so far, or None when it is not in progress here."""
        frames = self._frames.get(run_id)
        if frames is None or run_id not in self.runs:
            return None
        return [frame for seq, frame in frames if seq > after_seq]

    def frames_in_progress(self) -> list[tuple[str, bytes]]:
        """Every run in progress from its start, run after run, then the requests still queued;
        each frame with its room (a late joiner gets those of the rooms they are in)."""
        out: list[tuple[str, bytes]] = []
        for run_id, state in list(self.runs.items()):
            out += [(state.room_id, frame) for _, frame in self._frames.get(run_id, ())]
        out += list(self._queued.values())
        return out

    def of_agent(self, agent: str) -> list[RunState]:
        return [s for s in self.runs.values() if s.agent == agent]

    def __iter__(self) -> Iterator[RunState]:
        return iter(list(self.runs.values()))
