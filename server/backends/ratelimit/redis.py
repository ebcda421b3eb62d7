"""One rate limit per user across every server process, in Redis.

The same rule as ``SlidingWindow`` (at most ``max_per_window`` messages in any window and
``min_gap`` seconds between two), run as one Lua script so two processes cannot both admit the
last allowed message.  Time is Redis's own clock (``TIME``): processes on machines whose clocks
disagree still share one window, and ``retryAfter`` stays exact.

Key: ``P:ratelimit:<user>``, a list of the user's last ``max_per_window`` send times, expiring
when the window has passed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from redis.exceptions import RedisError

from .base import WINDOW_SECONDS, RateLimiter, SlidingWindow
from ..redis_client import Keys, connect

__all__ = ["RedisRateLimiter"]

log = logging.getLogger(__name__)

# KEYS: the user's list   ARGV: window, max per window, min gap
# Returns "0" (admitted and counted) or the seconds to wait, as a string (Lua numbers become integers).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window, limit, gap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local n = redis.call('LLEN', KEYS[1])
while n > 0 do
  local first = tonumber(redis.call('LINDEX', KEYS[1], 0))
  if first > now - window then break end
  redis.call('LPOP', KEYS[1])
  n = n - 1
end
local wait = 0
if n > 0 then
  wait = tonumber(redis.call('LINDEX', KEYS[1], -1)) + gap - now
  if n >= limit then
    wait = math.max(wait, tonumber(redis.call('LINDEX', KEYS[1], 0)) + window - now)
  end
end
if wait > 0 then return string.format('%.6f', wait) end
redis.call('RPUSH', KEYS[1], string.format('%.6f', now))
if n + 1 > limit then redis.call('LTRIM', KEYS[1], -limit, -1) end
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
return '0'
"""


class RedisRateLimiter(RateLimiter):
    def __init__(
        self,
        url: str,
        max_per_hour: int,
        min_gap: float,
        *,
        prefix: str = "agentchat",
        window: float = WINDOW_SECONDS,
    ) -> None:
        if max_per_hour <= 0 or min_gap < 0 or window <= 0:
            raise ValueError("rate limit: max_per_hour and window must be positive, min_gap not negative")
        self.url = url
        self.keys = Keys(prefix)
        self.max_per_window = max_per_hour
        self.min_gap = min_gap
        self.window = window
        self._client: Any = None
        self._script: Any = None
        self._connecting = asyncio.Lock()
        self._fallback = SlidingWindow(max_per_hour, min_gap, window)
        self._warned = 0.0

    async def acquire(self, user_id: str) -> float:
        try:
            return await self._acquire(user_id)
        except (RedisError, OSError) as exc:
            # Redis is down: keep limiting, per process, rather than refuse every message.
            now = time.monotonic()
            if now - self._warned > 30:
                self._warned = now
                log.warning("rate limits: Redis unavailable (%s); limiting per process until it is back", exc)
            return self._fallback.try_acquire(user_id, now)

    async def _acquire(self, user_id: str) -> float:
        if self._script is None:
            async with self._connecting:
                if self._script is None:
                    self._client = await connect(self.url, name=self.keys("ratelimit"))
                    self._script = self._client.register_script(_ACQUIRE)
        wait = await self._script(
            keys=[self.keys("ratelimit", user_id)], args=[self.window, self.max_per_window, self.min_gap]
        )
        return max(float(wait), 0.0)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
            self._script = None
