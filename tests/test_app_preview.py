"""Attachment previews: which files get one, what it shows, fetched with a byte cap over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from agentchat_app.chat.preview import PREVIEW_ROWS, build_preview, preview_kind
from agentchat_app.services import accounts, companion, previews
from server.settings import Settings
from tests.support import ServerProcess


def test_which_files_show_what():
    assert preview_kind("cat.png", "image/png") == "image"
    assert preview_kind("cat.jpg", "application/octet-stream") == "image"
    assert preview_kind("logo.svg", "image/svg+xml") == ""  # a document, not a picture
    assert preview_kind("sales.csv", "text/csv") == "csv"
    assert preview_kind("notes.txt", "text/plain") == "text"
    assert preview_kind("data.json", "application/json") == "text"
    assert preview_kind("tool.zip", "application/zip") == ""


def test_text_preview_is_the_first_lines():
    text = "".join(f"line {i}\n" for i in range(20)).encode()
    got = build_preview("f1", "text", text, truncated=False)
    assert got.kind == "text" and got.lines[0] == "line 0" and len(got.lines) == 8
    assert "First lines" in got.note
    cut = build_preview("f1", "text", b"one\ntwo\nthr", truncated=True)
    assert cut.lines == ["one", "two"]  # the line cut by the cap is not shown half
    assert build_preview("f1", "text", b"\x00\x01", truncated=False).kind == "error"
    assert build_preview("f1", "text", "é".encode()[:1], truncated=True).kind == "error"  # empty after the cut


def test_csv_preview_is_a_small_table():
    rows = "region;amount\n" + "".join(f"r{i};{i}\n" for i in range(10))
    got = build_preview("f2", "csv", rows.encode(), truncated=False)
    assert got.kind == "table" and got.header == ["region", "amount"]
    assert len(got.rows) == PREVIEW_ROWS and got.rows[0] == ["r0", "0"]
    ragged = build_preview("f2", "csv", b"a,b,c\n1\n", truncated=False)
    assert ragged.rows == [["1", "", ""]]
    assert "<script>" in build_preview("f2", "csv", b"x,y\n<script>,1\n", truncated=False).rows[0][0]  # data, not HTML


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("app-previews"), AGENTCHAT_AGENTS_ENABLED="false").start()
    yield proc
    proc.stop()


async def test_preview_reads_only_the_head_of_a_large_file(server, monkeypatch):
    settings = Settings(server_url=server.url)
    monkeypatch.setattr(companion, "settings", lambda: settings)
    companion._state.api = None
    try:
        person = await accounts.sign_up("previewer", "long enough pw")
        big = "".join(f"{i},{i * 2}\n" for i in range(200_000)).encode()  # ~2.4 MB
        async with httpx.AsyncClient(timeout=30) as http:
            made = await http.post(f"http://127.0.0.1:{server.port}/api/files", params={"name": "big.csv"},
                                   content=b"n,double\n" + big, headers={
                                       "Authorization": f"Bearer {person.access_token}", "Content-Type": "text/csv"})
        assert made.status_code in (200, 201), made.text
        got = await previews.fetch_preview(person.access_token, made.json()["id"], "csv", cap=4096)
        assert got.kind == "table" and got.header == ["n", "double"] and got.rows[1] == ["1", "2"]
        gone = await previews.fetch_preview(person.access_token, "0" * 32, "text")
        assert gone.kind == "error" and "gone" in gone.note
        assert (await previews.fetch_preview("", "x", "text")).kind == "error"
    finally:
        if companion._state.api is not None:
            await companion._state.api.close()
        companion._state.api = None
