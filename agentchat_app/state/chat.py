"""The chat screen's state: what the browser shows, and the events the person triggers.

Frames from the companion server arrive through the session's bridge and are applied by
``ChatSession`` (pure, in ``chat/session.py``); ``run_bridge`` copies only the fields that
changed into this state.  Sending goes straight to the bridge.
"""

from __future__ import annotations

import json
import logging
import re
import time
from urllib.parse import quote

import reflex as rx

from agentchat_client.protocol import MessageType, Role

from ..bridge import Bridge, close_bridge, get_bridge, open_bridge
from ..chat.convert import excerpt, size_label
from ..chat.errors import VIEWER_REASON
from ..chat.models import ChatMessage, Member, PendingFile, Question
from ..chat.session import Changes, ChatSession
from ..chat.window import split_for_display
from ..components.backend_url import backend_origin_js
from ..services import companion, files, web_session
from .auth import AuthState
from .composer import ComposerState
from .log import LogState, assign_changed
from .notify import notify_elsewhere_script
from .reader import ReaderMixin, reader_script
from .typing import TypingState
from .outbox import OutboxMixin
from .rooms import RoomsMixin
from .runs import RunsMixin
from .search import SearchMixin

__all__ = ["ChatState", "ALL_FIELDS"]

ALL_FIELDS = {"messages", "streams", "members", "typing", "questions", "connection", "error", "role", "runs",
              "approvals", "rooms", "thread", "pending", "banner", "search"}
HISTORY_PAGE = 50
TYPING_EVERY_SECONDS = 2.0
MAX_SUGGESTIONS = 6
_MENTION_AT_END = re.compile(r"(?:^|\s)@([A-Za-z0-9_-]*)$")
MAX_PENDING_FILES = 10
log = logging.getLogger(__name__)
_SHRINK_COMPOSER = rx.call_script("window.agentchatFitComposer && window.agentchatFitComposer()")
"""After sending, the composer (grown with a long text) goes back to one line."""


