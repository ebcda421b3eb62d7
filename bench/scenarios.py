"""The scenarios of issue 7, at full size and at smoke-test size."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Scenario", "FULL", "SMOKE"]


@dataclass(frozen=True)
class Scenario:
    name: str
    clients: int
    senders: int = 0
    rate: float = 0.0  # messages/s per sender; 0 with senders means closed loop (max throughput)
    window: int = 4  # closed loop: messages in flight per sender
    duration_s: float = 8.0  # sending time (or holding time when nobody sends)
    text_bytes: int = 100
    users: int = 0  # distinct user ids; 0 means one per client
    slow_reader: bool = False
    procs: int = 1  # client processes for the receivers (senders always get one of their own)
    drain_s: float = 8.0
    rounds: int = 2  # traffic rounds on the same connections; the best is kept (shared, noisy machine)
    group: str = ""  # scenarios with the same group share one server and one set of connections
    what: str = ""

    @property
    def closed_loop(self) -> bool:
        return self.senders > 0 and self.rate <= 0


FULL: tuple[Scenario, ...] = (
    Scenario(
        "idle-10k", 10_000, users=100, duration_s=3.0, rounds=1,
        what="10,000 idle connections (100 users) held: RSS per connection, connect+auth rate",
    ),
    Scenario(
        "fanout-100", 100, senders=10, rate=10.0, duration_s=5.0, rounds=3, group="room-100",
        what="100 clients, 10 of them send 10 msg/s each: latency at a fixed rate",
    ),
    Scenario(
        "throughput-100", 100, senders=10, window=4, duration_s=5.0, rounds=3, group="room-100",
        what="the same room, the 10 senders closed-loop (4 in flight each): max deliveries/s",
    ),
    Scenario(
        "slow-ref", 100, senders=10, rate=15.0, text_bytes=7500, duration_s=10.0, rounds=1, group="room-100",
        what="the same room, 7.5 KB messages at 150 msg/s: reference for slow-reader",
    ),
    Scenario(
        "fanout-1000", 1000, senders=10, rate=2.0, duration_s=5.0, rounds=3, group="room-1000",
        what="1,000 clients, 10 of them send 2 msg/s each: latency at a fixed rate",
    ),
    Scenario(
        "throughput-1000", 1000, senders=10, window=2, duration_s=5.0, rounds=3, group="room-1000",
        what="the same room, the 10 senders closed-loop (2 in flight each): max deliveries/s",
    ),
    Scenario(
        "slow-reader", 100, senders=10, rate=15.0, text_bytes=7500, duration_s=10.0, slow_reader=True, rounds=1,
        what="as slow-ref, plus one client that stops reading (about 11 MB queue up for it)",
    ),
)

SMOKE: tuple[Scenario, ...] = (
    Scenario("smoke-fanout", 6, senders=2, rate=20.0, duration_s=0.5, drain_s=5.0, rounds=1, what="smoke: every message arrives"),
    Scenario("smoke-closed", 6, senders=2, window=2, duration_s=0.5, procs=2, drain_s=5.0, what="smoke: closed loop, 2 receiver processes, 2 rounds"),
)
