"""What a shared file is: type, size, CSV shape, image dimensions, a preview of text.

Pure and synchronous (run it in a thread): a path in, a few lines of Markdown out.  Reads are
bounded, so a large upload costs a streamed line count at most, never a full load in memory.
"""

from __future__ import annotations

import csv
import io
import json
import mimetypes
import zipfile
from pathlib import Path

from ..text import inert, plural

__all__ = ["describe_file", "human_size"]

PREVIEW_LINES = 5
PREVIEW_CHARS = 400
SNIFF_BYTES = 64 * 1024
JSON_MAX_BYTES = 2 * 1024 * 1024
TEXT_TYPES = {"application/json", "application/x-yaml", "application/xml", "application/javascript"}
TEXT_SUFFIXES = {".txt", ".md", ".py", ".js", ".ts", ".json", ".yaml", ".yml", ".toml", ".ini", ".cfg",
                 ".log", ".xml", ".html", ".css", ".sql", ".sh", ".rst", ".csv", ".tsv"}


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover


def _kind(name: str, content_type: str) -> str:
    guessed = mimetypes.guess_type(name)[0] or ""
    if content_type in ("", "application/octet-stream") and guessed:
        return guessed
    return content_type or guessed or "application/octet-stream"


def _count_lines(path: Path) -> int:
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (0 if last == b"\n" else 1)


def _head_text(path: Path) -> str | None:
    """The first bytes as text, or None when they are not text."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a multi-byte character cut at the end of the sample
            return head[: exc.start].decode("utf-8")
        return None


def _preview(text: str) -> str:
    lines = text.splitlines()[:PREVIEW_LINES]
    shown = "\n".join(line[:200] for line in lines)[:PREVIEW_CHARS]
    return "```\n" + shown.replace("```", "'''") + "\n```" if shown.strip() else ""


def _csv(path: Path, head: str, kind: str) -> list[str]:
    sample = head[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel_tab if kind.endswith("tab-separated-values") else csv.excel
    rows = list(csv.reader(io.StringIO(sample), dialect))
    header = rows[0] if rows else []
    lines = _count_lines(path)
    try:
        has_header = csv.Sniffer().has_header(sample)
    except csv.Error:
        has_header = True
    data_rows = lines - 1 if has_header and lines else lines
    out = [f"CSV: {plural(lines, 'line')} ({plural(data_rows, 'data row')}), {plural(len(header), 'column')}"]
    if header and has_header:
        names = ", ".join(inert(h.strip()) or "(blank)" for h in header[:12])
        more = f" and {len(header) - 12} more" if len(header) > 12 else ""
        out.append(f"Columns: {names}{more}")
    return out


def _image(path: Path) -> list[str]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            frames = getattr(image, "n_frames", 1)
            animated = f", {frames} frames" if frames > 1 else ""
            return [f"Image: {image.width} × {image.height} px, {image.format}, mode {image.mode}{animated}"]
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as exc:
        return [f"Image: could not be read ({type(exc).__name__}); it may be damaged or not an image"]


def _json(path: Path, size: int) -> list[str]:
    if size > JSON_MAX_BYTES:
        return []
    try:
        value = json.loads(path.read_text("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return [f"JSON: not valid ({str(exc)[:80]})"]
    if isinstance(value, dict):
        keys = ", ".join(inert(str(k)) for k in list(value)[:10])
        return [f"JSON object with {plural(len(value), 'key')}: {keys}" + (" …" if len(value) > 10 else "")]
    if isinstance(value, list):
        return [f"JSON array of {plural(len(value), 'item')}"]
    return [f"JSON {type(value).__name__}"]


def _zip(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            total = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        return ["ZIP: not a valid archive"]
    shown = ", ".join(inert(n) for n in names[:8]) + (" …" if len(names) > 8 else "")
    return [f"ZIP: {plural(len(names), 'entry', 'entries')}, {human_size(total)} uncompressed: {shown}"]


def describe_file(path: Path, name: str, content_type: str, size: int) -> str:
    """Markdown lines saying what the file at ``path`` (uploaded as ``name``) contains."""
    kind = _kind(name, content_type)
    lines = [f"**{inert(name)}**: {inert(kind)}, {human_size(size)}"]
    if not path.is_file():
        lines.append("The file is missing from the server's upload folder, so I cannot look inside.")
        return "  \n".join(lines)  # hard breaks: each fact on its own line
    suffix = Path(name).suffix.lower()
    if kind.startswith("image/"):
        lines += _image(path)
        return "  \n".join(lines)  # hard breaks: each fact on its own line
    if kind == "application/zip" or suffix == ".zip":
        lines += _zip(path)
        return "  \n".join(lines)  # hard breaks: each fact on its own line
    if kind == "application/pdf":
        lines.append("PDF document (I only report type and size for PDFs).")
        return "  \n".join(lines)  # hard breaks: each fact on its own line
    texty = kind.startswith("text/") or kind in TEXT_TYPES or suffix in TEXT_SUFFIXES
    head = _head_text(path) if texty or size <= SNIFF_BYTES else None
    if head is None:
        lines.append("Binary content; no preview.")
        return "  \n".join(lines)  # hard breaks: each fact on its own line
    if kind in ("text/csv", "text/tab-separated-values") or suffix in (".csv", ".tsv"):
        lines += _csv(path, head, kind)
    elif kind == "application/json" or suffix == ".json":
        lines += _json(path, size)
        lines.append(f"Text: {plural(_count_lines(path), 'line')}")
    else:
        words = len(head.split())
        lines.append(f"Text: {plural(_count_lines(path), 'line')}, {words}{'+' if size > SNIFF_BYTES else ''} {'word' if words == 1 else 'words'}")
    preview = _preview(head)
    if preview:
        lines += ["Preview:", preview]
    return "  \n".join(lines)  # hard breaks: each fact on its own line
