"""The reorder buffer of the Redis fan-out, without Redis: ids in, ordered events out."""

from __future__ import annotations

import random

from server.core.events import Event
from server.backends.fanout.reorder import Reorder
from agentchat_client.protocol import MessageType


def msg(mid: int) -> Event:
    return Event(MessageType.MESSAGE, b"{}", message_id=mid)


def other(tag: str) -> Event:
    return Event(MessageType.TYPING, tag.encode())


def ids(events: list[Event]) -> list[object]:
    return [e.message_id if e.message_id is not None else e.frame.decode() for e in events]


def test_in_order_passes_straight_through() -> None:
    r = Reorder(10)
    assert ids(r.push(msg(11))) == [11]
    assert ids(r.push(other("t"))) == ["t"]
    assert ids(r.push(msg(12))) == [12]
    assert not r.needs_repair


def test_out_of_order_is_held_until_the_predecessor_arrives() -> None:
    r = Reorder(10)
    assert r.push(msg(12)) == []
    assert r.needs_repair and r.repair_target == 12
    assert ids(r.push(msg(11))) == [11, 12]
    assert not r.needs_repair and r.last == 12


def test_duplicates_and_old_ids_are_dropped() -> None:
    r = Reorder(10)
    assert ids(r.push(msg(11))) == [11]
    assert r.push(msg(11)) == []
    assert r.push(msg(5)) == []
    assert r.push(msg(13)) == []
    assert r.push(msg(13)) == []
    assert ids(r.push(msg(12))) == [12, 13]


def test_other_events_keep_their_place_behind_held_messages() -> None:
    r = Reorder(10)
    assert r.push(msg(12)) == []
    assert r.push(other("a")) == []  # arrived after 12: waits for it
    assert ids(r.push(msg(11))) == [11, 12, "a"]


def test_other_events_before_a_held_message_are_not_delayed_after_it() -> None:
    r = Reorder(10)
    assert r.push(msg(13)) == []
    assert r.push(other("a")) == []
    assert r.push(msg(12)) == []
    assert r.push(other("b")) == []
    assert ids(r.push(msg(11))) == [11, 12, 13, "a", "b"]


def test_fill_skips_ids_that_never_committed_and_uses_rows_from_the_database() -> None:
    r = Reorder(10)
    r.push(msg(14))
    r.push(other("x"))
    # 11 never committed (rolled back); 12 and 13 are in the database but their events were lost.
    out = r.fill(14, {12: msg(12), 13: msg(13)})
    assert ids(out) == [12, 13, 14, "x"]
    assert r.last == 14 and not r.needs_repair
    assert r.push(msg(12)) == []  # the late copy from Redis is not delivered twice
    assert ids(r.push(msg(15))) == [15]


def test_sync_hint_fetches_the_tail_even_with_nothing_held() -> None:
    r = Reorder(10)
    r.sync(13)
    assert r.needs_repair and r.repair_target == 13
    assert ids(r.fill(13, {11: msg(11), 13: msg(13)})) == [11, 13]
    assert not r.needs_repair


def test_fill_keeps_what_is_held_beyond_the_target() -> None:
    r = Reorder(10)
    r.push(msg(12))
    r.push(msg(20))
    assert ids(r.fill(12, {11: msg(11)})) == [11, 12]
    assert r.needs_repair and r.repair_target == 20


def test_random_arrival_order_delivers_every_id_once_in_order() -> None:
    rng = random.Random(7)
    for _ in range(50):
        wanted = list(range(1, 200))
        arrivals = wanted + rng.sample(wanted, 30)  # with repeats
        rng.shuffle(arrivals)
        r = Reorder(0)
        out: list[object] = []
        for mid in arrivals:
            out += ids(r.push(msg(mid)))
        assert out == wanted
