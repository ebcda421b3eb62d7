"""The sans-I/O client core: states, the auth frame, resume position, auth outcomes, back-off.

No sockets and no event loop: the clock and the random source are injected.
"""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest
from agentchat_client.session import (
    AuthOutcome,
    Backoff,
    ClientSession,
    FrameError,
    InvalidState,
    LinkState,
    decode_server_frame,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def frame(kind: str, **data: Any) -> dict[str, Any]:
    return {"type": kind, "data": data}


def welcome(last_message_id: int = 0, **extra: Any) -> dict[str, Any]:
    return frame("auth_response", success=True, userId="alice", role="developer", lastMessageId=last_message_id,
                 **extra)


def refusal(code: str, message: str = "no") -> dict[str, Any]:
    return frame("auth_response", success=False, error={"code": code, "message": message})


def page(*ids: int, before_id: int | None = None) -> dict[str, Any]:
    return frame("history", beforeId=before_id, hasMore=False,
                 messages=[{"type": "message", "data": {"id": i, "text": f"m{i}"}} for i in ids])


def sent_auth(session: ClientSession, **extra: Any) -> dict[str, Any]:
    """Open a link: what the client sends first (decoded)."""
    session.connecting()
    raw = orjson.loads(session.auth_frame(extra or None))
    assert raw["type"] == "auth"
    return raw["data"]


def live(session: ClientSession, last_message_id: int = 0) -> dict[str, Any]:
    auth = sent_auth(session)
    assert session.receive(welcome(last_message_id)) is AuthOutcome.ACCEPTED
    return auth


def steady(session: ClientSession) -> ClientSession:
    session.rng = lambda: 0.0  # no jitter: exact delays
    return session


# --- states ---------------------------------------------------------------------------------


def test_a_link_goes_from_disconnected_to_live() -> None:
    session = ClientSession("alice", "tok")
    assert session.state is LinkState.DISCONNECTED and not session.is_live
    session.connecting()
    assert session.state is LinkState.CONNECTING
    session.auth_frame()
    assert session.state is LinkState.AUTHENTICATING
    assert session.receive(welcome(7, members=[])) is AuthOutcome.ACCEPTED
    assert session.state is LinkState.LIVE and session.is_live
    assert session.welcome["lastMessageId"] == 7


def test_events_out_of_order_are_bugs_of_the_io_layer() -> None:
    session = ClientSession("alice", "tok")
    with pytest.raises(InvalidState, match="DISCONNECTED, not CONNECTING"):
        session.auth_frame()
    with pytest.raises(InvalidState):
        session.connection_lost()
    session.connecting()
    with pytest.raises(InvalidState):
        session.connecting()


def test_a_lost_link_can_be_opened_again() -> None:
    session = ClientSession("alice", "tok")
    live(session)
    assert session.connection_lost() is not None
    assert session.state is LinkState.DISCONNECTED
    live(session)
    assert session.is_live


def test_losing_the_link_in_any_phase_leads_to_a_retry() -> None:
    session = ClientSession("alice", "tok")
    session.connecting()
    assert session.connection_lost() is not None  # the socket never opened
    sent_auth(session)
    assert session.connection_lost() is not None  # dropped before the answer
    assert session.state is LinkState.DISCONNECTED


def test_close_is_final() -> None:
    session = ClientSession("alice", "tok")
    live(session)
    session.close()
    assert session.state is LinkState.CLOSED and session.finished
    assert session.connection_lost() is None  # no further attempt
    with pytest.raises(InvalidState):
        session.connecting()


# --- the auth frame ---------------------------------------------------------------------------


def test_the_first_auth_asks_for_the_newest_page() -> None:
    auth = sent_auth(ClientSession("alice", "tok"))
    assert auth == {"userId": "alice", "token": "tok"}  # no lastMessageId: the server sends history


def test_auth_carries_the_role_and_extra_fields_when_given() -> None:
    auth = sent_auth(ClientSession("bot", "tok", role="agent"), client="tests")
    assert auth == {"userId": "bot", "token": "tok", "role": "agent", "client": "tests"}


def test_a_reconnect_resumes_after_the_newest_message_seen() -> None:
    session = ClientSession("alice", "tok")
    live(session, last_message_id=40)
    session.receive(page(38, 39, 40))
    session.receive(frame("message", id=41, text="hi"))
    session.receive(frame("agent_response", id=42, text="hello"))
    session.connection_lost()
    assert sent_auth(session)["lastMessageId"] == 42


def test_an_edit_event_moves_the_resume_position_too() -> None:
    session = ClientSession("alice", "tok")
    live(session, last_message_id=40)
    session.receive(frame("message_updated", id=40, eventId=43, text="edited"))
    session.connection_lost()
    assert sent_auth(session)["lastMessageId"] == 43


def test_resume_from_a_known_position() -> None:
    session = ClientSession("alice", "tok", resume_from=17)
    assert sent_auth(session)["lastMessageId"] == 17


# --- tracking the newest message ------------------------------------------------------------------


def test_only_newer_ids_move_the_position() -> None:
    session = ClientSession("alice", "tok")
    live(session)
    for message_id in (5, 3, 9, 9, 2):
        session.receive(frame("message", id=message_id))
    assert session.last_message_id == 9


def test_older_history_pages_and_odd_ids_do_not_move_the_position() -> None:
    session = ClientSession("alice", "tok")
    live(session)
    session.receive(page(10, 11))
    session.receive(page(90, 91, before_id=100))  # an older page the user scrolled to... with odd ids
    session.receive(frame("message", id="12"))
    session.receive(frame("message", id=True))
    session.receive(frame("message", id=-4))
    session.receive(frame("message"))
    session.receive({"type": "message", "data": None})
    session.receive(frame("search", messages=[{"type": "message", "data": {"id": 500}}]))
    assert session.last_message_id == 11


def test_an_empty_chat_has_no_position() -> None:
    session = ClientSession("alice", "tok")
    live(session, last_message_id=0)
    session.receive(page())
    assert session.last_message_id is None
    session.connection_lost()
    assert "lastMessageId" not in sent_auth(session)


def test_recovery_confirms_the_position() -> None:
    session = ClientSession("alice", "tok", resume_from=20)
    live(session, last_message_id=25)
    session.receive(frame("recovery", lastMessageId=20, count=5, truncated=False))
    assert session.last_message_id == 20
    for message_id in range(21, 26):
        session.receive(frame("message", id=message_id))
    assert session.last_message_id == 25


def test_an_agent_starts_from_the_newest_message_the_server_reports() -> None:
    agent = ClientSession("bot", "tok", resume_from_welcome=True)
    live(agent, last_message_id=300)
    assert agent.last_message_id == 300
    person = ClientSession("alice", "tok")
    live(person, last_message_id=300)
    assert person.last_message_id is None  # waits for its first history page


def test_a_server_with_a_reset_database_is_followed() -> None:
    session = ClientSession("alice", "tok", resume_from=500)
    live(session, last_message_id=3)  # the server now has 3 messages: ours are gone
    assert session.last_message_id == 3
    session.receive(frame("message", id=4))
    assert session.last_message_id == 4


def test_losing_track_asks_for_a_fresh_page_until_one_arrives() -> None:
    session = ClientSession("alice", "tok")
    live(session)
    session.receive(page(1, 2, 3))
    session.lose_track()
    session.receive(frame("message", id=4))  # arrives, but the frames before it were dropped
    assert session.last_message_id is None
    session.connection_lost()
    assert "lastMessageId" not in sent_auth(session)
    session.receive(welcome(4))
    session.receive(page(2, 3, 4))
    assert session.last_message_id == 4
    session.receive(frame("message", id=5))
    assert session.last_message_id == 5


def test_losing_track_wins_over_the_welcome_for_agents() -> None:
    agent = ClientSession("bot", "tok", resume_from_welcome=True)
    live(agent, last_message_id=10)
    agent.lose_track()
    agent.connection_lost()
    live(agent, last_message_id=12)
    assert agent.last_message_id is None


# --- auth outcomes ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["AUTH_FAILED", "MISSING_USER_ID", "FORBIDDEN", "SOMETHING_NEW"])
def test_a_refused_token_is_refused_for_good(code: str) -> None:
    session = ClientSession("alice", "tok")
    sent_auth(session)
    assert session.receive(refusal(code, "Token has expired")) is AuthOutcome.REJECTED
    assert session.state is LinkState.AUTH_REJECTED and session.finished
    assert session.rejection == {"code": code, "message": "Token has expired"}
    assert session.connection_lost() is None  # reconnecting would not help
    assert session.state is LinkState.AUTH_REJECTED


def test_a_refusal_without_details_is_still_a_refusal() -> None:
    session = ClientSession("alice", "tok")
    sent_auth(session)
    assert session.receive(frame("auth_response", success=False)) is AuthOutcome.REJECTED
    assert session.rejection["code"] == "AUTH_FAILED" and session.rejection["message"]


@pytest.mark.parametrize("code", ["INTERNAL_ERROR", "RATE_LIMITED"])
def test_a_server_that_cannot_answer_now_is_tried_again(code: str) -> None:
    session = ClientSession("alice", "tok")
    sent_auth(session)
    assert session.receive(refusal(code)) is AuthOutcome.RETRY
    assert session.state is LinkState.AUTHENTICATING
    assert session.connection_lost() is not None
    assert not session.finished


def test_error_frames_while_authenticating() -> None:
    session = ClientSession("alice", "tok")
    sent_auth(session)
    assert session.receive(frame("pong", timestamp=None)) is None
    assert session.receive(frame("error", code="INVALID_JSON", message="?")) is None  # not about our auth
    assert session.receive(frame("error", code="INTERNAL_ERROR", message="oops")) is AuthOutcome.RETRY
    session.connection_lost()
    sent_auth(session)
    assert session.receive(frame("error", code="AUTH_FAILED", message="Token is invalid")) is AuthOutcome.REJECTED
    assert session.rejection["message"] == "Token is invalid"


def test_frames_after_the_answer_are_not_answers() -> None:
    session = ClientSession("alice", "tok")
    live(session)
    assert session.receive(refusal("AUTH_FAILED")) is None
    assert session.receive(frame("error", code="AUTH_FAILED", message="x")) is None
    assert session.is_live


def test_classify_is_pure() -> None:
    session = ClientSession("alice", "tok")
    assert session.classify_auth_response({"success": True}) is AuthOutcome.ACCEPTED
    assert session.classify_auth_response({"success": "yes"}) is AuthOutcome.REJECTED
    assert session.classify_auth_response({"success": False, "error": "x"}) is AuthOutcome.REJECTED
    assert session.state is LinkState.DISCONNECTED


# --- back-off -------------------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_bound() -> None:
    backoff = Backoff(first=0.5, most=30.0, jitter=0.2)
    no_jitter = [backoff.delay(step, lambda: 0.0) for step in range(9)]
    assert no_jitter == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert backoff.delay(10_000, lambda: 0.0) == 30.0  # no overflow, however long it has tried


def test_backoff_jitter_shortens_but_never_exceeds_the_bound() -> None:
    backoff = Backoff(first=0.2, most=5.0, jitter=0.2)
    rng = random.Random(7).random
    for step in range(50):
        delay = backoff.delay(step, rng)
        base = min(5.0, 0.2 * 2**step)
        assert 0.8 * base <= delay <= base <= 5.0
    delays = {round(backoff.delay(3, rng), 6) for _ in range(20)}
    assert len(delays) > 1  # clients cut off together do not all come back in the same instant


@pytest.mark.parametrize("options", [{"first": 0}, {"first": 2, "most": 1}, {"factor": 0.5}, {"jitter": 1.0},
                                     {"jitter": -0.1}])
def test_backoff_rejects_nonsense(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**options)


def test_attempts_that_fail_wait_longer_each_time() -> None:
    session = steady(ClientSession("alice", "tok", backoff=Backoff(first=1, most=8)))
    delays = []
    for _ in range(5):
        session.connecting()
        delays.append(session.connection_lost())
    assert delays == [1, 2, 4, 8, 8]
    assert session.failures == 5


def test_a_link_that_stayed_up_starts_the_backoff_again() -> None:
    clock = FakeClock()
    session = steady(ClientSession("alice", "tok", backoff=Backoff(first=1, most=8), stable_after=10, clock=clock))
    for _ in range(3):
        session.connecting()
        session.connection_lost()
    live(session)
    assert session.failures == 0
    clock.now += 60
    assert session.connection_lost() == 1
    assert session.failures == 1


def test_a_link_that_drops_at_once_keeps_the_backoff_growing() -> None:
    """A server that accepts and then fails at once must not be hammered in a tight loop."""
    clock = FakeClock()
    session = steady(ClientSession("alice", "tok", backoff=Backoff(first=1, most=8), stable_after=10, clock=clock))
    delays = []
    for _ in range(4):
        live(session)
        clock.now += 0.5
        delays.append(session.connection_lost())
    assert delays == [1, 2, 4, 8]


def test_the_injected_random_source_is_used() -> None:
    session = ClientSession("alice", "tok", backoff=Backoff(first=1, most=8, jitter=0.5), rng=lambda: 1.0)
    session.connecting()
    assert session.connection_lost() == 0.5


# --- decoding -------------------------------------------------------------------------------------


def test_decoding_server_frames() -> None:
    assert decode_server_frame(b'{"type":"pong","data":{"timestamp":null}}') == frame("pong", timestamp=None)
    assert decode_server_frame('{"type":"pong"}') == {"type": "pong", "data": {}}
    assert decode_server_frame('{"type":"pong","data":[1]}')["data"] == {}
    for raw in ("not json", "[1, 2]", '{"data": {}}', '{"type": 3}'):
        with pytest.raises(FrameError):
            decode_server_frame(raw)
