"""Pick the fan-out, presence and rate-limit implementations for the configuration."""

from __future__ import annotations

from .fanout import Fanout, LocalFanout
from .presence import LocalPresence, Presence
from .ratelimit import LocalRateLimiter, RateLimiter
from .settings import Settings

__all__ = ["make_fanout", "make_presence", "make_limiter"]


def make_fanout(settings: Settings) -> Fanout:
    if settings.redis_url:
        from .fanout.redis import RedisFanout

        return RedisFanout(settings.redis_url)
    return LocalFanout()


def make_presence(settings: Settings) -> Presence:
    if settings.redis_url:
        from .presence_redis import RedisPresence

        return RedisPresence(settings.redis_url)
    return LocalPresence()


def make_limiter(settings: Settings) -> RateLimiter:
    if settings.redis_url:
        from .ratelimit_redis import RedisRateLimiter

        return RedisRateLimiter(settings.redis_url, settings.max_messages_per_hour, settings.response_delay_seconds)
    return LocalRateLimiter(settings.max_messages_per_hour, settings.response_delay_seconds)
