"""Error wording and upload rules of the app."""

from __future__ import annotations

import time

from agentchat_app.chat.errors import friendly_error
from agentchat_app.services import files
from agentchat_client.protocol import ErrorCode


def test_errors_in_plain_words():
    assert "too quickly" in friendly_error({"code": ErrorCode.RATE_LIMITED.value, "retryAfter": 0.4})
    assert "0.4 s" in friendly_error({"code": ErrorCode.RATE_LIMITED.value, "retryAfter": 0.4})
    assert friendly_error({"code": ErrorCode.MESSAGE_TOO_LONG.value, "message": "Message is 9000 characters"}
                          ).startswith("That message is too long.")
    assert "not allowed" in friendly_error({"code": ErrorCode.FORBIDDEN.value, "message": "Viewers may read"})
    assert "Traceback" not in friendly_error({"code": ErrorCode.INTERNAL_ERROR.value, "message": "Traceback..."})


def test_upload_types_and_names():
    allowed = ["text/*", "image/*", "application/pdf"]
    assert files.type_allowed("text/csv", allowed) and files.type_allowed("image/png", allowed)
    assert not files.type_allowed("application/x-msdownload", allowed)
    assert files.guess_type("r.csv", "application/octet-stream") == "text/csv"
    assert files.clean_name("../../etc/passwd") == "passwd"
    assert files.clean_name("C:\\x\\evil\x00.txt") == "evil.txt"


def test_signed_links_are_bound_to_user_and_time(monkeypatch):
    monkeypatch.setattr(files.companion, "secret", lambda: "s" * 40)
    path = files.signed_path("abc", "alice", now=time.time())
    query = dict(part.split("=") for part in path.split("?")[1].split("&"))
    assert query["s"] == files._signature("abc", "alice", int(query["e"]))
    assert query["s"] != files._signature("abc", "mallory", int(query["e"]))
