"""The connection state machine: what a client may send when, catch-up holding, typing relay."""

from __future__ import annotations

import pytest

from agentchat_client.protocol import ErrorCode, MessageType, ProtocolError, Role
from server.core.connection import CLOSE_POLICY, ConnectionCore, ConnectionLimits, ConnState
from server.core.events import Event
from server.core.identity import Identity

ALICE = Identity("alice", Role.DEVELOPER)


def event(message_id: int | None = None, size: int = 10) -> Event:
    return Event(MessageType.MESSAGE, b"x" * size, message_id=message_id)


def live_core(**limits: float) -> ConnectionCore:
    core = ConnectionCore("c1", 0.0, ConnectionLimits(**limits))  # type: ignore[arg-type]
    core.authenticated(ALICE)
    core.start_catch_up(1.0)
    core.go_live()
    return core


def test_only_auth_and_ping_before_authenticating() -> None:
    core = ConnectionCore("c1", 0.0)
    core.check_frame(MessageType.AUTH)
    core.check_frame(MessageType.PING)
    for kind in (MessageType.MESSAGE, MessageType.HISTORY, MessageType.TYPING, MessageType.AGENT_RESPONSE):
        with pytest.raises(ProtocolError) as info:
            core.check_frame(kind)
        assert info.value.code is ErrorCode.NOT_AUTHENTICATED


def test_a_second_auth_is_refused() -> None:
    core = live_core()
    with pytest.raises(ProtocolError) as info:
        core.check_frame(MessageType.AUTH)
    assert info.value.code is ErrorCode.INVALID_MESSAGE
    core.check_frame(MessageType.MESSAGE)


def test_states_follow_the_documented_order() -> None:
    core = ConnectionCore("c1", 0.0)
    assert core.state is ConnState.CONNECTING
    core.authenticated(ALICE)
    assert core.state is ConnState.AUTHENTICATED and core.user_id == "alice"
    core.start_catch_up(1.0)
    assert core.state is ConnState.CATCHING_UP
    core.go_live()
    assert core.state is ConnState.LIVE and core.receives_live
    core.closing()
    assert core.state is ConnState.CLOSING
    with pytest.raises(RuntimeError):
        core.authenticated(ALICE)


def test_authentication_has_a_deadline() -> None:
    core = ConnectionCore("c1", 100.0, ConnectionLimits(auth_timeout=5))
    assert core.auth_overdue(104.9) is None
    decision = core.auth_overdue(105.1)
    assert decision is not None and decision.code == CLOSE_POLICY and "authenticate" in decision.reason
    core.authenticated(ALICE)
    assert core.auth_overdue(1000.0) is None


def test_live_frames_are_held_while_catching_up_and_replayed_without_duplicates() -> None:
    core = ConnectionCore("c1", 0.0)
    core.authenticated(ALICE)
    core.start_catch_up(0.0)
    for held in (event(5), event(6), event(None), event(7)):
        assert core.hold(held) is None
    core.go_live()
    assert core.state is ConnState.CATCHING_UP, "not live while frames are still held"
    frames = core.take_held(caught_up_to=6)  # the catch-up already sent 5 and 6
    assert len(frames) == 2
    core.go_live()
    assert core.state is ConnState.LIVE
    assert core.hold(event(8)) is None and core.take_held(0) == [], "live connections hold nothing"


def test_a_client_that_stops_reading_during_catch_up_is_closed() -> None:
    core = ConnectionCore("c1", 0.0, ConnectionLimits(catch_up_hold_bytes=1000, catch_up_timeout=30))
    core.authenticated(ALICE)
    core.start_catch_up(10.0)
    for _ in range(9):
        assert core.hold(event(size=100)) is None
    decision = core.hold(event(size=200))
    assert decision is not None and decision.code == CLOSE_POLICY and decision.reason == "client too slow"

    slow = ConnectionCore("c2", 0.0, ConnectionLimits(catch_up_timeout=30))
    slow.authenticated(ALICE)
    slow.start_catch_up(10.0)
    assert slow.catch_up_overdue(39.0) is None
    assert slow.catch_up_overdue(41.0) is not None


def test_closing_forgets_held_frames() -> None:
    core = ConnectionCore("c1", 0.0)
    core.authenticated(ALICE)
    core.start_catch_up(0.0)
    core.hold(event(1, size=1000))
    core.closing()
    assert not core.held and core.held_bytes == 0
    core.go_live()
    assert core.state is ConnState.CLOSING


def test_typing_starts_are_relayed_at_most_once_per_interval() -> None:
    core = live_core(typing_refresh=1.0)
    relayed = [core.typing_relay(True, t / 100) for t in range(300)]  # 300 frames over 3 s
    assert sum(relayed) == 3


def test_typing_stops_are_relayed_only_after_a_relayed_start() -> None:
    core = live_core(typing_refresh=1.0)
    assert [core.typing_relay(False, t / 100) for t in range(200)] == [False] * 200, "200 stops, 0 relays"
    assert core.typing_relay(True, 5.0) is True
    assert core.typing_relay(False, 5.1) is True
    assert core.typing_relay(False, 5.2) is False


def test_toggling_typing_is_bounded() -> None:
    core = live_core(typing_refresh=1.0)
    relayed = sum(core.typing_relay(i % 2 == 0, i / 1000) for i in range(2000))  # 2,000 toggles in 2 s
    assert relayed <= 4
