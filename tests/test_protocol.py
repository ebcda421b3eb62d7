"""The shared protocol module: parsing, validation and mentions, without sockets."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# --- bounds on every field (no input may become an INTERNAL_ERROR further in) ------------------

BIG = 2**63  # past BIGINT: used to become a database error


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "message", "data": {"text": "a", "replyTo": BIG}},
        {"type": "history", "data": {"beforeId": BIG}},
        {"type": "auth", "data": {"userId": "a", "token": "t", "lastMessageId": BIG}},
        {"type": "agent_question", "data": {"to": "a", "text": "?", "choices": ["y"], "replyTo": BIG}},
        {"type": "agent_stream", "data": {"streamId": "s", "replyTo": BIG}},
        {"type": "message", "data": {"text": "a", "id": BIG}},
        {"type": "message", "data": {"text": "a", "id": "x" * 65}},
        {"type": "message", "data": {"text": "nul \u0000 inside"}},
        {"type": "message", "data": {"text": "a", "mentions": ["b\u0000"]}},
        {"type": "search", "data": {"query": "\u0000"}},
        {"type": "status_update", "data": {"status": "working", "currentTask": "\u0000"}},
        {"type": "status_update", "data": {"status": "working", "progress": "50"}},
        {"type": "agent_stream", "data": {"streamId": "s", "delta": "\u0000"}},
        {"type": "question_answer", "data": {"questionId": "q", "answer": "\u0000"}},
    ],
)
def test_out_of_bounds_values_are_invalid_messages(frame: dict) -> None:
    import orjson

    with pytest.raises(ProtocolError) as info:
        decode_frame(orjson.dumps(frame))
    assert info.value.code is ErrorCode.INVALID_MESSAGE
    assert "constrained" not in info.value.message and "function-after" not in info.value.message


def test_a_short_client_id_of_either_kind_is_fine() -> None:
    assert decode_frame('{"type":"message","data":{"text":"a","id":"' + "x" * 64 + '"}}')[1].id == "x" * 64
    assert decode_frame('{"type":"message","data":{"text":"a","id":9007199254740991}}')[1].id == 2**53 - 1


@settings(max_examples=400, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
), st.sampled_from([t.value for t in MessageType] + ["nope"]))
def test_decoding_any_json_gives_a_frame_or_a_protocol_error(data: object, kind: str) -> None:
    """Python's json writes integers of any size: the server must cope with them too."""
    try:
        decode_frame(json.dumps({"type": kind, "data": data}))
    except ProtocolError:
        pass


# --- what the server sends: every builder matches its published shape --------------------------


def test_server_frame_builders_match_their_shapes() -> None:
    import orjson

    from agentchat_client.protocol import SERVER_FRAME, error_frame, pong_frame

    for frame in (pong_frame(), error_frame(ErrorCode.RATE_LIMITED, "slow down", retryAfter=1.5, ref="c-1")):
        SERVER_FRAME.validate_python(orjson.loads(frame))


def test_the_published_schema_is_current() -> None:
    from pathlib import Path

    from agentchat_client.protocol.schema import render

    path = Path(__file__).resolve().parents[1] / "docs" / "protocol.schema.json"
    assert path.read_text("utf-8") == render(), "run: python -m agentchat_client.protocol.schema docs/protocol.schema.json"
