"""``AgentClient``: an agent in another process, over the same WebSocket protocol people use.

    agent = AgentClient("ws://127.0.0.1:8081/ws", "echo", token)   # token with role "agent"

    @agent.on_message
    async def echo(msg: ParsedMessage) -> None:
        await agent.reply(msg, f"{msg.sender} said: {msg.text}")

    asyncio.run(agent.run())

Each message that mentions the agent (or uses one of its ``commands``) runs the handler in its
own task, with ``working`` / ``completed`` / ``stuck`` status reported around it, exactly like an
in-process agent.  A ``stop_agent`` frame cancels the running handlers.  When the connection
drops, the client reconnects with ``lastMessageId`` and handles what it missed, once.
Connecting, resuming and back-off are :class:`~agentchat_client.connection.Connection`'s.

Each handled message is a run the room can watch (``agent.current_run``: steps, tool calls with their
policies and approvals, streamed text, usage; see :mod:`agentchat_client.runs`), sent as
``agent_event`` frames.  The agent works on one message at a time: the others wait their turn,
in order, and the room sees them queued.  An approval it waits for survives a reconnect (and a
server restart): the request is sent again and the server answers with where it stands.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Self

from .connection import AuthError, Connection, NotConnected
from .message import ParsedMessage, to_parsed
from .protocol import GENERAL, AgentMode, AgentState, EventType, MessageType
from .runs import ApprovalResult, Policies, Run, Tool, ToolCall, ToolPolicy, ToolSkipped, current_run, new_run_id
from .session import Backoff, ClientSession

__all__ = ["AgentClient", "AuthError", "Handler"]

log = logging.getLogger(__name__)
Handler = Callable[[ParsedMessage], Awaitable[None]]
SEND_WAIT_SECONDS = 10.0
"""A handler that speaks while the link is down waits this long for it to come back."""
MAX_QUEUED = 16
"""Messages that may wait for the agent; one more is answered "busy"."""
APPROVAL_GRACE_SECONDS = 60.0
"""Past an approval's expiry plus this, with no word from the server, it counts as expired."""


