"""Uploads and downloads.

Uploaded files are stored under ``AGENTCHAT_UPLOAD_DIR`` with generated names (a user's
filename never becomes a path) and recorded with ``store.add_attachment``; messages carry
only their ids.  Downloads go through short-lived links signed for one signed-in user.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import hmac
import mimetypes
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from server.store import Attachment

from ..chat.convert import size_label
from . import companion

__all__ = ["UploadError", "save_upload", "guess_type", "type_allowed", "signed_path", "routes", "LINK_TTL_SECONDS"]

LINK_TTL_SECONDS = 300
MAX_NAME = 255


class UploadError(Exception):
    """Why a file was refused, in words for the person who chose it."""


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


async def save_upload(filename: str, declared_type: str | None, data: bytes, uploader: str) -> Attachment:
    settings = companion.settings()
    name = clean_name(filename)
    content_type = guess_type(name, declared_type)
    if len(data) > settings.max_upload_bytes:
        raise UploadError(f"{name} is {size_label(len(data))}; the limit is {size_label(settings.max_upload_bytes)}.")
    if not data:
        raise UploadError(f"{name} is empty.")
    if not type_allowed(content_type, settings.allowed_upload_types):
        raise UploadError(f"{name} is a {content_type} file, which is not allowed here.")
    file_id = uuid.uuid4().hex
    folder = Path(settings.upload_dir)
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread((folder / file_id).write_bytes, data)
    store = await companion.store()
    return await store.add_attachment(
        Attachment(id=file_id, name=name, size=len(data), content_type=content_type,
                   stored_name=file_id, uploader=uploader)
    )


def _signature(file_id: str, user: str, expires: int) -> str:
    key = companion.secret().encode()
    return hmac.new(key, f"files|{file_id}|{user}|{expires}".encode(), hashlib.sha256).hexdigest()


def signed_path(file_id: str, user: str, now: float | None = None) -> str:
    """A path (relative to the backend) that lets ``user`` download the file for a few minutes."""
    expires = int((now or time.time()) + LINK_TTL_SECONDS)
    sig = _signature(file_id, user, expires)
    return f"/files/{file_id}?u={quote(user)}&e={expires}&s={sig}"


async def download(request: Request) -> Response:
    file_id = request.path_params["file_id"]
    user = request.query_params.get("u", "")
    sig = request.query_params.get("s", "")
    try:
        expires = int(request.query_params.get("e", "0"))
    except ValueError:
        expires = 0
    if not user or not hmac.compare_digest(sig, _signature(file_id, user, expires)):
        return PlainTextResponse("This download link is not valid. Sign in and use the chat's link.", 403)
    if expires < time.time():
        return PlainTextResponse("This download link has expired. Click the file in the chat again.", 403)
    store = await companion.store()
    found = await store.get_attachments([file_id])
    if not found:
        return PlainTextResponse("No such file.", 404)
    item = found[0]
    path = Path(companion.settings().upload_dir) / item.stored_name
    if not path.is_file():
        return PlainTextResponse("The file is no longer stored.", 404)
    return FileResponse(path, media_type=item.content_type, filename=item.name,
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


def routes() -> list[Route]:
    return [Route("/files/{file_id:str}", download, methods=["GET"])]
