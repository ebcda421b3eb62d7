"""The run API: what an agent does during one turn, as AG-UI events the whole room can watch.

One implementation for every agent: in-process agents (``server.agents``) and agents in another
process (:class:`~agentchat_client.AgentClient`) differ only in the :class:`RunSink` their events
go to.  The events are built with ``ag-ui-protocol``'s models::

    async with run.step("read the file"):
        rows = await run.tool_call("read_csv", {"file": "sales.csv"}, read_csv)
    async with run.message() as answer:     # TEXT_MESSAGE_START / CONTENT... / END
        await answer.write("42 rows")
    run.usage(provider="openai", model="gpt-4o-mini", input_tokens=310, output_tokens=12)

``tool_call`` checks the tool's :class:`ToolPolicy`: ``allow`` runs it, ``deny`` skips it,
``ask`` requests an approval from the room and waits; a tool that did not run raises
:class:`ToolSkipped` (its ``TOOL_CALL_RESULT`` says why, so a model reading it knows too).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ag_ui.core import (
    BaseEvent,
    ReasoningEndEvent,
    ReasoningMessageContentEvent,
    ReasoningMessageEndEvent,
    ReasoningMessageStartEvent,
    ReasoningStartEvent,
    RunErrorEvent,
    RunFinishedCancelledOutcome,
    RunFinishedEvent,
    RunStartedEvent,
    StepFinishedEvent,
    StepStartedEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    TokenUsage,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
    aggregate_token_usage,
)

from .protocol import GENERAL, MAX_EVENT_BYTES, event_dict
from .protocol.agui import AGUI_PROTOCOL_VERSION

__all__ = [
    "DEFAULT_APPROVERS",
    "MAX_RESULT_CHARS",
    "ApprovalResult",
    "Policies",
    "Run",
    "RunSink",
    "TextStream",
    "Tool",
    "ToolCall",
    "ToolPolicy",
    "ToolSkipped",
    "current_run",
    "new_run_id",
    "result_text",
    "tool",
]

MAX_RESULT_CHARS = 16_000
"""A tool result longer than this is cut in the run (the tool's return value is not)."""
DEFAULT_APPROVERS: dict[str, Any] = {"role": "developer", "quorum": 1}
"""Who approves an ``ask`` tool when its policy names nobody: any developer (or admin) of the room."""


current_run: ContextVar[Run | None] = ContextVar("current_run", default=None)
"""The run of the message being handled in this task (set around the handler)."""


def new_run_id() -> str:
    return "run-" + secrets.token_hex(8)


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


# --- policies --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToolPolicy:
    """``ask`` / ``allow`` / ``deny`` for one tool, and who approves when asked.

    ``approve`` is ``{"user": name}``, ``{"role": "developer" | "admin", "quorum": n}``,
    ``{"users": [names], "quorum": n}`` or ``"requester"`` (the person whose message started
    the run); None means :data:`DEFAULT_APPROVERS`."""

    action: Literal["ask", "allow", "deny"] = "allow"
    approve: Mapping[str, Any] | str | None = None
    expires_in: float = 600.0
    reason: str | None = None

    @classmethod
    def parse(cls, value: Any, where: str = "policy") -> ToolPolicy:
        """From config: ``"ask"`` or ``{policy = "ask", approve = {role = "admin"}, expires_in_seconds = 300}``."""
        if isinstance(value, str):
            value = {"policy": value}
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}: give \"ask\", \"allow\", \"deny\" or a table with 'policy'")
        unknown = set(value) - {"policy", "approve", "expires_in_seconds", "reason"}
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))} "
                             "(allowed: policy, approve, expires_in_seconds, reason)")
        action = value.get("policy", "ask")
        if action not in ("ask", "allow", "deny"):
            raise ValueError(f"{where}: policy must be ask, allow or deny (got {action!r})")
        approve = value.get("approve")
        if approve is not None:
            _check_approvers(approve, where)
        expires = value.get("expires_in_seconds", 600)
        if not isinstance(expires, (int, float)) or not 1 <= expires <= 7 * 86400:
            raise ValueError(f"{where}: expires_in_seconds must be a number from 1 to 604800")
        reason = value.get("reason")
        return cls(action, approve, float(expires), str(reason) if reason is not None else None)

    def approvers(self, requester: str | None) -> dict[str, Any]:
        """The ``to`` of the approval request."""
        if self.approve == "requester":
            return {"user": requester} if requester else dict(DEFAULT_APPROVERS)
        if isinstance(self.approve, Mapping):
            return dict(self.approve)
        return dict(DEFAULT_APPROVERS)


