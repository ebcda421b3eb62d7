"""Pick the fan-out, presence and rate-limit implementations for the configuration."""

from __future__ import annotations

from .fanout import Fanout, LocalFanout
from .presence import LocalPresence, Presence
from .ratelimit import LocalRateLimiter, RateLimiter
from .settings import Settings
from .store import Store

__all__ = ["make_fanout", "make_presence", "make_limiter"]


def make_fanout(settings: Settings, store: Store | None = None) -> Fanout:
    """With Redis, ``store`` lets the fan-out repair gaps in the message order from the database."""
    if settings.redis_url:
        from .fanout.redis import RedisFanout

        return RedisFanout(
            settings.redis_url, prefix=settings.redis_prefix, store=store,
            reorder_wait=settings.reorder_wait_seconds,
        )
    return LocalFanout()


def make_presence(settings: Settings) -> Presence:
    if settings.redis_url:
        from .presence_redis import RedisPresence

        return RedisPresence(settings.redis_url, prefix=settings.redis_prefix, ttl=settings.presence_ttl_seconds)
    return LocalPresence()


def make_limiter(settings: Settings) -> RateLimiter:
    if settings.redis_url:
        from .ratelimit_redis import RedisRateLimiter

        return RedisRateLimiter(
            settings.redis_url, settings.max_messages_per_hour, settings.response_delay_seconds,
            prefix=settings.redis_prefix,
        )
    return LocalRateLimiter(settings.max_messages_per_hour, settings.response_delay_seconds)