class AgentClient:
    """Connects as role ``agent``, hands matching messages to a handler, speaks for the agent."""

    def __init__(
        self,
        url: str,
        name: str,
        token: str,
        *,
        commands: Iterable[str] = (),
        all_messages: bool = False,
        auto_status: bool = True,
        reconnect: bool = True,
        min_backoff: float = 0.5,
        max_backoff: float = 30.0,
        tools: Sequence[Tool] = (),
        policies: Policies | Mapping[str, ToolPolicy | str | Mapping[str, Any]] | None = None,
    ) -> None:
        self.url = url
        self.name = name
        self.token = token
        self.commands = {c.lower().lstrip("/") for c in commands}
        self.all_messages = all_messages
        self.auto_status = auto_status
        self._session = ClientSession(
            name, token, role="agent", resume_from_welcome=True,
            backoff=Backoff(first=min_backoff, most=max(min_backoff, max_backoff)),
        )
        self._connection = Connection(url, self._session, self._on_frame, reconnect=reconnect)
        self.connected = self._connection.connected
        """Set while authenticated."""
        self.welcome: dict[str, Any] = {}
        self.room_modes: dict[str, AgentMode] = {}
        """How this agent answers in each room it is in (from the `rooms` and `room` frames)."""
        self._handler: Handler | None = None
        self._handled_upto = 0
        self._runner: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._stopping: dict[asyncio.Task[None], str] = {}
        self._questions: dict[str, asyncio.Future[str | None]] = {}
        self.tools = {t.name: t for t in tools}
        """What the handler may call with ``agent.current_run.tool_call(name, args)`` (and give a model)."""
        self.policies = policies if isinstance(policies, Policies) else Policies.parse(policies or {}, "policies")
        """Per tool: ``ask`` / ``allow`` / ``deny`` and who approves (the agent's own; the server's
        config is for in-process agents)."""
        self._current: asyncio.Task[None] | None = None
        self._waiting: deque[tuple[ParsedMessage, str]] = deque()
        self._approvals: dict[tuple[str, str], _PendingApproval] = {}
        self._sink = _SocketSink(self)

    # settings that may change while running -------------------------------------------------
    @property
    def reconnect(self) -> bool:
        return self._connection.reconnect

    @reconnect.setter
    def reconnect(self, value: bool) -> None:
        self._connection.reconnect = value

    @property
    def min_backoff(self) -> float:
        return self._session.backoff.first

    @min_backoff.setter
    def min_backoff(self, value: float) -> None:
        backoff = self._session.backoff
        self._session.backoff = dataclasses.replace(backoff, first=value, most=max(value, backoff.most))

    @property
    def max_backoff(self) -> float:
        return self._session.backoff.most

    @max_backoff.setter
    def max_backoff(self, value: float) -> None:
        self._session.backoff = dataclasses.replace(self._session.backoff, most=value)

    @property
    def last_message_id(self) -> int | None:
        """The newest message id seen: where a reconnect resumes."""
        return self._session.last_message_id

    @last_message_id.setter
    def last_message_id(self, value: int | None) -> None:
        self._session.last_message_id = value

    # registering ---------------------------------------------------------------------------------
    def on_message(self, handler: Handler) -> Handler:
        """Decorator: ``handler(msg)`` runs for each message addressed to this agent."""
        self._handler = handler
        return handler

    def wants(self, msg: ParsedMessage) -> bool:
        """Per room (``room_modes``): ``off`` hears nothing, ``all`` every person's message, and the
        default answers a mention or one of its commands; ``@here`` / ``@channel`` never wake it."""
        if msg.sender == self.name or msg.kind != MessageType.MESSAGE:
            return False
        mode = self.room_modes.get(msg.room_id, AgentMode.MENTION)
        if mode is AgentMode.OFF:
            return False
        if self.all_messages or mode is AgentMode.ALL or msg.mentions_name(self.name):
            return True
        if msg.mentions_everyone:
            return False
        return msg.command is not None and msg.command in self.commands

    # lifecycle -------------------------------------------------------------------------------------
    async def run(self) -> None:
        """Connect and serve until :meth:`close`, reconnecting (with back-off) when the link drops.

        Raises :class:`AuthError` when the token is refused."""
        await self._connection.run()

    async def start(self) -> None:
        """Run in the background and wait until the first connection is authenticated."""
        self._runner = self._connection.start()
        await self._connection.wait_connected()  # raises the reason (AuthError, refused connection...)

    async def close(self) -> None:
        for task in list(self._running):
            task.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        await self._connection.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # frames ------------------------------------------------------------------------------------------
    def _on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        data: dict[str, Any] = frame["data"]
        if kind in (MessageType.MESSAGE, MessageType.AGENT_RESPONSE):
            message_id = data.get("id")
            if not isinstance(message_id, int) or message_id <= self._handled_upto:
                return  # already handled (a replay must not run a handler twice)
            self._handled_upto = message_id
            msg = to_parsed(data, kind)
            if self._handler is not None and self.wants(msg):
                self._dispatch(msg)
        elif kind == MessageType.AUTH_RESPONSE:
            if data.get("success"):
                self._welcomed(data)
        elif kind == MessageType.ROOMS:
            self.room_modes = {r["roomId"]: self._mode_in(r) for r in data.get("rooms", []) if isinstance(r, dict)}
        elif kind == MessageType.ROOM:
            room = data.get("room") or {}
            if self.name in room.get("members", []) or room.get("roomId") == "general":
                self.room_modes[room["roomId"]] = self._mode_in(room)
        elif kind == MessageType.ROOM_REMOVED:
            self.room_modes.pop(str(data.get("roomId")), None)
        elif kind == MessageType.STOP_AGENT:
            if data.get("agent") == self.name:
                self._stop(str(data.get("by") or "someone"))
        elif kind == MessageType.QUESTION_CLOSED:
            # The server mints questionId; ``ref`` is the id this client proposed.
            future = self._questions.pop(str(data.get("ref") or data.get("questionId")), None)
            if future is not None and not future.done():
                future.set_result(data.get("answer") if data.get("status") == "answered" else None)
        elif kind == MessageType.APPROVAL_RESOLVED:
            pending = self._approvals.get((str(data.get("runId")), str(data.get("toolCallId"))))
            if pending is not None and not pending.future.done():
                pending.future.set_result(ApprovalResult(str(data.get("approvalId")), str(data.get("outcome")),
                                                         tuple(data.get("by") or ())))
        elif kind == MessageType.ERROR:
            log.warning("%s: server says %s: %s", self.name, data.get("code"), data.get("message"))

    def _mode_in(self, room: dict[str, Any]) -> AgentMode:
        try:
            default = AgentMode.ALL if room.get("kind") == "dm" else AgentMode.MENTION
            return AgentMode((room.get("agentModes") or {}).get(self.name, default))
        except ValueError:
            return AgentMode.MENTION

    def _welcomed(self, data: dict[str, Any]) -> None:
        if data.get("role") != "agent":
            log.warning("%s: the token's role is %r; only role 'agent' may answer as an agent", self.name, data.get("role"))
        self.welcome = data
        # Everything up to where this link resumes was handled before (or predates the agent).
        self._handled_upto = self._session.last_message_id or 0
        for pending in self._approvals.values():  # where do the requests we wait for stand now?
            if not pending.future.done():
                self._background(self._quietly(self._send(MessageType.APPROVAL_REQUEST, pending.frame)))

    # running handlers ----------------------------------------------------------------------------------
    @property
    def current_run(self) -> Run:
        """The run of the message being handled (inside the handler): steps, tool calls, text, usage.

        (``run()`` is what connects and serves.)"""
        found = current_run.get()
        if found is None or found.agent != self.name:
            raise RuntimeError(f"{self.name}: no run in progress here (runs exist while the handler runs)")
        return found

    @property
    def busy(self) -> bool:
        return self._current is not None and not self._current.done()

    def _dispatch(self, msg: ParsedMessage) -> None:
        """Handle ``msg`` now, or queue it behind the current run (the room sees it queued)."""
        run_id = new_run_id()
        if not self.busy:
            self._begin(msg, run_id)
            return
        if len(self._waiting) >= MAX_QUEUED:
            self._background(self._quietly(self.reply(
                msg, f"{len(self._waiting)} requests are already waiting for me; please try again in a moment.",
                AgentState.WORKING)))
            return
        self._waiting.append((msg, run_id))
        self._background(self._quietly(self._send(MessageType.RUN_QUEUED, {
            "runId": run_id, "replyTo": msg.message_id, "roomId": msg.room_id, "threadId": msg.thread_id,
            "position": len(self._waiting)})))

    def _begin(self, msg: ParsedMessage, run_id: str) -> None:
        task = asyncio.create_task(self._run(msg, run_id), name=f"{self.name}-{msg.message_id}")
        self._current = task
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        task.add_done_callback(self._next)

    def _next(self, _: asyncio.Task[None]) -> None:
        if self._waiting and not self.busy:
            msg, run_id = self._waiting.popleft()
            self._begin(msg, run_id)

    def _background(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, msg: ParsedMessage, run_id: str) -> None:
        assert self._handler is not None
        task = asyncio.current_task()
        assert task is not None
        run = Run(self._sink, self.name, run_id=run_id, reply_to=msg.message_id, room_id=msg.room_id,
                  thread_id=msg.thread_id, requester=msg.sender, policies=self.policies, tools=self.tools)
        token = current_run.set(run)
        try:
            await run.start()
            if self.auto_status:
                await self.status(AgentState.WORKING, f"Answering {msg.sender}")
            await self._handler(msg)
        except asyncio.CancelledError:
            by = self._stopping.pop(task, None)
            if by is not None:
                await self._quietly(self.reply(msg, f"Stopped by {by}.", AgentState.IDLE))
            await self._quietly(asyncio.shield(run.cancel()))
            if by is None:
                raise
            return
        except ToolSkipped as exc:
            await self._quietly(self.reply(msg, str(exc), AgentState.IDLE))
            await self._quietly(run.finish())
        except Exception as exc:
            log.exception("%s: handler failed on message %s", self.name, msg.message_id)
            reason = f"Failed on message #{msg.message_id} ({type(exc).__name__})"
            await self._quietly(self.status(AgentState.STUCK, reason))
            await self._quietly(self.reply(
                msg, f"Sorry, something went wrong while I worked on this ({type(exc).__name__}).", AgentState.STUCK))
            await self._quietly(run.fail(f"The handler failed ({type(exc).__name__})", type(exc).__name__))
            return
        else:
            await self._quietly(run.finish())
        finally:
            current_run.reset(token)
        if self.auto_status and not self._waiting:
            await self._quietly(self.status(AgentState.COMPLETED, f"Answered {msg.sender}", 100))

    def _stop(self, by: str) -> None:
        """Stop cancels the current run; messages waiting their turn go ahead."""
        tasks = [self._current] if self._current is not None and not self._current.done() else []
        for task in tasks:
            self._stopping[task] = by
            task.cancel()
        self._report_after_stop(tasks, by)

    def _report_after_stop(self, tasks: Sequence[asyncio.Task[None]], by: str) -> None:
        async def report() -> None:
            if tasks:
                await asyncio.wait(tasks, timeout=5)
            if self.busy:
                return  # the next message is being handled
            note = f"Stopped by {by}" if tasks else f"Stopped by {by} (nothing was running)"
            await self._quietly(self.status(AgentState.IDLE, note))

        watcher = asyncio.create_task(report())
        self._running.add(watcher)
        watcher.add_done_callback(self._running.discard)

    @staticmethod
    async def _quietly(awaitable: Awaitable[Any]) -> None:
        try:
            await awaitable
        except Exception as exc:  # noqa: BLE001 - reporting must not kill the handler's task
            log.warning("could not report: %s", exc)

    # speaking for the agent -------------------------------------------------------------------------------
    async def _send(self, kind: MessageType, data: dict[str, Any]) -> None:
        if not self.connected.is_set():
            try:
                await self._connection.wait_connected(SEND_WAIT_SECONDS)
            except NotConnected:
                raise ConnectionError(f"{self.name}: not connected to {self.url}") from None
        await self._connection.send(kind, data)

    async def reply(
        self, msg: ParsedMessage, text: str, status: AgentState | str | None = AgentState.COMPLETED,
        *, stream_id: str | None = None, attachments: Sequence[str] = (),
    ) -> None:
        """Answer ``msg`` with an ``agent_response`` (``replyTo`` = its id), in its room and thread.

        Inside the handler the answer belongs to the run: it names it (``runId``), and its text is
        in the run (streamed before with ``agent.current_run.message()``, or sent now)."""
        run = current_run.get()
        if run is None or run.agent != self.name or run.finished or run.reply_to != msg.message_id:
            await self.send_response(text, msg.message_id, status, stream_id=stream_id, attachments=attachments,
                                     room_id=msg.room_id, thread_id=msg.thread_id)
            return
        # An agent streaming on its own (``stream()`` with its own id) keeps its stream; otherwise the
        # answer's text is in the run, and reaches old clients as the run's stream.
        if run.take_answer_id() is None and stream_id is None:
            await run.text(text, answer=False)
        await self.send_response(text, msg.message_id, status, stream_id=stream_id or run.run_id,
                                 attachments=attachments, room_id=msg.room_id, thread_id=msg.thread_id,
                                 run_id=run.run_id)

    async def send_response(
        self, text: str, reply_to: int | None = None, status: AgentState | str | None = None,
        *, stream_id: str | None = None, attachments: Sequence[str] = (), room_id: str = GENERAL,
        thread_id: int | None = None, run_id: str | None = None,
    ) -> None:
        data: dict[str, Any] = {"text": text, "replyTo": reply_to, "roomId": room_id, "threadId": thread_id}
        if run_id is not None:
            data["runId"] = run_id
        if status is not None:
            data["agentStatus"] = AgentState(status).value
        if stream_id is not None:
            data["streamId"] = stream_id
        if attachments:
            data["attachments"] = list(attachments)
        await self._send(MessageType.AGENT_RESPONSE, data)

    async def status(self, state: AgentState | str, task: str | None = None, progress: float | None = None) -> None:
        """Publish this agent's ``status_update``."""
        data: dict[str, Any] = {"status": AgentState(state).value, "currentTask": task}
        if progress is not None:
            data["progress"] = max(0.0, min(100.0, float(progress)))
        await self._send(MessageType.STATUS_UPDATE, data)

    async def stream(self, stream_id: str, delta: str, reply_to: int | None = None, room_id: str = GENERAL,
                     thread_id: int | None = None) -> None:
        """Send a piece of an answer; finish with :meth:`reply` using the same ``stream_id``."""
        await self._send(MessageType.AGENT_STREAM, {"streamId": stream_id, "delta": delta, "replyTo": reply_to,
                                                    "roomId": room_id, "threadId": thread_id})

    @staticmethod
    def new_stream_id() -> str:
        return "s-" + secrets.token_hex(6)

    async def ask(
        self, to: str, text: str, choices: Sequence[str], timeout: float = 300.0, reply_to: int | None = None,
        room_id: str = GENERAL,
    ) -> str | None:
        """Ask person ``to`` and wait: the chosen answer, or None on timeout or cancel."""
        question_id = "q-" + secrets.token_hex(6)
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._questions[question_id] = future
        try:
            await self._send(MessageType.AGENT_QUESTION, {
                "ref": question_id, "to": to, "text": text, "choices": list(choices),
                "timeoutSeconds": timeout, "replyTo": reply_to, "roomId": room_id,
            })
            return await asyncio.wait_for(future, timeout + 10)
        except TimeoutError:
            return None
        finally:
            self._questions.pop(question_id, None)


