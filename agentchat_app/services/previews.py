"""Attachment previews: the first bytes of a shared file, fetched from the companion server.

The app streams ``GET /api/files/{id}`` with the reader's access token (so the server's own
read check applies) and stops after :data:`~agentchat_app.chat.preview.PREVIEW_BYTES`: a
large file costs one small read, never a full download into the app's memory.  The preview
itself is built by pure code (``chat/preview.py``).
"""

from __future__ import annotations

import httpx

from ..chat.models import FilePreview
from ..chat.preview import PREVIEW_BYTES, build_preview
from . import companion

__all__ = ["fetch_preview"]


async def fetch_preview(token: str, file_id: str, kind: str, cap: int = PREVIEW_BYTES) -> FilePreview:
    """A preview of the file, or a :class:`FilePreview` of kind ``error`` saying why not."""
    if not token:
        return FilePreview(file_id=file_id, kind="error", note="Sign in again to preview files.")
    api = await companion.api()
    head = bytearray()
    truncated = False
    try:
        async with api.stream("GET", f"/api/files/{file_id}", token=token) as response:
            if response.status_code != 200:
                note = "This file is gone." if response.status_code == 404 else "No preview right now."
                return FilePreview(file_id=file_id, kind="error", note=note)
            async for chunk in response.aiter_raw():
                head += chunk
                if len(head) > cap:
                    truncated = True
                    break
    except httpx.HTTPError:
        return FilePreview(file_id=file_id, kind="error", note="The chat server cannot be reached right now.")
    return build_preview(file_id, kind, bytes(head[:cap]), truncated=truncated)