def _check_approvers(approve: Any, where: str) -> None:
    if approve == "requester":
        return
    if not isinstance(approve, Mapping):
        raise ValueError(f"{where}: approve must be \"requester\", {{user = ...}}, {{role = ...}} or {{users = [...]}}")
    keys = set(approve)
    if keys == {"user"} and isinstance(approve["user"], str):
        return
    quorum = approve.get("quorum", 1)
    if not isinstance(quorum, int) or quorum < 1:
        raise ValueError(f"{where}: approve.quorum must be a whole number of at least 1")
    if keys <= {"role", "quorum"} and approve.get("role") in ("developer", "admin"):
        return
    users = approve.get("users")
    if keys <= {"users", "quorum"} and isinstance(users, list) and users and all(isinstance(u, str) for u in users):
        if quorum > len(users):
            raise ValueError(f"{where}: approve.quorum {quorum} is more than the {len(users)} people named")
        return
    raise ValueError(f"{where}: approve must be \"requester\", {{user = \"alice\"}}, {{role = \"developer\" or \"admin\", "
                     "quorum = n}} or {users = [\"alice\", \"bob\"], quorum = n}")


@dataclass(frozen=True, slots=True)
class Tool:
    """Something an agent can do.  ``changes``: it changes things (files, boards, deployments), so
    unless its author or the config says otherwise it needs an approval (``ask``)."""

    name: str
    fn: Callable[..., Any] | None = None
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    changes: bool = False
    policy: ToolPolicy | None = None
    """The author's default (the config overrides it)."""

    def default_policy(self) -> ToolPolicy:
        if self.policy is not None:
            return self.policy
        return ToolPolicy("ask") if self.changes else ToolPolicy("allow")

    @classmethod
    def from_function(cls, fn: Callable[..., Any], *, name: str | None = None, description: str | None = None,
                      changes: bool | None = None, policy: ToolPolicy | None = None) -> Tool:
        """A tool from a plain (or async) function: its name, its docstring, a JSON Schema of its
        parameters from the signature.  Unless told otherwise it ``changes`` things (so it asks)."""
        if isinstance(fn, Tool):
            return fn
        return cls(
            name=name or fn.__name__,
            fn=fn,
            description=description if description is not None else inspect.cleandoc(fn.__doc__ or ""),
            parameters=_parameters_schema(fn),
            changes=changes if changes is not None else bool(getattr(fn, "changes", True)),
            policy=policy,
        )

    def openai_schema(self) -> dict[str, Any]:
        """The tool as OpenAI-compatible endpoints take it (``tools=[...]``)."""
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": dict(self.parameters)}}


def _parameters_schema(fn: Callable[..., Any]) -> dict[str, Any]:
    from pydantic import BaseModel, create_model

    fields: dict[str, Any] = {}
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = param.annotation if param.annotation is not inspect.Parameter.empty else Any
        default = param.default if param.default is not inspect.Parameter.empty else ...
        fields[param.name] = (annotation, default)
    model: type[BaseModel] = create_model(f"{fn.__name__}_args", **fields)
    schema = model.model_json_schema()
    schema.pop("title", None)
    return schema


def tool(fn: Callable[..., Any] | None = None, *, name: str | None = None, description: str | None = None,
         changes: bool = True, policy: ToolPolicy | None = None) -> Any:
    """Decorator: ``@tool(changes=False)`` marks a read-only function a tool (it runs without asking)."""

    def wrap(inner: Callable[..., Any]) -> Tool:
        return Tool.from_function(inner, name=name, description=description, changes=changes, policy=policy)

    return wrap(fn) if fn is not None else wrap


class Policies:
    """The policies an agent's config sets, by tool name (``"*"``: every other tool)."""

    def __init__(self, by_tool: Mapping[str, ToolPolicy] | None = None) -> None:
        self.by_tool = dict(by_tool or {})

    @classmethod
    def parse(cls, table: Any, where: str = "tools") -> Policies:
        if table is None:
            return cls()
        if not isinstance(table, Mapping):
            raise ValueError(f"{where}: a table of tool name -> policy")
        return cls({str(name): ToolPolicy.parse(value, f"{where}.{name}") for name, value in table.items()})

    def for_tool(self, name: str, tool: Tool | None = None) -> ToolPolicy:
        if name in self.by_tool:
            return self.by_tool[name]
        if tool is not None and tool.policy is not None:
            return tool.policy
        if "*" in self.by_tool:
            return self.by_tool["*"]
        return tool.default_policy() if tool is not None else ToolPolicy("allow")


