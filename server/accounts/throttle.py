"""Failed sign-ins: a growing wait per username and per client address.

Pure: the record and the clock come in, the new record and the wait go out.  The service
keeps the records in the account store (the database), so every server process sees the
same counters.

Schedule: the first ``free`` failures in a row cost nothing; each one after that doubles
the wait, from ``base`` seconds up to ``cap``.  A success clears the username's record; a
quiet ``forget_after`` seconds since the last failure clears either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

__all__ = ["Attempts", "ThrottlePolicy", "NAME_POLICY", "ADDRESS_POLICY", "record_failure", "wait_seconds",
           "too_many_message"]


@dataclass(frozen=True, slots=True)
class Attempts:
    key: str
    failures: int = 0
    last_failure: datetime | None = None
    blocked_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free: int
    base: float = 1.0
    cap: float = 900.0
    forget_after: float = 3600.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failure in a row."""
        if failures <= self.free:
            return 0.0
        return min(self.cap, self.base * 2 ** (failures - self.free - 1))


NAME_POLICY = ThrottlePolicy(free=5)
"""Guessing one person's password: 5 tries, then 1 s, 2 s, 4 s ... up to 15 min."""
ADDRESS_POLICY = ThrottlePolicy(free=20)
"""One address trying many names: more room (an office behind one NAT), same growth."""


def _current(attempts: Attempts, policy: ThrottlePolicy, now: datetime) -> Attempts:
    last = attempts.last_failure
    if last is not None and (now - last).total_seconds() > policy.forget_after:
        return Attempts(attempts.key)
    return attempts


def record_failure(attempts: Attempts, policy: ThrottlePolicy, now: datetime) -> Attempts:
    current = _current(attempts, policy, now)
    failures = current.failures + 1
    delay = policy.delay(failures)
    blocked = now + timedelta(seconds=delay) if delay > 0 else None
    return replace(current, failures=failures, last_failure=now, blocked_until=blocked)


def wait_seconds(attempts: Attempts, policy: ThrottlePolicy, now: datetime) -> float:
    current = _current(attempts, policy, now)
    if current.blocked_until is None:
        return 0.0
    return max(0.0, (current.blocked_until - now).total_seconds())


def too_many_message(wait: float) -> str:
    return f"Too many attempts; try again in {max(1, math.ceil(wait))} s"
