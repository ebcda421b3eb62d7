"""The shared protocol module: parsing, validation and mentions, without sockets."""

from __future__ import annotations

import pytest

from agentchat_client.protocol import ErrorCode, MessageType, ProtocolError, decode_frame, parse_mentions


def test_decodes_a_document_message() -> None:
    kind, data = decode_frame('{"type":"message","data":{"id":12345,"text":"hi","mentions":["a"],"replyTo":null}}')
    assert kind is MessageType.MESSAGE
    assert data.text == "hi" and data.id == 12345 and data.replyTo is None


@pytest.mark.parametrize(
    "raw, code",
    [
        (b"\xff\xfe", ErrorCode.INVALID_JSON),
        ("", ErrorCode.INVALID_JSON),
        ("42", ErrorCode.INVALID_MESSAGE),
        ('{"type": 5}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "error", "data": {}}', ErrorCode.UNKNOWN_TYPE),
        ('{"type": "message", "data": {"text": "a", "replyTo": 0}}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "message", "data": {"text": "a", "id": 1.5}}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "history", "data": {"limit": true}}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "status_update", "data": {"status": "sleeping"}}', ErrorCode.INVALID_MESSAGE),
        ('{"type": "status_update", "data": {"status": "working", "progress": 101}}', ErrorCode.INVALID_MESSAGE),
    ],
)
def test_rejects_with_the_right_code(raw: str | bytes, code: ErrorCode) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_frame(raw)
    assert info.value.code is code


def test_ping_needs_no_data() -> None:
    assert decode_frame('{"type":"ping"}')[0] is MessageType.PING
    assert decode_frame('{"type":"ping","data":null}')[0] is MessageType.PING


@pytest.mark.parametrize(
    "text, extra, expected",
    [
        ("@alice please review", [], ["alice"]),
        ("@alice and @bob, then @alice again", [], ["alice", "bob"]),
        ("mail me@example.com", [], []),
        ("(@carol) @dave-ops!", [], ["carol", "dave-ops"]),
        ("no mentions", ["zed", "bad name!"], ["zed"]),
        ("@@double", [], []),
    ],
)
def test_parse_mentions(text: str, extra: list[str], expected: list[str]) -> None:
    assert parse_mentions(text, extra) == expected
