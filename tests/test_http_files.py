"""Upload rules of the server's files API (pure)."""

from __future__ import annotations

import pytest

from server.http.files import UploadRefused, check_upload, clean_name, guess_type, size_label, type_allowed
from server.settings import Settings


def test_upload_types_and_names():
    allowed = ["text/*", "image/*", "application/pdf"]
    assert type_allowed("text/csv", allowed) and type_allowed("image/png", allowed)
    assert not type_allowed("application/x-msdownload", allowed)
    assert guess_type("r.csv", "application/octet-stream") == "text/csv"
    assert clean_name("../../etc/passwd") == "passwd"
    assert clean_name("C:\\x\\evil\x00.txt") == "evil.txt"
    assert (size_label(12), size_label(4096), size_label(3 * 1024 * 1024)) == ("12 bytes", "4.0 KB", "3.0 MB")


def test_limits_answer_with_http_statuses():
    settings = Settings(max_upload_bytes=1000, allowed_upload_types=["text/*"])
    for size, kind, status in ((1001, "text/plain", 413), (0, "text/plain", 400), (10, "application/zip", 415)):
        with pytest.raises(UploadRefused) as info:
            check_upload("f", kind, size, settings)
        assert info.value.status == status
    check_upload("f", "text/plain", 1000, settings)
