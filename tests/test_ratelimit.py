"""The sliding-window rate limit, with time passed in."""

from __future__ import annotations

from server.backends.ratelimit import SlidingWindow


def test_minimum_gap_and_exact_retry_after() -> None:
    window = SlidingWindow(max_per_window=100, min_gap=2.0)
    assert window.try_acquire("u", 10.0) == 0
    assert window.try_acquire("u", 10.5) == 1.5
    assert window.try_acquire("u", 12.0) == 0


def test_hourly_quota_slides() -> None:
    window = SlidingWindow(max_per_window=3, min_gap=0, window=3600)
    for t in (0.0, 100.0, 200.0):
        assert window.try_acquire("u", t) == 0
    assert window.try_acquire("u", 300.0) == 3300.0  # the first one leaves the window at 3600
    assert window.try_acquire("u", 3600.0) == 0
    assert window.try_acquire("u", 3601.0) == 99.0


def test_users_are_independent_and_refusals_are_not_counted() -> None:
    window = SlidingWindow(max_per_window=1, min_gap=0, window=10)
    assert window.try_acquire("a", 0) == 0
    for t in range(1, 9):
        assert window.try_acquire("a", t) > 0
    assert window.try_acquire("a", 10) == 0  # refused attempts did not extend the window
    assert window.try_acquire("b", 0) == 0


def test_idle_users_are_forgotten() -> None:
    window = SlidingWindow(max_per_window=5, min_gap=0, window=10)
    window.try_acquire("a", 0)
    window.forget_idle(20)
    assert window._events == {}
