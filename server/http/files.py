"""Uploaded files: the rules (size, type, name) and where the bytes live.

Files are stored under ``AGENTCHAT_UPLOAD_DIR`` with generated names (a user's filename never
becomes a path) and recorded with ``store.add_attachment``; messages carry only their ids.
"""

from __future__ import annotations

import asyncio
import fnmatch
import mimetypes
import uuid
from pathlib import Path

from ..settings import Settings
from ..store import Attachment, Store

__all__ = ["UploadRefused", "guess_type", "type_allowed", "clean_name", "size_label", "save_upload", "stored_path"]

MAX_NAME = 255


class UploadRefused(Exception):
    """Why a file was refused, in words for the person who chose it; ``status`` for HTTP."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def guess_type(filename: str, declared: str | None) -> str:
    declared = (declared or "").split(";")[0].strip().lower()
    if declared and declared != "application/octet-stream":
        return declared
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or declared or "application/octet-stream"


def type_allowed(content_type: str, allowed: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(content_type, pattern.lower()) for pattern in allowed)


def clean_name(filename: str) -> str:
    """Only the last path component, without control characters, for display and download."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip() or "file"
    return name[:MAX_NAME]


def size_label(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def check_upload(name: str, content_type: str, size: int, settings: Settings) -> None:
    if size > settings.max_upload_bytes:
        raise UploadRefused(413, f"{name} is {size_label(size)}; the limit is {size_label(settings.max_upload_bytes)}.")
    if size == 0:
        raise UploadRefused(400, f"{name} is empty.")
    if not type_allowed(content_type, settings.allowed_upload_types):
        raise UploadRefused(415, f"{name} is a {content_type} file, which is not allowed here.")


async def save_upload(store: Store, settings: Settings, filename: str, declared_type: str | None, data: bytes,
                      uploader: str) -> Attachment:
    name = clean_name(filename)
    content_type = guess_type(name, declared_type)
    check_upload(name, content_type, len(data), settings)
    file_id = uuid.uuid4().hex
    folder = Path(settings.upload_dir)
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread((folder / file_id).write_bytes, data)
    return await store.add_attachment(
        Attachment(id=file_id, name=name, size=len(data), content_type=content_type, stored_name=file_id,
                   uploader=uploader)
    )


def stored_path(settings: Settings, attachment: Attachment) -> Path:
    return Path(settings.upload_dir) / attachment.stored_name
