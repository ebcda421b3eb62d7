"""``describe_file``: the pure part of the files agent, without a server."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from PIL import Image

from server.agents.builtin.fileinfo import describe_file, human_size


def write(tmp_path: Path, name: str, body: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(body)
    return path


def test_human_size() -> None:
    assert human_size(0) == "0 bytes"
    assert human_size(2048) == "2.0 KB"
    assert human_size(5 * 1024 * 1024) == "5.0 MB"


def test_csv_tsv_and_headerless(tmp_path: Path) -> None:
    rows = "id;city\n" + "".join(f"{i};Paris\n" for i in range(1000))
    path = write(tmp_path, "a.csv", rows.encode())
    text = describe_file(path, "cities.csv", "text/csv", path.stat().st_size)
    assert "CSV: 1001 lines (1000 data rows), 2 columns" in text and "Columns: id, city" in text

    path = write(tmp_path, "b.tsv", b"name\tage\nann\t31\n")
    text = describe_file(path, "people.tsv", "text/tab-separated-values", path.stat().st_size)
    assert "2 columns" in text and "Columns: name, age" in text


def test_image_and_broken_image(tmp_path: Path) -> None:
    path = tmp_path / "p.gif"
    Image.new("P", (10, 20)).save(path)
    assert "Image: 10 × 20 px, GIF" in describe_file(path, "p.gif", "image/gif", path.stat().st_size)
    path = write(tmp_path, "broken.png", b"not a png at all")
    assert "could not be read" in describe_file(path, "broken.png", "image/png", 16)


def test_json_zip_binary_and_missing(tmp_path: Path) -> None:
    path = write(tmp_path, "d.json", json.dumps({"a": 1, "b": [1, 2]}).encode())
    assert "JSON object with 2 keys: a, b" in describe_file(path, "d.json", "application/json", 20)
    path = write(tmp_path, "bad.json", b"{nope")
    assert "JSON: not valid" in describe_file(path, "bad.json", "application/json", 5)

    path = tmp_path / "z.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("one.txt", "x" * 100)
        archive.writestr("two.txt", "y")
    assert "ZIP: 2 entries, 101 bytes uncompressed: one.txt, two.txt" in describe_file(
        path, "z.zip", "application/zip", path.stat().st_size)

    path = write(tmp_path, "blob", b"\x00\x01\x02" * 10)
    assert "Binary content" in describe_file(path, "blob.bin", "application/octet-stream", 30)
    assert "missing from the server's upload folder" in describe_file(tmp_path / "gone", "x.txt", "text/plain", 3)


def test_text_preview_is_short_and_safe(tmp_path: Path) -> None:
    body = "".join(f"line {i} ```\n" for i in range(50)).encode()
    path = write(tmp_path, "t.md", body)
    text = describe_file(path, "notes.md", "", len(body))
    assert "text/markdown" in text and "Text: 50 lines" in text
    assert "line 4" in text and "line 5 " not in text  # five lines of preview
    assert text.count("```") == 2  # the preview cannot break out of its code block
