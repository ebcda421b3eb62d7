"""ChatSession: protocol frames in, display changes out (the bridge's pure core)."""

from __future__ import annotations

from agentchat_app.chat.session import LOCAL_CONNECTION, ChatSession, ConnectionState
from agentchat_client.protocol import ErrorCode, MessageType


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def frame(kind: MessageType | str, **data) -> dict:
    return {"type": str(kind), "data": data}


def chat(i: int, sender: str = "bob", text: str = "hi", **extra) -> dict:
    return {"id": i, "sender": sender, "text": text, "timestamp": "2025-01-10T15:30:00.000Z", **extra}


def signed_in(clock: Clock | None = None) -> ChatSession:
    session = ChatSession("alice", "developer", clock=clock or Clock())
    session.apply(frame(MessageType.AUTH_RESPONSE, success=True, role="developer", agents=["helper"],
                        users=["alice"], members=[
                            {"userId": "alice", "role": "developer", "isAgent": False, "status": "online"},
                            {"userId": "bob", "role": "developer", "isAgent": False, "status": "offline",
                             "lastSeen": "2025-01-10T15:00:00.000Z"},
                            {"userId": "helper", "role": "agent", "isAgent": True, "status": "online"}]))
    session.apply(frame(MessageType.HISTORY, beforeId=None, hasMore=True,
                        messages=[{"type": "message", "data": chat(1, text="old")}]))
    return session


def test_auth_history_and_members():
    session = signed_in()
    assert session.connection == ConnectionState.CONNECTED
    assert [m.user_id for m in session.member_list()] == ["helper", "alice", "bob"]
    assert session.members["bob"].last_seen.startswith("last seen 2025-01-10 15:00")
    assert session.window.has_more and session.last_message_id == 1


def test_live_mention_toasts_but_history_does_not():
    session = ChatSession("alice", "developer")
    session.apply(frame(MessageType.AUTH_RESPONSE, success=True, members=[]))
    quiet = session.apply(frame(MessageType.HISTORY, beforeId=None, hasMore=False,
                                messages=[{"type": "message", "data": chat(1, text="@alice old")}]))
    assert quiet.toasts == []
    loud = session.apply(frame(MessageType.MESSAGE, **chat(2, text="@alice new", mentions=["alice"])))
    assert loud.toasts == ["bob mentioned you"] and "messages" in loud.fields


def test_recovery_replays_without_duplicates():
    session = signed_in()
    session.apply(frame(MessageType.RECOVERY, lastMessageId=1, count=2, truncated=False))
    for i in (1, 2, 3):
        session.apply(frame(MessageType.MESSAGE, **chat(i)))
    assert [m.id for m in session.window.messages] == [1, 2, 3]


def test_presence_status_and_progress():
    session = signed_in()
    changes = session.apply(frame(MessageType.STATUS_UPDATE, userId="helper", status="working",
                                  currentTask="Reading", progress=42.4))
    helper = session.members["helper"]
    assert changes.fields == {"members"}
    assert (helper.status, helper.current_task, helper.progress, helper.has_progress) == ("working", "Reading", 42, True)
    session.apply(frame(MessageType.USER_PRESENCE, userId="bob", status="online"))
    assert session.members["bob"].online


def test_someone_new_arrives_with_their_role():
    session = signed_in()
    session.apply(frame(MessageType.USER_PRESENCE, userId="vera", status="online", role="viewer", isAgent=False))
    assert (session.members["vera"].role, session.members["vera"].online) == ("viewer", True)


def test_typing_expires_after_six_seconds():
    clock = Clock()
    session = signed_in(clock)
    session.apply(frame(MessageType.TYPING, userId="bob", typing=True))
    assert session.typing_text() == "bob is typing…" and session.needs_tick
    clock.now += 7
    assert "typing" in session.tick().fields and session.typing_text() == ""


def test_rate_limit_counts_down_and_gives_the_text_back():
    clock = Clock()
    session = signed_in(clock)
    client_id = session.new_client_id("hello again")
    changes = session.apply(frame(MessageType.ERROR, code=ErrorCode.RATE_LIMITED.value, message="slow down",
                                  retryAfter=1.5, ref=client_id))
    assert changes.restore_draft == "hello again"
    assert "1.5 s" in session.error
    clock.now += 1.0
    session.tick()
    assert "0.5 s" in session.error
    clock.now += 1.0
    session.tick()
    assert session.error.endswith("send again now.")  # kept a little so it can be read
    clock.now += 1.0
    session.tick()
    assert session.error == ""


def test_questions_open_and_close():
    session = signed_in()
    changes = session.apply(frame(MessageType.AGENT_QUESTION, questionId="q1", agent="tasks", to="alice",
                                  text="Delete #3?", choices=["Delete", "Cancel"]))
    assert changes.toasts == ["tasks asks you: Delete #3?"]
    session.apply(frame(MessageType.QUESTION_CLOSED, questionId="q1", status="answered", answer="Delete",
                        answeredBy="alice"))
    assert (session.questions[0].state, session.questions[0].answer) == ("answered", "Delete")


def test_auth_failure_and_connection_states():
    session = ChatSession("alice", "developer")
    changes = session.apply(frame(MessageType.AUTH_RESPONSE, success=False,
                                  error={"code": ErrorCode.AUTH_FAILED.value, "message": "Token has expired"}))
    assert changes.auth_failed and session.connection == ConnectionState.DISCONNECTED
    session.apply({"type": LOCAL_CONNECTION, "data": {"state": ConnectionState.RECONNECTING}})
    assert session.connection == "Reconnecting"


def test_unknown_and_malformed_frames_change_nothing():
    session = signed_in()
    assert not session.apply({"type": "nonsense", "data": {}}).fields
    assert not session.apply({"type": str(MessageType.STATUS_UPDATE), "data": "oops"}).fields


def test_a_seeded_session_resumes_after_what_the_browser_shows():
    from agentchat_app.chat.convert import to_message

    shown = [to_message(chat(i), me="alice", agents=set(), is_agent_response=False) for i in (4, 5)]
    session = ChatSession("alice", "developer")
    session.seed(shown, has_more=True)
    assert session.loaded and session.last_message_id == 5 and session.window.has_more
    session.apply(frame(MessageType.RECOVERY, lastMessageId=5, count=1, truncated=False))
    session.apply(frame(MessageType.MESSAGE, **chat(6)))
    assert [m.id for m in session.window.messages] == [4, 5, 6]


def test_account_updated_changes_my_role_at_once_and_a_disabled_account_leaves():
    session = signed_in()
    ignored = session.apply(frame(MessageType.ACCOUNT_UPDATED, userId="bob", role="viewer", disabled=False))
    assert ignored.fields == set() and session.role == "developer"
    changes = session.apply(frame(MessageType.ACCOUNT_UPDATED, userId="alice", role="viewer", disabled=False))
    assert session.role == "viewer" and "role" in changes.fields and not changes.auth_failed
    assert session.members["alice"].role == "viewer"
    gone = session.apply(frame(MessageType.ACCOUNT_UPDATED, userId="alice", role="viewer", disabled=True))
    assert gone.auth_failed and "disabled" in session.error
