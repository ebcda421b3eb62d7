"""Error wording of the app (upload rules moved to the server: ``tests/test_http_files.py``)."""

from __future__ import annotations

from agentchat_app.chat.errors import friendly_error
from agentchat_client.protocol import ErrorCode


def test_errors_in_plain_words():
    assert "too quickly" in friendly_error({"code": ErrorCode.RATE_LIMITED.value, "retryAfter": 0.4})
    assert "0.4 s" in friendly_error({"code": ErrorCode.RATE_LIMITED.value, "retryAfter": 0.4})
    assert friendly_error({"code": ErrorCode.MESSAGE_TOO_LONG.value, "message": "Message is 9000 characters"}
                          ).startswith("That message is too long.")
    assert "not allowed" in friendly_error({"code": ErrorCode.FORBIDDEN.value, "message": "Viewers may read"})
    assert "Traceback" not in friendly_error({"code": ErrorCode.INTERNAL_ERROR.value, "message": "Traceback..."})
