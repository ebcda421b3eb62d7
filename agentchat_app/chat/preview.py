"""What an attachment shows inline (pure, unit tested).

- images of the kinds every browser shows (PNG, JPEG, GIF, WebP) get a thumbnail; SVG does
  not (it is a document, not a picture);
- text and CSV files get a short preview built from their first bytes only (the app fetches at
  most :data:`PREVIEW_BYTES`, ``services/previews.py``): the first lines, or the first rows as
  a small table.  The preview is data for text nodes, never HTML.
"""

from __future__ import annotations

import csv
import io
from pathlib import PurePosixPath

from .models import FilePreview

__all__ = ["PREVIEW_BYTES", "PREVIEW_LINES", "PREVIEW_ROWS", "preview_kind", "build_preview"]

PREVIEW_BYTES = 16 * 1024
PREVIEW_LINES = 8
PREVIEW_ROWS = 5
MAX_COLUMNS = 8
MAX_CELL = 60
MAX_LINE = 160
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
TEXT_SUFFIXES = {".txt", ".md", ".log", ".py", ".js", ".ts", ".json", ".yaml", ".yml", ".toml", ".ini",
                 ".cfg", ".sql", ".sh", ".rst", ".xml", ".html", ".css"}
TABLE_SUFFIXES = {".csv", ".tsv"}


def preview_kind(name: str, content_type: str) -> str:
    """``image``, ``csv``, ``text`` or '' (nothing inline, just the download chip)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    suffix = PurePosixPath(name.lower()).suffix
    if kind in IMAGE_TYPES or (kind in ("", "application/octet-stream") and suffix in IMAGE_SUFFIXES):
        return "image"
    if kind in ("text/csv", "text/tab-separated-values") or suffix in TABLE_SUFFIXES:
        return "csv"
    if kind.startswith("text/") or kind in ("application/json", "application/x-yaml") or suffix in TEXT_SUFFIXES:
        return "text"
    return ""


def _decode(head: bytes) -> str | None:
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a character cut by the byte cap
            return head[: exc.start].decode("utf-8", errors="replace")
        return None


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def build_preview(file_id: str, kind: str, head: bytes, *, truncated: bool) -> FilePreview:
    """The preview of a file whose first bytes are ``head`` (``truncated``: there is more)."""
    text = _decode(head)
    if text is None:
        return FilePreview(file_id=file_id, kind="error", note="No preview: this is not text.")
    lines = text.splitlines()
    if truncated and lines and not text.endswith("\n"):
        lines = lines[:-1]  # the last line was cut by the byte cap
    if not any(line.strip() for line in lines):
        return FilePreview(file_id=file_id, kind="error", note="The file is empty.")
    if kind == "csv":
        table = _table(file_id, lines)
        if table is not None:
            return table
    shown = [_clip(line, MAX_LINE) for line in lines[:PREVIEW_LINES]]
    more = len(lines) > PREVIEW_LINES or truncated
    return FilePreview(file_id=file_id, kind="text", lines=shown,
                       note="First lines only; download for the rest." if more else "")


def _table(file_id: str, lines: list[str]) -> FilePreview | None:
    sample = "\n".join(lines[: PREVIEW_ROWS + 1 + 20])
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(sample), dialect) if row]
    if not rows:
        return None
    width = min(max(len(r) for r in rows), MAX_COLUMNS)

    def cells(row: list[str]) -> list[str]:
        return [_clip(c.strip(), MAX_CELL) for c in (row + [""] * width)[:width]]

    body = [cells(r) for r in rows[1: PREVIEW_ROWS + 1]]
    more = len(lines) > PREVIEW_ROWS + 1
    return FilePreview(file_id=file_id, kind="table", header=cells(rows[0]), rows=body,
                       note=f"First {len(body)} rows; download for the rest." if more else "")
