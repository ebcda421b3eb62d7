"""Pure parts of search, instant send (the outbox), and the connection banner (issue 15)."""

from __future__ import annotations

from agentchat_app.chat.banner import BACK_ONLINE_TEXT, RECONNECTING_TEXT
from agentchat_app.chat.outbox import FAILED, QUEUED, SENDING, Outbox
from agentchat_app.chat.search import SearchBox, parse_query, search_frame, snippet
from agentchat_app.chat.session import LOCAL_CONNECTION, PRESENCE_UNKNOWN, ConnectionState
from agentchat_client.protocol import ErrorCode, MessageType
from tests.test_app_session import Clock, chat, frame, signed_in


# --- search ----------------------------------------------------------------------------------
def test_filters_are_split_from_the_words():
    query = parse_query("deploy from:@Bob in:#design has:file  plan")
    assert (query.words, query.sender, query.room, query.has_file) == ("deploy plan", "Bob", "design", True)
    assert parse_query("has:link x").problem.startswith("Unknown filter has:link")
    assert parse_query("  ").empty and not parse_query("from:bob").empty
    assert parse_query("email me@from:x").sender is None  # only at the start of a word


def test_the_frame_carries_the_filters_and_nothing_is_sent_for_nothing():
    assert search_frame(parse_query("plan from:bob has:file"), "general") == {
        "query": "plan", "limit": 20, "sender": "bob", "hasFile": True, "roomId": "general"}
    assert search_frame(parse_query(""), None) is None
    assert search_frame(parse_query("in:general"), "general") is None
    assert search_frame(parse_query("from:bob"), None) == {"query": "", "limit": 20, "sender": "bob"}


def test_snippet_marks_the_words_around_the_first_match():
    text = "word " * 60 + "the deployment failed at night " + "tail " * 60
    snips = snippet(text, ["deploy", "night"])
    assert snips[0].text == "…" and snips[-1].text == "…"
    assert [s.text for s in snips if s.hit] == ["deployment", "night"]
    assert sum(len(s.text) for s in snips) <= 150
    assert [s.text for s in snippet("Short one", ["zzz"])] == ["Short one"]


def test_only_the_answer_to_the_newest_question_is_kept():
    box = SearchBox()
    box.rooms["r-1"] = "Design"
    first = box.ask("plan")
    second = box.ask("plan in:design from:bob")
    assert first == {"query": "plan", "limit": 20} and second is not None and second["roomId"] == "r-1"
    found = [{"type": "message", "data": chat(7, text="the plan", roomId="r-1")}]
    assert not box.on_results({"query": "plan", "messages": found})  # the older question: dropped
    assert box.on_results({"query": "plan", "roomId": "r-1", "sender": "bob", "hasFile": False, "messages": found})
    result = box.results[0]
    assert (result.id, result.sender, result.room, result.room_id) == (7, "bob", "Design", "r-1")
    assert [s.text for s in result.snips if s.hit] == ["plan"]
    assert box.ask("in:nowhere x") is None and box.status == "No room called nowhere"
    box.ask("zebra")
    assert box.on_results({"query": "zebra", "messages": []}) and box.status == "No messages found"


def test_a_result_not_on_screen_replaces_the_window_with_the_page_ending_at_it():
    session = signed_in()
    session.jump_before = 41
    changes = session.apply(frame(MessageType.HISTORY, beforeId=41, hasMore=True,
                                  messages=[{"type": "message", "data": chat(i)} for i in (38, 39, 40)]))
    assert "messages" in changes.fields
    assert [m.id for m in session.window.messages] == [38, 39, 40] and session.window.detached
    assert session.jump_before is None


def test_search_answers_reach_the_session():
    session = signed_in()
    session.search.ask("hi")
    changes = session.apply(frame(MessageType.SEARCH, query="hi", messages=[{"type": "message", "data": chat(1)}]))
    assert "search" in changes.fields and session.search.results[0].id == 1


