"""``LLMAgent``: an agent answered by a model behind an OpenAI-compatible endpoint.

Each answer is a run the room can watch: the model's reasoning (when it sends any) as
``REASONING_*`` events, its answer as a streamed text message, and the tools it calls (the
endpoint's streamed ``tool_calls``) as ``TOOL_CALL_START`` / ``ARGS`` / ``END``; each call then
goes through its policy (``ask`` waits for the room's approval), runs, and its
``TOOL_CALL_RESULT`` goes back to the model, for up to ``max_tool_rounds`` rounds.  Clients of the
original protocol see the text as ``agent_stream`` deltas and the final ``agent_response`` (the
one that is stored), as before.  The recent conversation is sent as context, each person's line
prefixed with their name.  The tools are the config's Python functions and the tools of the
agent's MCP servers (``mcp_sessions``), offered per question.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from agentchat_client.message import ParsedMessage
from agentchat_client.protocol import AgentState
from agentchat_client.runs import Run, TextStream, Tool, ToolCall, ToolSkipped, result_text
from ..accounts.tool_tokens import ToolTokens
from ..store import Message
from .base import AgentError, Status
from .llm_client import ChatDelta, LLMError, stream_chat
from .mcp_sessions import McpToolbox
from .metering import CallClock, Metered, openai_tokens

__all__ = ["LLMAgent", "LLMSpec"]

FLUSH_SECONDS = 0.05
"""Deltas arriving closer together than this are sent as one event."""


@dataclass(frozen=True, slots=True)
class LLMSpec:
    name: str
    model: str
    system_prompt: str = "You are a helpful assistant."
    description: str = ""
    base_url: str = ""
    api_key: str = ""
    temperature: float | None = None
    max_tokens: int | None = None
    context_messages: int = 20
    timeout: float = 120.0
    max_tool_rounds: int = 8
    """Model calls that may end in tool calls before the agent gives up on an answer."""


@dataclass(slots=True)
class _PendingCall:
    """A tool call being streamed: started in the run once its name is known."""

    call_id: str | None = None
    name: str | None = None
    buffered: str = ""
    call: ToolCall | None = None


@dataclass(slots=True)
class _Round:
    """What one model call produced, and the run's open text or reasoning block meanwhile."""

    run: Run
    text: str = ""
    reasoning: str = ""
    calls: dict[int, _PendingCall] = field(default_factory=dict)
    _block: Any = None
    _stream: TextStream | None = None
    _kind: str = ""
    _pending: str = ""
    _flushed: float = 0.0

    async def _switch(self, kind: str) -> TextStream | None:
        if self._kind == kind:
            return self._stream
        await self.close()
        if kind in ("text", "reasoning"):
            self._block = self.run.message() if kind == "text" else self.run.reasoning()
            self._stream = await self._block.__aenter__()
            self._kind = kind
        return self._stream

    async def write(self, kind: str, piece: str) -> None:
        await self._switch(kind)
        self._pending += piece
        if kind == "text":
            self.text += piece
        else:
            self.reasoning += piece
        now = time.monotonic()
        if now - self._flushed >= FLUSH_SECONDS:
            await self.flush()
            self._flushed = now

    async def flush(self) -> None:
        if self._stream is not None and self._pending:
            pending, self._pending = self._pending, ""
            await self._stream.write(pending)

    async def close(self) -> None:
        await self.flush()
        if self._block is not None:
            block, self._block, self._stream, self._kind = self._block, None, None, ""
            await block.__aexit__(None, None, None)

    async def tool(self, delta: ChatDelta) -> None:
        await self.close()
        pending = self.calls.setdefault(delta.index, _PendingCall())
        pending.call_id = pending.call_id or delta.call_id
        pending.name = pending.name or delta.name
        pending.buffered += delta.text
        if pending.call is None and pending.name:
            pending.call = await self.run.start_tool_call(pending.name, pending.call_id)
        if pending.call is not None and pending.buffered:
            buffered, pending.buffered = pending.buffered, ""
            await pending.call.args(buffered)

    async def finish(self) -> list[ToolCall]:
        await self.close()
        calls = []
        for index in sorted(self.calls):
            pending = self.calls[index]
            if pending.call is None:
                pending.call = await self.run.start_tool_call(pending.name or "unknown", pending.call_id)
            if pending.buffered:
                await pending.call.args(pending.buffered)
            await pending.call.end()
            calls.append(pending.call)
        return calls


