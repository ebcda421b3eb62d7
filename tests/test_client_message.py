"""``ParsedMessage`` from a broadcast frame: what an agent's handler receives."""

from __future__ import annotations

from datetime import datetime, timezone

from agentchat_client import MessageParser, ParsedMessage
from agentchat_client.message import to_parsed


def test_a_broadcast_message_becomes_the_telegram_era_shape() -> None:
    data = {"id": 12, "clientId": "c-1", "text": "/review @bob the login", "sender": "alice",
            "timestamp": "2025-01-10T15:30:00.000Z", "mentions": ["bob"], "isCommand": True, "replyTo": 3,
            "attachments": [{"id": "f1", "name": "a.csv", "size": 10, "type": "text/csv"}]}
    msg = to_parsed(data, "message")
    assert msg == ParsedMessage(
        message_id=12, text="/review @bob the login", sender="alice",
        timestamp=datetime(2025, 1, 10, 15, 30, tzinfo=timezone.utc), mentions=["bob"], is_command=True,
        reply_to=3, attachments=[{"id": "f1", "name": "a.csv", "size": 10, "type": "text/csv"}], kind="message",
    )
    assert msg.command == "review" and msg.args == "@bob the login" and msg.mentions_name("BOB")


def test_a_missing_or_odd_timestamp_still_gives_a_time() -> None:
    for stamp in (None, "", "yesterday"):
        msg = to_parsed({"id": 1, "text": "hi", "sender": "bot", "timestamp": stamp}, "agent_response")
        assert msg.timestamp.tzinfo is not None and msg.kind == "agent_response"
        assert msg.mentions == [] and msg.attachments == [] and msg.command is None


def test_the_parser_finds_mentions_and_commands() -> None:
    parsed = MessageParser().parse("  /help me @tasks", sender="carol", message_id=7, mentions=["bob"])
    assert parsed.is_command and parsed.mentions == ["tasks", "bob"] and parsed.message_id == 7
    assert parsed.command == "help" and parsed.args == "me @tasks"  # leading spaces do not hide the command