# --- the outbox ------------------------------------------------------------------------------
def test_shown_at_once_then_confirmed_by_the_echo():
    session = signed_in()
    item = session.outbox.add("hello there")
    assert [i.client_id for i in session.outbox.due()] == [item.client_id]
    view = session.outbox.views()[0]
    assert (view.text, view.send_state, view.send_status, view.is_mine) == ("hello there", SENDING, "Sending…", True)
    assert session.outbox.due() == []  # sent once
    changes = session.apply(frame(MessageType.MESSAGE, **chat(5, sender="alice", text="hello there",
                                                              clientId=item.client_id)))
    assert {"pending", "messages"} <= changes.fields and session.outbox.views() == []
    assert session.window.messages[-1].id == 5


def test_someone_elses_echo_with_the_same_number_confirms_nothing():
    session = signed_in()
    item = session.outbox.add("mine")
    session.apply(frame(MessageType.MESSAGE, **chat(6, sender="bob", clientId=item.client_id)))
    assert len(session.outbox.views()) == 1


def test_written_while_disconnected_waits_and_goes_out_once_after_the_reconnect():
    session = signed_in()
    session.apply(frame(LOCAL_CONNECTION, state=ConnectionState.RECONNECTING))
    item = session.outbox.add("typed offline")
    assert session.outbox.due() == []
    assert session.outbox.views()[0].send_status == "Waiting for connection…"
    session.apply(frame(MessageType.AUTH_RESPONSE, success=True, role="developer", users=["alice"], members=[]))
    assert [i.client_id for i in session.outbox.due()] == [item.client_id]
    assert session.outbox.due() == []


def test_in_flight_when_the_link_dropped_is_sent_again_with_the_same_id():
    session = signed_in()
    item = session.outbox.add("lost echo")
    session.outbox.due()
    session.apply(frame(LOCAL_CONNECTION, state=ConnectionState.RECONNECTING))
    session.apply(frame(MessageType.AUTH_RESPONSE, success=True, role="developer", users=["alice"], members=[]))
    again = session.outbox.due()
    assert [i.frame()["id"] for i in again] == [item.client_id]  # the server dedupes it


def test_a_refusal_shows_why_and_retry_sends_it_again():
    session = signed_in()
    item = session.outbox.add("too fast")
    session.outbox.due()
    changes = session.apply(frame(MessageType.ERROR, code=ErrorCode.RATE_LIMITED.value, message="slow down",
                                  retryAfter=1.5, ref=item.client_id))
    assert "pending" in changes.fields and not changes.restore_draft
    view = session.outbox.views()[0]
    assert view.send_state == FAILED and "too quickly" in view.send_status
    assert session.outbox.retry(item.client_id) and session.outbox.items[item.client_id].state == QUEUED
    assert [i.client_id for i in session.outbox.due()] == [item.client_id]


def test_outbox_is_bounded():
    box = Outbox("alice")
    for n in range(60):
        box.add(f"m{n}")
    assert len(box.items) == 50 and box.views()[0].text == "m10"


# --- connection banner and presence ---------------------------------------------------------
def test_banner_reconnecting_then_back_online_then_gone_and_presence_unknown():
    clock = Clock()
    session = signed_in(clock)
    assert session.banner.text(clock()) == ""  # the first connect is no news
    session.apply(frame(LOCAL_CONNECTION, state=ConnectionState.RECONNECTING))
    assert session.banner.text(clock()) == RECONNECTING_TEXT
    assert not any(m.online for m in session.member_list())
    assert {m.last_seen for m in session.member_list()} == {PRESENCE_UNKNOWN}
    session.apply(frame(MessageType.AUTH_RESPONSE, success=True, role="developer", users=["alice", "bob"], members=[]))
    assert session.banner.text(clock()) == BACK_ONLINE_TEXT and session.needs_tick
    assert any(m.online for m in session.member_list())
    clock.now += 5
    assert "banner" in session.tick().fields and session.banner.text(clock()) == ""