# --- where events go ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApprovalResult:
    approval_id: str
    outcome: str
    """``approved``, ``denied``, ``expired`` or ``cancelled``."""
    by: tuple[str, ...] = ()


class RunSink(Protocol):
    """The transport of one agent's runs: in-process (the server itself) or an agent's socket."""

    async def emit(self, run: Run, event: dict[str, Any]) -> None:
        """Send one AG-UI event of ``run`` (a dict as the package serialises it)."""

    async def request_approval(self, run: Run, call: ToolCall, args: Mapping[str, Any], reason: str | None,
                               to: Mapping[str, Any], expires_in: float) -> ApprovalResult:
        """Ask the room before ``call`` runs; return how the request closed."""


class ToolSkipped(Exception):
    """The tool did not run: its policy denies it, a person denied it, or the approval expired or
    was cancelled.  The message is for people (the agent's answer) and models (the tool result)."""

    def __init__(self, tool: str, outcome: str, by: tuple[str, ...] = ()) -> None:
        who = ", ".join(by)
        reasons = {
            "policy": f"the policy for {tool} is deny",
            "denied": f"{who or 'someone'} denied it",
            "expired": "nobody approved it in time",
            "cancelled": f"the request was cancelled{' by ' + who if who else ''}",
        }
        super().__init__(f"I did not run {tool}: {reasons.get(outcome, outcome)}.")
        self.tool = tool
        self.outcome = outcome
        self.by = by


def result_text(value: Any) -> str:
    """A tool's return value as the text of its ``TOOL_CALL_RESULT`` (JSON unless a string; cut when long)."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, indent=None, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + f"\n…({len(text) - MAX_RESULT_CHARS} more characters not shown)"
    return text


# --- the run -----------------------------------------------------------------------------------


class ToolCall:
    """One tool call: started, its arguments (streamed or whole), ended, then run or skipped."""

    def __init__(self, run: Run, name: str, call_id: str, tool: Tool | None) -> None:
        self.run = run
        self.name = name
        self.call_id = call_id
        self.tool = tool
        self.args_text = ""
        self.ended = False
        self.done = False

    async def args(self, delta: str) -> None:
        """A piece of the arguments' JSON (as a model streams it)."""
        if delta:
            self.args_text += delta
            await self.run._send(ToolCallArgsEvent(tool_call_id=self.call_id, delta=delta))

    async def end(self) -> None:
        if not self.ended:
            self.ended = True
            self.run._open_calls.discard(self.call_id)
            await self.run._send(ToolCallEndEvent(tool_call_id=self.call_id))

    async def result(self, content: str) -> None:
        await self.end()
        if not self.done:
            self.done = True
            await self.run._send(ToolCallResultEvent(message_id=_new_id("result"), tool_call_id=self.call_id,
                                                     content=content, role="tool"))

    async def execute(self, args: Mapping[str, Any], fn: Callable[..., Any] | None = None, *,
                      reason: str | None = None) -> Any:
        """Check the policy (ask the room if needed), run ``fn(**args)``, report the result."""
        await self.end()
        policy = self.run.policies.for_tool(self.name, self.tool)
        if policy.action == "deny":
            skipped = ToolSkipped(self.name, "policy")
            await self.result(str(skipped))
            raise skipped
        if policy.action == "ask":
            approval = await self.run.sink.request_approval(
                self.run, self, args, reason or policy.reason, policy.approvers(self.run.requester), policy.expires_in)
            if approval.outcome != "approved":
                skipped = ToolSkipped(self.name, approval.outcome, approval.by)
                await self.result(str(skipped))
                raise skipped
        fn = fn or (self.tool.fn if self.tool else None)
        if fn is None:
            raise RuntimeError(f"tool {self.name!r} has no function to run")
        try:
            value = fn(**dict(args))
            if inspect.isawaitable(value):
                value = await value
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self.result(f"Error: {type(exc).__name__}: {exc}")
            raise
        await self.result(result_text(value))
        return value


class TextStream:
    """A streamed text message of the run (``TEXT_MESSAGE_START`` ... ``END``)."""

    def __init__(self, run: Run, message_id: str) -> None:
        self.run = run
        self.message_id = message_id
        self.text = ""

    async def write(self, delta: str) -> None:
        if delta:
            self.text += delta
            await self.run._send(TextMessageContentEvent(message_id=self.message_id, delta=delta))


