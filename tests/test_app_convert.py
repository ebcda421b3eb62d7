"""The app's frame-to-view conversion: mentions, sizes, quotes (no Reflex, no browser)."""

from __future__ import annotations

from agentchat_app.chat.convert import excerpt, segments, size_label, to_message
from agentchat_app.chat.models import Segment


def test_segments_mark_mentions_and_mentions_of_me():
    assert segments("hi @bob and @alice!", "alice") == [
        Segment("hi "), Segment("@bob", "mention"), Segment(" and "), Segment("@alice", "mention_me"), Segment("!"),
    ]


def test_email_addresses_are_not_mentions():
    assert segments("mail me@example.com", "example") == [Segment("mail me@example.com")]


def test_html_stays_text():
    text = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    assert segments(text, "alice") == [Segment(text)]


def test_size_label():
    assert size_label(512) == "512 B"
    assert size_label(2048) == "2.0 KB"
    assert size_label(3 * 1024 * 1024 + 400_000) == "3.4 MB"


def test_excerpt_is_one_short_line():
    assert excerpt("a\n\nb   c") == "a b c"
    long = excerpt("x" * 200, limit=20)
    assert len(long) == 20 and long.endswith("…")


def test_to_message_fills_the_view_model():
    quoted = to_message({"id": 1, "text": "original", "sender": "bob"}, me="alice", agents=set(),
                        is_agent_response=False)
    message = to_message(
        {"id": 2, "text": "@alice look", "sender": "helper", "timestamp": "2025-01-10T15:30:00.000Z",
         "mentions": ["alice"], "replyTo": 1,
         "attachments": [{"id": "a" * 32, "name": "r.csv", "size": 2048, "type": "text/csv"}, "junk"]},
        me="alice", agents={"helper"}, is_agent_response=True, quoted=quoted,
    )
    assert message.key == "m2" and message.is_agent and message.mentions_me and not message.is_mine
    assert message.time == "15:30"
    assert (message.reply_to, message.reply_sender, message.reply_excerpt) == (1, "bob", "original")
    assert [(a.name, a.size_label) for a in message.attachments] == [("r.csv", "2.0 KB")]


def test_my_own_mention_of_myself_does_not_notify_me():
    message = to_message({"id": 3, "text": "note to @alice", "sender": "alice"}, me="alice", agents=set(),
                         is_agent_response=False)
    assert message.is_mine and not message.mentions_me


def test_an_agent_answering_me_is_not_a_mention_to_notify():
    mine = to_message({"id": 1, "text": "/tasks", "sender": "alice"}, me="alice", agents={"tasks"},
                      is_agent_response=False)
    answer = to_message({"id": 2, "text": "Open tasks: #1 for @alice", "sender": "tasks", "mentions": ["alice"],
                         "replyTo": 1}, me="alice", agents={"tasks"}, is_agent_response=True, quoted=mine)
    assert not answer.mentions_me
    other = to_message({"id": 3, "text": "@alice can you look?", "sender": "bob", "replyTo": 1},
                       me="alice", agents={"tasks"}, is_agent_response=False, quoted=mine)
    assert other.mentions_me


def test_an_answer_shows_its_usage_in_one_quiet_line():
    from agentchat_app.chat.convert import usage_label

    usage = {"inputTokens": 1000, "outputTokens": 234, "totalTokens": 1234, "model": "gpt-x", "costUsd": 0.0021}
    answer = to_message({"id": 9, "text": "hi", "sender": "writer", "usage": usage}, me="alice", agents={"writer"},
                        is_agent_response=True)
    assert answer.usage_label == "1,234 tokens · $0.0021 · gpt-x"
    assert usage_label({**usage, "costUsd": 12.5}) == "1,234 tokens · $12.50 · gpt-x"
    assert usage_label({**usage, "costUsd": 0}) == "1,234 tokens · gpt-x"  # no price: no cost shown
    assert usage_label({**usage, "costUsd": 1e-9}) == "1,234 tokens · <$0.000001 · gpt-x"
    assert usage_label(None) == usage_label({"totalTokens": "many"}) == ""
    assert to_message({"id": 3, "text": "x", "sender": "bob"}, me="alice", agents=set(),
                      is_agent_response=False).usage_label == ""
