"""Routing: the hub's indexes give exactly what the ``accepts_event`` predicate says, for any mix
of connections and events (Hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agentchat_client.protocol import MessageType, Role, RoomKind
from server.core.connection import ConnectionLimits, ConnState
from server.core.events import Event
from server.core.identity import Identity
from server.core.rooms import Room, RoomDirectory
from server.core.routing import PUBLIC_EVENTS, accepts_event
from server.hub.connections import Connections

USERS = ["alice", "bob", "carol", "echo"]
ROOMS = RoomDirectory()
ROOMS.put(Room("r-team", "team", RoomKind.PRIVATE, "alice", frozenset({"alice", "echo"})))
ROOMS.put(Room("r-open", "open", RoomKind.PUBLIC, "bob", frozenset({"bob"})))
STATES = [ConnState.CONNECTING, ConnState.CATCHING_UP, ConnState.LIVE, ConnState.CLOSING]


class FakeSocket:
    """Only its identity matters to the indexes."""

    remote_address = ("127.0.0.1", 1)
    transport = None


def build(specs: list[tuple[str, ConnState]]) -> Connections:
    conns = Connections(ConnectionLimits(), 1 << 20, ROOMS)
    for user, state in specs:
        conn = conns.open(FakeSocket(), 0.0)  # type: ignore[arg-type]
        if state is ConnState.CONNECTING:
            continue
        conns.authenticated(conn, Identity(user, Role.DEVELOPER))
        conns.start_catch_up(conn, 0.0)
        if state in (ConnState.LIVE, ConnState.CLOSING):
            conn.core.go_live()
            conns.went_live(conn)
        if state is ConnState.CLOSING:
            conns.retire(conn)
    return conns


events = st.builds(
    lambda kind, target, exclude, room: Event(kind, b"{}", target_user=target, exclude_user=exclude, room=room),
    st.sampled_from(list(MessageType)),
    st.none() | st.sampled_from(USERS),
    st.none() | st.sampled_from(USERS),
    st.none() | st.sampled_from(["general", "r-team", "r-open", "r-unknown"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(USERS), st.sampled_from(STATES)), max_size=12), events)
def test_indexes_agree_with_the_predicate(specs: list[tuple[str, ConnState]], event: Event) -> None:
    conns = build(specs)
    hold, sockets = conns.route(event)
    expected_hold = {c for c in conns.all if accepts_event(c, event, ROOMS) and c.state is ConnState.CATCHING_UP}
    expected_send = {c.ws for c in conns.all if accepts_event(c, event, ROOMS) and c.state is ConnState.LIVE}
    assert set(hold) == expected_hold
    assert set(sockets) == expected_send


def test_public_events_reach_everyone_but_the_excluded_user() -> None:
    conns = build([("alice", ConnState.LIVE), ("bob", ConnState.LIVE), ("carol", ConnState.CONNECTING)])
    typing = Event(MessageType.TYPING, b"{}", exclude_user="alice")
    _, sockets = conns.route(typing)
    assert {conns_user(conns, ws) for ws in sockets} == {"bob"}
    assert MessageType.MESSAGE in PUBLIC_EVENTS and MessageType.STOP_AGENT not in PUBLIC_EVENTS


def test_targeted_events_reach_only_their_user() -> None:
    conns = build([("alice", ConnState.LIVE), ("echo", ConnState.LIVE), ("echo", ConnState.CATCHING_UP)])
    stop = Event(MessageType.STOP_AGENT, b"{}", target_user="echo")
    hold, sockets = conns.route(stop)
    assert [c.user_id for c in hold] == ["echo"]
    assert {conns_user(conns, ws) for ws in sockets} == {"echo"}
    _, nobody = conns.route(Event(MessageType.STOP_AGENT, b"{}"))
    assert list(nobody) == [], "a non-public kind without a target goes nowhere"


def conns_user(conns: Connections, ws: object) -> str | None:
    return next(c.user_id for c in conns.all if c.ws is ws)


def test_a_private_rooms_events_reach_its_members_only() -> None:
    conns = build([("alice", ConnState.LIVE), ("bob", ConnState.LIVE), ("echo", ConnState.CATCHING_UP)])
    hold, sockets = conns.route(Event(MessageType.MESSAGE, b"{}", room="r-team"))
    assert {conns_user(conns, ws) for ws in sockets} == {"alice"}
    assert [c.user_id for c in hold] == ["echo"]
    _, public = conns.route(Event(MessageType.MESSAGE, b"{}", room="r-open"))
    assert {conns_user(conns, ws) for ws in public} == {"bob"}, "a public room's live events go to its members"