class Run:
    """One agent turn.  Open with :meth:`start`; end with :meth:`finish`, :meth:`fail` or
    :meth:`cancel` (``async with run:`` does it: an exception fails it, a cancellation cancels it)."""

    def __init__(
        self,
        sink: RunSink,
        agent: str,
        *,
        run_id: str | None = None,
        reply_to: int | None = None,
        room_id: str = GENERAL,
        thread_id: int | None = None,
        requester: str | None = None,
        policies: Policies | None = None,
        tools: Mapping[str, Tool] | None = None,
    ) -> None:
        self.sink = sink
        self.agent = agent
        self.run_id = run_id or new_run_id()
        self.reply_to = reply_to
        self.room_id = room_id
        self.thread_id = thread_id
        self.requester = requester
        self.policies = policies or Policies()
        self.tools = dict(tools or {})
        self.started = False
        self.finished = False
        self.answer_id: str | None = None
        """The id of the last text message: the final ``agent_response``'s ``streamId``."""
        self._usage: list[TokenUsage] = []
        self._open_texts: list[str] = []
        self._open_calls: set[str] = set()
        self._open_reasoning: list[tuple[str, str]] = []
        self._steps: list[str] = []
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"<Run {self.run_id} of {self.agent}>"

    def take_answer_id(self) -> str | None:
        """The id of the text message streamed since the last answer (the answer's ``streamId``)."""
        answer, self.answer_id = self.answer_id, None
        return answer

    # sending -------------------------------------------------------------------------------
    async def _send(self, event: BaseEvent) -> None:
        if self.finished:
            raise RuntimeError(f"run {self.run_id} is finished")
        data = event_dict(event)
        async with self._lock:  # one event at a time, in order
            await self.sink.emit(self, data)

    # life ----------------------------------------------------------------------------------
    async def start(self) -> Run:
        if not self.started:
            self.started = True
            await self._send(RunStartedEvent(thread_id=self.room_id, run_id=self.run_id,
                                             protocol_version=AGUI_PROTOCOL_VERSION))
        return self

    async def _close_all(self) -> None:
        for message_id in reversed(self._open_texts):
            await self._send(TextMessageEndEvent(message_id=message_id))
        self._open_texts.clear()
        for call_id in sorted(self._open_calls):
            await self._send(ToolCallEndEvent(tool_call_id=call_id))
        self._open_calls.clear()
        for kind, message_id in reversed(self._open_reasoning):
            event: BaseEvent = (ReasoningMessageEndEvent(message_id=message_id) if kind == "message"
                                else ReasoningEndEvent(message_id=message_id))
            await self._send(event)
        self._open_reasoning.clear()
        for name in reversed(self._steps):
            await self._send(StepFinishedEvent(step_name=name))
        self._steps.clear()

    def _usage_list(self) -> list[TokenUsage] | None:
        return aggregate_token_usage(self._usage) if self._usage else None

    async def finish(self, result: Any = None) -> None:
        """``RUN_FINISHED`` (success), closing whatever is still open first."""
        if self.finished or not self.started:
            return
        await self._close_all()
        await self._send(RunFinishedEvent(thread_id=self.room_id, run_id=self.run_id, result=result,
                                          usage=self._usage_list()))
        self.finished = True

    async def cancel(self) -> None:
        """``RUN_FINISHED`` with the cancelled outcome (a person stopped the agent)."""
        if self.finished or not self.started:
            return
        await self._close_all()
        await self._send(RunFinishedEvent(thread_id=self.room_id, run_id=self.run_id,
                                          outcome=RunFinishedCancelledOutcome(), usage=self._usage_list()))
        self.finished = True

    async def fail(self, message: str, code: str | None = None) -> None:
        """``RUN_ERROR``: the run ends without finishing its work."""
        if self.finished or not self.started:
            return
        await self._send(RunErrorEvent(message=message, code=code, usage=self._usage_list()))
        self.finished = True

    async def __aenter__(self) -> Run:
        return await self.start()

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            await self.finish()
        elif isinstance(exc, asyncio.CancelledError):
            await asyncio.shield(self.cancel())
        elif isinstance(exc, ToolSkipped):
            await self.finish()
        else:
            await self.fail(str(exc) or type(exc).__name__, type(exc).__name__)

    # steps ---------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def step(self, name: str) -> AsyncIterator[None]:
        """``STEP_STARTED`` ... ``STEP_FINISHED`` around a part of the work."""
        await self._send(StepStartedEvent(step_name=name))
        self._steps.append(name)
        try:
            yield
        finally:
            if name in self._steps and not self.finished:
                self._steps.remove(name)
                await self._send(StepFinishedEvent(step_name=name))

    # tool calls ----------------------------------------------------------------------------
    async def start_tool_call(self, name: str, call_id: str | None = None,
                              parent_message_id: str | None = None) -> ToolCall:
        """``TOOL_CALL_START``: arguments follow with :meth:`ToolCall.args` (as a model streams them)."""
        call = ToolCall(self, name, call_id or _new_id("call"), self.tools.get(name))
        self._open_calls.add(call.call_id)
        await self._send(ToolCallStartEvent(tool_call_id=call.call_id, tool_call_name=name,
                                            parent_message_id=parent_message_id))
        return call

    async def tool_call(self, name: str, args: Mapping[str, Any] | None = None,
                        fn: Callable[..., Any] | None = None, *, reason: str | None = None) -> Any:
        """Start, show the arguments, check the policy (asking the room if needed), run, report.

        Returns what ``fn`` returns; raises :class:`ToolSkipped` when the tool did not run, or
        what ``fn`` raised (the result says so)."""
        args = dict(args or {})
        call = await self.start_tool_call(name)
        await call.args(json.dumps(args, ensure_ascii=False, default=str))
        return await call.execute(args, fn, reason=reason)

    # text ----------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def message(self, message_id: str | None = None, *, answer: bool = True) -> AsyncIterator[TextStream]:
        """A streamed answer: ``async with run.message() as m: await m.write("...")``.

        The agent's next reply to the run's message names it as its ``streamId`` (``answer``)."""
        stream = TextStream(self, message_id or _new_id("msg"))
        await self._send(TextMessageStartEvent(message_id=stream.message_id, role="assistant"))
        self._open_texts.append(stream.message_id)
        if answer:
            self.answer_id = stream.message_id
        try:
            yield stream
        finally:
            if stream.message_id in self._open_texts and not self.finished:
                self._open_texts.remove(stream.message_id)
                await self._send(TextMessageEndEvent(message_id=stream.message_id))

    async def text(self, text: str, *, answer: bool = True) -> str:
        """A whole text message at once; returns its id (the answer's ``streamId``)."""
        async with self.message(answer=answer) as stream:
            for start in range(0, len(text), MAX_EVENT_BYTES // 8):
                await stream.write(text[start:start + MAX_EVENT_BYTES // 8])
        return stream.message_id

    # reasoning -----------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def reasoning(self) -> AsyncIterator[TextStream]:
        """The model's visible reasoning: ``REASONING_START``, a reasoning message, ``REASONING_END``."""
        block = _new_id("reasoning")
        message_id = _new_id("thought")
        await self._send(ReasoningStartEvent(message_id=block))
        self._open_reasoning.append(("block", block))
        await self._send(ReasoningMessageStartEvent(message_id=message_id, role="reasoning"))
        self._open_reasoning.append(("message", message_id))
        stream = _ReasoningStream(self, message_id)
        try:
            yield stream
        finally:
            if not self.finished:
                for kind, ident in (("message", message_id), ("block", block)):
                    if (kind, ident) in self._open_reasoning:
                        self._open_reasoning.remove((kind, ident))
                        await self._send(ReasoningMessageEndEvent(message_id=ident) if kind == "message"
                                         else ReasoningEndEvent(message_id=ident))

    # usage ---------------------------------------------------------------------------------
    def usage(self, *, provider: str | None = None, model: str | None = None, input_tokens: int | None = None,
              output_tokens: int | None = None, total_tokens: int | None = None,
              reasoning_tokens: int | None = None, cached_input_tokens: int | None = None) -> None:
        """Token usage, reported on ``RUN_FINISHED`` (summed per provider and model)."""
        self._usage.append(TokenUsage(
            provider=provider, model=model, input_tokens=input_tokens, output_tokens=output_tokens,
            total_tokens=total_tokens, reasoning_tokens=reasoning_tokens, cached_input_tokens=cached_input_tokens,
        ))


class _ReasoningStream(TextStream):
    async def write(self, delta: str) -> None:
        if delta:
            self.text += delta
            await self.run._send(ReasoningMessageContentEvent(message_id=self.message_id, delta=delta))


ToolFunction = Callable[..., Any | Awaitable[Any]]
