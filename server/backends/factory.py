"""Pick each pluggable concern's implementation for the configuration: memory, or Redis when
``AGENTCHAT_REDIS_URL`` is set (several server processes acting as one chat)."""

from __future__ import annotations

from ..settings import Settings
from .agent_directory import AgentDirectory, MemoryAgentDirectory
from .fanout import Fanout, MemoryFanout
from .fanout.redis import MessageSource
from .presence import MemoryPresence, Presence
from .ratelimit import MemoryRateLimiter, RateLimiter

__all__ = ["make_fanout", "make_presence", "make_limiter", "make_agent_directory"]


def make_fanout(settings: Settings, store: MessageSource | None = None) -> Fanout:
    """With Redis, ``store`` lets the fan-out repair gaps in the message order from the database."""
    if settings.redis_url:
        from .fanout.redis import RedisFanout

        return RedisFanout(
            settings.redis_url, prefix=settings.redis_prefix, store=store,
            reorder_wait=settings.reorder_wait_seconds,
        )
    return MemoryFanout()


def make_presence(settings: Settings) -> Presence:
    if settings.redis_url:
        from .presence.redis import RedisPresence

        return RedisPresence(settings.redis_url, prefix=settings.redis_prefix, ttl=settings.presence_ttl_seconds)
    return MemoryPresence()


def make_limiter(settings: Settings) -> RateLimiter:
    if settings.redis_url:
        from .ratelimit.redis import RedisRateLimiter

        return RedisRateLimiter(
            settings.redis_url, settings.max_messages_per_hour, settings.response_delay_seconds,
            prefix=settings.redis_prefix,
        )
    return MemoryRateLimiter(settings.max_messages_per_hour, settings.response_delay_seconds)


def make_agent_directory(settings: Settings) -> AgentDirectory:
    if settings.redis_url:
        from .agent_directory.redis import RedisAgentDirectory

        return RedisAgentDirectory(settings.redis_url, prefix=settings.redis_prefix)
    return MemoryAgentDirectory()