class LLMAgent(Metered):
    role = "LLM assistant"

    def __init__(self, spec: LLMSpec, tools: Sequence[Tool] = (), mcp: McpToolbox | None = None) -> None:
        super().__init__(spec.name, spec.description or f"Answers with the {spec.model} model.")
        self.spec = spec
        self.tools = tuple(tools)  # type: ignore[misc]
        self.mcp = mcp
        """The MCP servers whose tools the model gets next to ``tools`` (``mcp_servers`` in the config)."""
        self._http: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(self.spec.timeout, connect=10.0))
        if self.mcp is not None:
            await self.mcp.start(ToolTokens(self.manager.settings.data_dir))

    async def stop(self) -> None:
        if self.mcp is not None:
            await self.mcp.stop()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def working_status(self, msg: ParsedMessage) -> Status:
        return Status(AgentState.WORKING, f"Writing an answer for {msg.sender}")

    def _system(self) -> str:
        return (
            f"{self.spec.system_prompt}\n\nYou are @{self.name} in a team chat with people and other agents. "
            "Each user message starts with its sender's name. Answer the last message that mentions you."
        )

    def _line(self, row: Message) -> dict[str, str]:
        if row.sender == self.name:
            return {"role": "assistant", "content": row.text}
        files = ", ".join(a.get("name", "?") for a in row.attachments)
        text = row.text + (f" [attached: {files}]" if files else "")
        return {"role": "user", "content": f"{row.sender}: {text}"}

    async def context(self, msg: ParsedMessage) -> list[dict[str, str]]:
        """System prompt + the recent messages up to and including ``msg``."""
        rows, _ = await self.store.history(msg.message_id + 1, self.spec.context_messages, msg.room_id, msg.thread_id)
        messages = [{"role": "system", "content": self._system()}]
        messages += [self._line(row) for row in rows if row.text.strip() or row.attachments]
        if not rows or rows[-1].id != msg.message_id:
            messages.append({"role": "user", "content": f"{msg.sender}: {msg.text}"})
        return messages

    def payload(self, messages: list[dict[str, Any]], tools: Sequence[Tool] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.spec.model, "messages": messages,
                                "stream_options": {"include_usage": True}}
        tools = self.tools if tools is None else tools
        if tools:
            body["tools"] = [t.openai_schema() for t in tools]
        if self.spec.temperature is not None:
            body["temperature"] = self.spec.temperature
        if self.spec.max_tokens is not None:
            body["max_tokens"] = self.spec.max_tokens
        return body

    async def handle(self, msg: ParsedMessage) -> None:
        if not self.spec.base_url:
            raise AgentError("No model endpoint is configured: set AGENTCHAT_LLM_BASE_URL (e.g. http://localhost:11434/v1).")
        if self._http is None:
            raise AgentError("I am not started yet; try again in a moment.")
        await self.admit(msg)  # a spent budget refuses here, before any call to the model
        run = self.run
        messages: list[dict[str, Any]] = list(await self.context(msg))
        tools = await self._offer(msg, messages)
        answer, streamed = "", ""
        try:
            for round_number in range(1, self.spec.max_tool_rounds + 1):
                current = _Round(run)
                try:
                    await self._stream_round(current, self.payload(messages, tools))
                finally:
                    streamed = current.text
                    calls = await current.finish()
                answer = current.text
                if not calls:
                    break
                messages.append({"role": "assistant", "content": current.text or None, "tool_calls": [
                    {"id": c.call_id, "type": "function", "function": {"name": c.name, "arguments": c.args_text or "{}"}}
                    for c in calls
                ]})
                for call in calls:
                    messages.append({"role": "tool", "tool_call_id": call.call_id, "content": await self._execute(call)})
                if round_number == self.spec.max_tool_rounds:
                    answer = answer or f"I stopped after {round_number} rounds of tool calls without an answer."
        except LLMError as exc:
            raise AgentError(str(exc)) from None
        except asyncio.CancelledError:
            if streamed:  # close the partial answer the clients are showing
                await asyncio.shield(self._finish(msg, streamed + " …", AgentState.IDLE))
            raise
        if not answer.strip():
            raise AgentError(f"The model {self.spec.model} returned an empty answer.")
        await self._finish(msg, answer, AgentState.COMPLETED)

    async def _offer(self, msg: ParsedMessage, messages: list[dict[str, Any]]) -> list[Tool]:
        """The config tools and, for this person, the MCP servers' tools (made known to the run)."""
        if self.mcp is None:
            return list(self.tools)
        extra, notes = await self.mcp.tools_for(msg.sender, [t.name for t in self.tools])
        self.run.tools.update({t.name: t for t in extra})
        if notes:
            messages[0] = {**messages[0], "content": messages[0]["content"] + "\n\n" + "\n".join(notes)}
        return [*self.tools, *extra]

    async def _stream_round(self, current: _Round, payload: dict[str, Any]) -> None:
        assert self._http is not None
        clock, usage = CallClock(), None
        async for delta in stream_chat(self._http, self.spec.base_url, self.spec.api_key, payload):
            clock.tick()
            if delta.kind in ("text", "reasoning"):
                await current.write(delta.kind, delta.text)
            elif delta.kind == "tool":
                await current.tool(delta)
            elif delta.kind == "usage" and delta.usage:
                usage = delta.usage
                current.run.usage(model=self.spec.model, **openai_tokens(usage))
        await self.meter(current.run, self.spec.model, usage, clock)  # the ledger, budgets' soft notices

    async def _execute(self, call: ToolCall) -> str:
        """Run one call the model made (its policy first); what the model reads back."""
        if call.tool is None:
            message = f"Error: there is no tool named {call.name!r}"
            await call.result(message)
            return message
        try:
            args = json.loads(call.args_text or "{}")
        except ValueError:
            args = None
        if not isinstance(args, dict):
            message = "Error: the arguments are not a JSON object"
            await call.result(message)
            return message
        try:
            return result_text(await call.execute(args))
        except ToolSkipped as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001 - the model reads the error and may try otherwise
            return f"Error: {type(exc).__name__}: {exc}"

    async def _finish(self, msg: ParsedMessage, text: str, status: AgentState) -> None:
        await self.reply(msg, text, status)  # cut to the message limit by ``say``
