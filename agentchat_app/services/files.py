"""Uploads, as the app hands them to the companion server's ``POST /api/files``.

The server applies the size and type limits and stores the bytes; the app only forwards them
with the person's access token.  Downloads go through the app's ``/files/{id}`` route
(``web_session.download``), authenticated by the HttpOnly session cookie.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import companion
from .api import ApiError

__all__ = ["UploadError", "Uploaded", "save_upload"]


class UploadError(Exception):
    """Why a file was refused, in words for the person who chose it."""


@dataclass(frozen=True)
class Uploaded:
    id: str
    name: str
    size: int
    content_type: str


async def save_upload(token: str, filename: str, declared_type: str | None, data: bytes) -> Uploaded:
    if not token:
        raise UploadError("Sign in again to attach files.")
    api = await companion.api()
    headers = {"Content-Type": declared_type or "application/octet-stream"}
    try:
        body = await api.request("POST", "/api/files", token=token, content=data, headers=headers,
                                 params={"name": filename})
    except ApiError as exc:
        raise UploadError(exc.message) from None
    return Uploaded(body["id"], body["name"], int(body["size"]), body["contentType"])
