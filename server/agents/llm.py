"""``LLMAgent``: an agent answered by a model behind an OpenAI-compatible endpoint.

The answer streams into the chat as ``agent_stream`` deltas (one ``streamId``), then arrives
complete as an ``agent_response`` with the same ``streamId``, which is what gets stored.
The recent conversation is sent as context, each person's line prefixed with their name.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx

from agentchat_client.message import ParsedMessage
from agentchat_client.protocol import AgentState
from ..store import Message
from .base import Agent, AgentError, Status
from .llm_client import LLMError, stream_chat

__all__ = ["LLMAgent", "LLMSpec"]

FLUSH_SECONDS = 0.05
"""Deltas arriving closer together than this are sent as one frame."""


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


class LLMAgent(Agent):
    role = "LLM assistant"

    def __init__(self, spec: LLMSpec) -> None:
        super().__init__(spec.name, spec.description or f"Answers with the {spec.model} model.")
        self.spec = spec
        self._http: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(self.spec.timeout, connect=10.0))

    async def stop(self) -> None:
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

    def payload(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.spec.model, "messages": messages}
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
        payload = self.payload(await self.context(msg))
        stream_id = "s-" + secrets.token_hex(6)
        text, pending, last_flush = "", "", 0.0
        try:
            async for piece in stream_chat(self._http, self.spec.base_url, self.spec.api_key, payload):
                text += piece
                pending += piece
                now = time.monotonic()
                if now - last_flush >= FLUSH_SECONDS:
                    self.stream(stream_id, pending, msg.message_id, msg.room_id, msg.thread_id)
                    pending, last_flush = "", now
            if pending:
                self.stream(stream_id, pending, msg.message_id, msg.room_id, msg.thread_id)
        except LLMError as exc:
            raise AgentError(str(exc)) from None
        except asyncio.CancelledError:
            if text:  # close the partial answer the clients are showing
                await asyncio.shield(self._finish(msg, text + " …", stream_id, AgentState.IDLE))
            raise
        if not text.strip():
            raise AgentError(f"The model {self.spec.model} returned an empty answer.")
        await self._finish(msg, text, stream_id, AgentState.COMPLETED)

    async def _finish(self, msg: ParsedMessage, text: str, stream_id: str, status: AgentState) -> None:
        await self.reply(msg, text, status, stream_id=stream_id)  # cut to the message limit by ``say``
