"""A streaming client for OpenAI-compatible ``/v1/chat/completions`` endpoints.

Ollama, vLLM, llama.cpp's server, LM Studio and OpenAI all speak it: POST the messages with
``"stream": true`` and read Server-Sent Events, one ``data: {json}`` line per chunk, ending with
``data: [DONE]``.  Every failure becomes an :class:`LLMError` whose message a person can act on.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

__all__ = ["LLMError", "chat_url", "stream_chat"]


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


def _delta(chunk: dict[str, Any]) -> str:
    if "error" in chunk:
        raise LLMError(f"The model endpoint reported an error: {_error_detail(json.dumps(chunk).encode())}")
    choices = chunk.get("choices") or []
    if not choices:
        return ""
    choice = choices[0]
    piece = (choice.get("delta") or {}).get("content")
    if piece is None:  # a server that ignored "stream" and sent the whole message
        piece = (choice.get("message") or {}).get("content")
    return piece or ""


async def stream_chat(
    http: httpx.AsyncClient, base_url: str, api_key: str, payload: dict[str, Any]
) -> AsyncIterator[str]:
    """Yield the answer's text pieces as the endpoint produces them."""
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
                    yield _delta(json.loads(raw))
                except ValueError:
                    raise LLMError("The model endpoint did not answer with JSON or a stream") from None
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
                piece = _delta(chunk)
                if piece:
                    yield piece
    except httpx.ConnectError:
        raise LLMError(f"Cannot reach the model endpoint at {url}: is it running?") from None
    except httpx.TimeoutException:
        raise LLMError(f"The model endpoint at {url} did not answer in time") from None
    except httpx.HTTPError as exc:
        raise LLMError(f"The connection to the model endpoint failed ({type(exc).__name__})") from None
