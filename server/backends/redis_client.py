"""Opening Redis connections and naming keys, shared by the fan-out, presence and rate limits.

Every key and channel starts with ``AGENTCHAT_REDIS_PREFIX`` so several chats, or several
test runs, can share one Redis without seeing each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import cast
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.exceptions import RedisError

__all__ = ["RedisUnavailableError", "Keys", "make_client", "connect", "redact"]

CONNECT_TIMEOUT = 3.0
COMMAND_TIMEOUT = 5.0


class RedisUnavailableError(ConnectionError):
    """Redis cannot be reached at start; the message names ``AGENTCHAT_REDIS_URL``.

    A ``ConnectionError`` (so an ``OSError``): ``python -m server`` reports it as a start failure.
    """


class Keys:
    """Builds prefixed key names: ``Keys("agentchat")("presence", "online")`` -> ``agentchat:presence:online``."""

    def __init__(self, prefix: str) -> None:
        if not prefix or any(c.isspace() for c in prefix):
            raise ValueError(f"invalid Redis key prefix {prefix!r} (AGENTCHAT_REDIS_PREFIX)")
        self.prefix = prefix

    def __call__(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def make_client(url: str, *, for_pubsub: bool = False, name: str | None = None) -> aioredis.Redis:
    """A client with bounded timeouts (a pub/sub reader waits without a socket timeout).

    ``name`` shows in ``CLIENT LIST`` (``<prefix>:<role>``), so operators see who is who.
    """
    return aioredis.from_url(
        url,
        client_name=name,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=None if for_pubsub else COMMAND_TIMEOUT,
        health_check_interval=10 if for_pubsub else 0,
    )


async def connect(url: str, *, for_pubsub: bool = False, name: str | None = None) -> aioredis.Redis:
    """A client that has answered PING, or a clear ``RedisUnavailableError``."""
    client = make_client(url, for_pubsub=for_pubsub, name=name)
    try:
        await asyncio.wait_for(cast(Awaitable[bool], client.ping()), CONNECT_TIMEOUT + 1)
    except (RedisError, OSError, asyncio.TimeoutError) as exc:
        await client.aclose()
        reason = str(exc) or type(exc).__name__
        raise RedisUnavailableError(
            f"cannot reach Redis at {redact(url)} (AGENTCHAT_REDIS_URL): {reason}"
        ) from None
    return client
