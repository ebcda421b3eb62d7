"""A streaming client for OpenAI-compatible ``/v1/chat/completions`` endpoints.

Ollama, vLLM, llama.cpp's server, LM Studio and OpenAI all speak it: POST the messages with
``"stream": true`` and read Server-Sent Events, one ``data: {json}`` line per chunk, ending with
``data: [DONE]``.  Every failure becomes an :class:`LLMError` whose message a person can act on.

Each chunk becomes :class:`ChatDelta` values: answer text, reasoning (``reasoning_content``, as
DeepSeek, vLLM and llama.cpp send it, or ``reasoning``, as Ollama and OpenRouter do), pieces of
tool calls (``tool_calls[i]``: an id and name first, then the arguments' JSON in fragments), and
the token usage of the final chunk (``stream_options.include_usage``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

import httpx

__all__ = ["LLMError", "ChatDelta", "chat_url", "stream_chat", "deltas_of"]


class LLMError(Exception):
    """The endpoint could not give an answer; the message says why, for people."""


def chat_url(base_url: str) -> str:
    """``http://host:11434/v1`` -> ``http://host:11434/v1/chat/completions`` (a full URL is kept)."""
    base = base_url.rstrip("/")
    return base if base.endswith("/chat/completions") else base + "/chat/completions"


def _error_detail(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()[:200]
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            return str(err.get("message") or err.get("detail") or err)[:200]
        return str(err)[:200]
    return str(data)[:200]


@dataclass(frozen=True, slots=True)
class ChatDelta:
    """One piece of a streamed answer."""

    kind: Literal["text", "reasoning", "tool", "usage"]
    text: str = ""
    index: int = 0
    """Which tool call (``tool``): the model may call several at once."""
    call_id: str | None = None
    name: str | None = None
    usage: dict[str, Any] | None = None


def deltas_of(chunk: dict[str, Any]) -> list[ChatDelta]:
    """The deltas in one decoded chunk (or in a whole non-streamed answer)."""
    if "error" in chunk:
        raise LLMError(f"The model endpoint reported an error: {_error_detail(json.dumps(chunk).encode())}")
    out: list[ChatDelta] = []
    choices = chunk.get("choices") or []
    if choices and isinstance(choices[0], dict):
        choice = choices[0]
        delta: dict[str, Any] = {}
        if isinstance(choice.get("delta"), dict):
            delta = choice["delta"]
        elif isinstance(choice.get("message"), dict):  # a server that ignored "stream" and sent the whole message
            delta = choice["message"]
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            out.append(ChatDelta("reasoning", reasoning))
        content = delta.get("content")
        if isinstance(content, str) and content:
            out.append(ChatDelta("text", content))
        for position, call in enumerate(delta.get("tool_calls") or ()):
            if not isinstance(call, dict):
                continue
            function: dict[str, Any] = call["function"] if isinstance(call.get("function"), dict) else {}
            arguments = function.get("arguments")
            out.append(ChatDelta(
                "tool", arguments if isinstance(arguments, str) else "" if arguments is None else json.dumps(arguments),
                index=call["index"] if isinstance(call.get("index"), int) else position,
                call_id=call.get("id") if isinstance(call.get("id"), str) else None,
                name=function.get("name") if isinstance(function.get("name"), str) else None,
            ))
    if isinstance(chunk.get("usage"), dict):
        out.append(ChatDelta("usage", usage=chunk["usage"]))
    return out


async def stream_chat(
    http: httpx.AsyncClient, base_url: str, api_key: str, payload: dict[str, Any]
) -> AsyncIterator[ChatDelta]:
    """Yield the answer's pieces (text, reasoning, tool calls, usage) as the endpoint produces them."""
    url = chat_url(base_url)
    headers = {"Accept": "text/event-stream"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    body = {**payload, "stream": True}
    try:
        async with http.stream("POST", url, json=body, headers=headers) as response:
            if response.status_code >= 400:
                detail = _error_detail(await response.aread())
                raise LLMError(f"The model endpoint answered HTTP {response.status_code}: {detail or response.reason_phrase}")
            if "text/event-stream" not in response.headers.get("content-type", ""):
                raw = await response.aread()
                try:
                    whole = json.loads(raw)
                except ValueError:
                    raise LLMError("The model endpoint did not answer with JSON or a stream") from None
                for delta in deltas_of(whole if isinstance(whole, dict) else {}):
                    yield delta
                return
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue  # comments, event names, blank separators
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                try:
                    chunk = json.loads(data)
                except ValueError:
                    continue
                if isinstance(chunk, dict):
                    for delta in deltas_of(chunk):
                        yield delta
    except httpx.ConnectError:
        raise LLMError(f"Cannot reach the model endpoint at {url}: is it running?") from None
    except httpx.TimeoutException:
        raise LLMError(f"The model endpoint at {url} did not answer in time") from None
    except httpx.HTTPError as exc:
        raise LLMError(f"The connection to the model endpoint failed ({type(exc).__name__})") from None