@dataclasses.dataclass(slots=True)
class _PendingApproval:
    frame: dict[str, Any]
    future: asyncio.Future[ApprovalResult]


class _SocketSink:
    """The run API over the socket: ``agent_event`` and ``approval_request`` frames."""

    def __init__(self, client: AgentClient) -> None:
        self.client = client

    async def emit(self, run: Run, event: dict[str, Any]) -> None:
        data: dict[str, Any] = {"runId": run.run_id, "event": event}
        if event.get("type") == EventType.RUN_STARTED.value:
            data.update(replyTo=run.reply_to, roomId=run.room_id, threadId=run.thread_id)
        await self.client._send(MessageType.AGENT_EVENT, data)

    async def request_approval(self, run: Run, call: ToolCall, args: Mapping[str, Any], reason: str | None,
                               to: Mapping[str, Any], expires_in: float) -> ApprovalResult:
        key = (run.run_id, call.call_id)
        frame = {"runId": run.run_id, "toolCallId": call.call_id, "tool": call.name, "args": dict(args),
                 "reason": reason, "to": dict(to), "expiresInSeconds": expires_in}
        pending = _PendingApproval(frame, asyncio.get_running_loop().create_future())
        self.client._approvals[key] = pending
        try:
            await self.client._send(MessageType.APPROVAL_REQUEST, frame)
            return await asyncio.wait_for(asyncio.shield(pending.future), expires_in + APPROVAL_GRACE_SECONDS)
        except TimeoutError:
            return ApprovalResult("", "expired")
        finally:
            self.client._approvals.pop(key, None)