class ChatState(ReaderMixin, OutboxMixin, SearchMixin, RoomsMixin, RunsMixin, AuthState):
    has_more: bool = False
    detached: bool = False
    members: list[Member] = []
    questions: list[Question] = []
    connection: str = "Connecting"
    banner: str = ""
    """"Reconnecting…" / "Back online" about the link to the chat server (``chat/banner.py``)."""
    error: str = ""

    show_people: bool = False

    _last_typing_sent: float = 0.0
    _drafts: dict[str, str] = {}
    """What was typed in the composer of each room left with text in it (drafts per conversation)."""

    # --- derived -------------------------------------------------------------------------
    @rx.var
    def can_post(self) -> bool:
        return bool(self.user) and self.role != Role.VIEWER.value

    @rx.var
    def composer_reason(self) -> str:
        if self.role == Role.VIEWER.value:
            return VIEWER_REASON
        return ""

    @rx.var
    def online_count(self) -> int:
        return sum(1 for m in self.members if m.online)

    # --- connection ----------------------------------------------------------------------
    def _bridge(self) -> Bridge | None:
        bridge = get_bridge(self.router.session.client_token)
        if bridge is None or bridge.session.me != self.user:
            return None
        return bridge

    @rx.event
    async def load(self):
        """On ``/``: restore the sign-in, open the bridge and start reading from it."""
        if not await self._restore():
            return rx.redirect("/login")
        url = await companion.server_url()
        key = self.router.session.client_token
        existing = get_bridge(key)  # keep a live bridge across reloads: its token is kept fresh
        token = existing.token if existing is not None and existing.session.me == self.user else self._access_token
        log = await self.get_state(LogState)
        open_bridge(key, url, self.user, self.role, token, shown=[*log.older, *log.recent],
                    has_more=self.has_more)
        web_session.keep_fresh(key, self._refresh_credential(), self._access_expires)
        self._note_origin()
        return [ChatState.run_bridge, rx.call_script(reader_script(self.user), callback=ChatState.set_reader)]

    @rx.event(background=True)
    async def run_bridge(self):
        """Drain the bridge into state until it closes (one reader per browser session)."""
        async with self:
            key = self.router.session.client_token
            user = self.user
        bridge = get_bridge(key)
        if bridge is None or bridge.session.me != user or bridge.consumers > 0:
            return
        bridge.consumers += 1
        session = bridge.session
        shown_room = session.room_id
        try:
            changes = Changes(fields=set(ALL_FIELDS))
            while True:
                if get_bridge(key) is not bridge and not changes.auth_failed:
                    return  # signed out, or replaced by a newer bridge: its reader owns the state now
                if changes.fields or changes.restore_draft or changes.auth_failed:
                    async with self:
                        await self._copy(session, changes)
                        if "typing" in changes.fields:
                            await self._show_typing(session)
                        if changes.auth_failed:
                            self._forget()
                    if changes.auth_failed:
                        yield rx.redirect("/login")
                        return
                for text in changes.toasts[-3:]:
                    yield rx.toast.info(text, duration=5000)
                for notice in changes.notices[-3:]:
                    yield rx.call_script(notify_elsewhere_script(notice))
                if session.room_id != shown_room:  # the server opened a room (created, a DM): its URL
                    shown_room = session.room_id
                    yield self.room_url_script(shown_room)
                if bridge.closed and bridge.queue.empty():
                    return
                batch = await bridge.next_batch(timeout=0.25 if session.needs_tick else 5.0)
                changes = Changes()
                for frame in batch:
                    try:
                        changes.merge(session.apply(frame))
                    except Exception:  # one odd frame must not stop the session's updates
                        log.exception("could not apply a %r frame", frame.get("type"))
                if session.needs_tick:
                    changes.merge(session.tick())
                if session.runs.missing:
                    await self._ask_for_missing(session, bridge)
                if session.rooms.outbox:
                    await self._flush_rooms(bridge)
                if await self._flush_outbox(bridge):  # what waited for the reconnect goes out now
                    changes.fields.add("pending")
        finally:
            bridge.consumers -= 1

    async def _copy(self, session: ChatSession, changes: Changes) -> None:
        """Copy what changed; a var is assigned only when its value differs (each assignment
        is re-sent, and re-renders everything that reads the state it belongs to)."""
        fields = changes.fields
        self._copy_runs(session, fields)
        self._copy_rooms(session, fields)
        self._copy_search(session, fields)
        await self._copy_log(session, fields)
        if "banner" in fields:
            assign_changed(self, banner=session.banner.text(session.clock()))
        if "members" in fields:
            self.members = session.member_list()
        if "questions" in fields:
            self.questions = list(session.questions)
        if "connection" in fields:
            assign_changed(self, connection=session.connection)
        if "error" in fields:
            assign_changed(self, error=session.error)
        if "role" in fields and session.role and session.role != self.role:
            self.role = session.role
        if changes.restore_draft:
            composer = await self.get_state(ComposerState)
            if not composer.draft.strip():
                composer.draft = changes.restore_draft

    async def _copy_log(self, session: ChatSession, fields: set[str]) -> None:
        """The window (its older part and its newest few), my pending sends and live answers,
        into ``LogState``: a new message re-renders the end of the log and nothing else."""
        log = await self.get_state(LogState)
        if fields & {"pending", "messages"}:  # "messages": another room may be open now
            assign_changed(log, pending=session.outbox.views(session.room_id))
        if "streams" in fields:
            log.streams = list(session.window.streams)
        if "messages" not in fields and not session.edited_ids:
            return
        window = session.window.messages
        # Grouping and day separators (chat/timeline.py): the keys of shown messages that changed.
        touched = self._shape(window, session.me) if "messages" in fields else set()
        touched |= {m.key for m in window if m.id in session.edited_ids}  # an edit keeps the key
        session.edited_ids.clear()
        split = split_for_display(window)
        for name, part in (("older", window[:split]), ("recent", window[split:])):
            keys = [m.key for m in part]
            if keys != [m.key for m in getattr(log, name)] or not touched.isdisjoint(keys):
                setattr(log, name, part)
        assign_changed(self, has_more=session.window.has_more, detached=session.window.detached)

    async def _show_pending(self, session: ChatSession) -> None:
        log = await self.get_state(LogState)
        assign_changed(log, pending=session.outbox.views(session.room_id))

    async def _show_typing(self, session: ChatSession) -> None:
        assign_changed(await self.get_state(TypingState), text=session.typing_text())

    async def _reshape(self) -> None:
        bridge = self._bridge()
        if bridge is not None:
            await self._copy(bridge.session, Changes(fields={"messages"}))

    @rx.event
    async def sign_out(self):
        """Close the bridge, forget the chat, then post the sign-out form (the route revokes the
        session on the server and clears the HttpOnly cookie)."""
        await close_bridge(self.router.session.client_token)
        self.reset()
        (await self.get_state(LogState)).reset()
        (await self.get_state(TypingState)).reset()
        (await self.get_state(ComposerState)).reset()
        action = json.dumps("/auth/sign-out")
        return rx.call_script(
            "(() => { const f = document.createElement('form'); f.method = 'post'; "
            f"f.action = {backend_origin_js()} + {action}; document.body.appendChild(f); f.submit(); }})()"
        )

    @rx.event
    def toggle_people(self):
        self.show_people = not self.show_people

    # --- composing -----------------------------------------------------------------------
    @rx.event
    async def set_draft(self, value: str):
        composer = await self.get_state(ComposerState)
        match = _MENTION_AT_END.search(value)
        names: list[str] = []
        if match is not None:
            prefix = match.group(1).lower()
            names = [m.user_id for m in self.members if not m.is_me and m.user_id.lower().startswith(prefix)]
        assign_changed(composer, draft=value, suggestions=names[:MAX_SUGGESTIONS])
        now = time.monotonic()
        if value.strip() and self.can_post and now - self._last_typing_sent > TYPING_EVERY_SECONDS:
            self._last_typing_sent = now
            bridge = self._bridge()
            if bridge is not None:
                await bridge.send(MessageType.TYPING, {"typing": True})

    async def _swap_draft(self, left: str, opened: str) -> None:
        """Keep the draft of the room just left; show the opened room's own draft."""
        if left == opened:
            return
        composer = await self.get_state(ComposerState)
        if composer.draft.strip():
            self._drafts[left] = composer.draft
        else:
            self._drafts.pop(left, None)
        assign_changed(composer, draft=self._drafts.pop(opened, ""), suggestions=[])

    @rx.event
    async def pick_mention(self, name: str):
        composer = await self.get_state(ComposerState)
        draft = composer.draft
        match = _MENTION_AT_END.search(draft)
        if match is not None:
            draft = draft[: match.end() - len(match.group(1))] + name + " "
        else:
            draft = f"{draft}@{name} "
        assign_changed(composer, draft=draft, suggestions=[])
        return rx.set_focus("composer")

    @rx.event
    async def start_reply(self, message_id: int, sender: str, text: str):
        composer = await self.get_state(ComposerState)
        assign_changed(composer, reply_to_id=message_id, reply_to_sender=sender, reply_to_excerpt=excerpt(text))
        return rx.set_focus("composer")

    @rx.event
    async def cancel_reply(self):
        composer = await self.get_state(ComposerState)
        assign_changed(composer, reply_to_id=0, reply_to_sender="", reply_to_excerpt="")

    @rx.event
    def dismiss_error(self):
        self.error = ""
        bridge = self._bridge()
        if bridge is not None:
            bridge.session.error = ""

    @rx.event
    async def send(self, form: dict | None = None):
        composer = await self.get_state(ComposerState)
        typed = (form or {}).get("message")
        text = (typed if isinstance(typed, str) else composer.draft).rstrip()
        attachment_ids = [f.id for f in composer.pending_files]
        if not text.strip() and not attachment_ids:
            return
        if not self.can_post:
            self.error = VIEWER_REASON
            return
        bridge = self._bridge()
        if bridge is None:
            self.error = "Not connected to the chat server right now; your message is kept. Try again in a moment."
            return
        # Shown at once, marked as sending (or waiting for the connection); the echo confirms it.
        room_id = bridge.session.room_id
        bridge.session.outbox.add(text, room_id=room_id, reply_to=composer.reply_to_id or None,
                                  attachments=attachment_ids)
        await self._flush_outbox(bridge)
        await self._show_pending(bridge.session)
        self._drafts.pop(room_id, None)
        assign_changed(composer, draft="", suggestions=[], pending_files=[], reply_to_id=0, reply_to_sender="",
                       reply_to_excerpt="")
        if bridge.connected:
            await bridge.send(MessageType.TYPING, {"typing": False})
        self._last_typing_sent = 0.0
        if not bridge.session.rate_limited_until:
            assign_changed(self, error="")
        return [_SHRINK_COMPOSER, rx.set_focus("composer")]

    @rx.event
    async def load_earlier(self):
        bridge = self._bridge()
        if bridge is None or bridge.session.loading_earlier or not self.has_more:
            return
        oldest = bridge.session.window.oldest_id
        if not oldest:
            return
        bridge.session.loading_earlier = True
        if not await bridge.send(MessageType.HISTORY, {"beforeId": oldest, "limit": HISTORY_PAGE}):
            bridge.session.loading_earlier = False

    @rx.event
    async def jump_to_latest(self):
        bridge = self._bridge()
        if bridge is not None:
            await bridge.send(MessageType.HISTORY, {"beforeId": None, "limit": HISTORY_PAGE})

    # --- agents --------------------------------------------------------------------------
    @rx.event
    async def answer_question(self, question_id: str, answer: str):
        bridge = self._bridge()
        if bridge is None or not await bridge.send(
            MessageType.QUESTION_ANSWER, {"questionId": question_id, "answer": answer}
        ):
            self.error = "Not connected; try answering again in a moment."

    @rx.event
    async def stop_agent(self, agent: str):
        bridge = self._bridge()
        if bridge is None or not await bridge.send(MessageType.STOP_AGENT, {"agent": agent}):
            self.error = f"Could not reach the server to stop {agent}; try again in a moment."
            return
        return rx.toast.info(f"Asked {agent} to stop")

    # --- files ---------------------------------------------------------------------------
    @rx.event
    async def handle_upload(self, uploads: list[rx.UploadFile]):
        if not self.can_post:
            self.error = VIEWER_REASON
            return
        composer = await self.get_state(ComposerState)
        composer.uploading = True
        problems: list[str] = []
        added: list[PendingFile] = []
        limit = companion.settings().max_upload_bytes
        token = await self._token()
        for upload in uploads:
            name = upload.name or upload.filename or "file"
            data = await upload.read(limit + 1) if hasattr(upload, "read") else b""
            try:
                saved = await files.save_upload(token, name, upload.content_type, data)
            except files.UploadError as exc:
                problems.append(str(exc))
                continue
            added.append(PendingFile(id=saved.id, name=saved.name, size_label=size_label(saved.size)))
        composer.pending_files = (composer.pending_files + added)[-MAX_PENDING_FILES:]
        composer.uploading = False
        assign_changed(self, error=" ".join(problems))
        yield rx.clear_selected_files("attach")

    @rx.event
    async def remove_pending(self, file_id: str):
        composer = await self.get_state(ComposerState)
        composer.pending_files = [f for f in composer.pending_files if f.id != file_id]

    @rx.event
    def download(self, file_id: str, name: str):
        if not self.user:
            return rx.redirect("/login")
        # The app's /files route checks the HttpOnly session cookie and streams the file from the
        # server; Content-Disposition: attachment makes this a download, not a navigation.
        path = json.dumps(f"/files/{quote(file_id)}")
        return rx.call_script(f"window.location.assign({backend_origin_js()} + {path})")
