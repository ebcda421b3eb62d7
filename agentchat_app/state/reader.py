"""What the reader's own browser adds to the chat screen: time zone, "new messages", previews.

A Reflex state mixin of ``ChatState``:

- on load the page reports its time zone offset and the newest message id it had seen before
  (``localStorage``, per person, written by ``assets/agentchat_keys.js``), so the timeline's
  day separators are in the reader's days and the "New messages" line sits at the first unread
  (``chat/timeline.py``);
- text and CSV attachments get a preview on demand (``services/previews.py``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from ..chat import timeline
from ..chat.models import ChatMessage, FilePreview
from ..services import previews

__all__ = ["ReaderMixin", "reader_script"]

MAX_PREVIEWS = 20


def reader_script(me: str) -> str:
    """Run in the page on load: the time zone, and the newest message ``me`` had seen here before."""
    key = json.dumps(f"agentchat-last-read:{me}")
    return (f"(() => {{ const lastRead = Number(localStorage.getItem({key}) || 0); "
            f"window.agentchatMe = {json.dumps(me)}; return {{tz: -new Date().getTimezoneOffset(), lastRead}}; }})()")


class ReaderMixin(rx.State, mixin=True):
    tz_offset: int = 0
    """The reader's offset from UTC in minutes (east positive)."""
    unread_key: str = ""
    """The message the "New messages" line goes before ('' for none)."""
    previews: list[FilePreview] = []
    loading_preview: str = ""
    _last_read_id: int = 0

    @rx.var
    def preview_ids(self) -> list[str]:
        return [p.file_id for p in self.previews]

    def _shape(self, window: Sequence[ChatMessage], me: str) -> set[str]:
        """Group and date the window in place; the keys of shown messages that must be re-sent."""
        changed = timeline.annotate(window, now=datetime.now(UTC), tz_offset_minutes=self.tz_offset)
        if not self.unread_key:
            first = timeline.first_unread_key(window, self._last_read_id, me)
            if first:  # assigned only when found: each assignment is re-sent and re-drawn
                self.unread_key = first
        return changed

    @rx.event
    async def set_reader(self, info: Any):
        """The page's answer to :func:`reader_script`."""
        if isinstance(info, str):
            try:
                info = json.loads(info)
            except ValueError:
                return
        if not isinstance(info, dict):
            return
        tz = info.get("tz")
        if isinstance(tz, int | float) and -16 * 60 <= tz <= 16 * 60:
            self.tz_offset = int(tz)
        last = info.get("lastRead")
        if isinstance(last, int | float) and last > 0:
            self._last_read_id = int(last)
        await self._reshape()

    async def _reshape(self) -> None:
        """Hook: the chat state re-applies the timeline to what it shows."""

    @rx.event
    async def load_preview(self, file_id: str, kind: str):
        if any(p.file_id == file_id for p in self.previews) or self.loading_preview:
            return
        self.loading_preview = file_id
        yield
        token = await self._token()  # type: ignore[attr-defined]  # AuthState's
        preview = await previews.fetch_preview(token, file_id, kind)
        self.previews = [*self.previews, preview][-MAX_PREVIEWS:]
        self.loading_preview = ""

    @rx.event
    def hide_preview(self, file_id: str):
        self.previews = [p for p in self.previews if p.file_id != file_id]
