"""Rate limits in this process's memory: the default, one server process."""

from __future__ import annotations

import time

from .base import RateLimiter, SlidingWindow

__all__ = ["MemoryRateLimiter"]


class MemoryRateLimiter(RateLimiter):
    def __init__(self, max_per_hour: int, min_gap: float) -> None:
        self.window = SlidingWindow(max_per_hour, min_gap)
        self._calls = 0

    async def acquire(self, user_id: str) -> float:
        now = time.monotonic()
        self._calls += 1
        if self._calls % 10_000 == 0:
            self.window.forget_idle(now)
        return self.window.try_acquire(user_id, now)
