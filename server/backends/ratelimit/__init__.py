"""Per-user rate limits: the rule (``SlidingWindow``), in memory and in Redis."""

from .base import WINDOW_SECONDS, RateLimiter, SlidingWindow
from .memory import MemoryRateLimiter

__all__ = ["RateLimiter", "SlidingWindow", "WINDOW_SECONDS", "MemoryRateLimiter"]
