"""Per-user rate limits: a sliding hour and a minimum gap between two messages.

``SlidingWindow`` is pure (time is passed in) so it is tested without clocks; the
``RateLimiter`` interface lets the Redis implementation enforce one limit per user
across every server process.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque

__all__ = ["SlidingWindow", "RateLimiter", "WINDOW_SECONDS"]

WINDOW_SECONDS = 3600.0


class SlidingWindow:
    """At most ``max_per_window`` events in any window, and ``min_gap`` seconds apart.

    Keeps the last ``max_per_window`` timestamps per user: each check pops at most the
    entries it pushed, so the cost is O(1) amortised.
    """

    def __init__(self, max_per_window: int, min_gap: float, window: float = WINDOW_SECONDS) -> None:
        self.max_per_window = max_per_window
        self.min_gap = min_gap
        self.window = window
        self._events: dict[str, deque[float]] = {}

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until ``key`` may send again; 0 means now."""
        events = self._events.get(key)
        if not events:
            return 0.0
        while events and events[0] <= now - self.window:
            events.popleft()
        wait = 0.0
        if events:
            wait = max(wait, events[-1] + self.min_gap - now)
        if len(events) >= self.max_per_window:
            wait = max(wait, events[0] + self.window - now)
        return max(wait, 0.0)

    def try_acquire(self, key: str, now: float) -> float:
        """Record an event if allowed and return 0, else return the wait in seconds."""
        wait = self.retry_after(key, now)
        if wait > 0:
            return wait
        events = self._events.setdefault(key, deque(maxlen=self.max_per_window))
        events.append(now)
        return 0.0

    def forget_idle(self, now: float) -> None:
        """Drop users with no event inside the window (bounded memory on long runs)."""
        for key in [k for k, ev in self._events.items() if not ev or ev[-1] <= now - self.window]:
            del self._events[key]


class RateLimiter(ABC):
    @abstractmethod
    async def acquire(self, user_id: str) -> float:
        """0 if the user may send now (and it is counted), else seconds to wait."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        pass
