"""The /settings page: a person's own tokens for the per-user MCP servers agents call for them.

The state holds names and masked hints only: a token typed here goes to the server once (the
form resets) and is never read back, so it never reaches the browser again.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from ..services import tool_tokens
from ..services.api import ApiError
from .admin import when
from .auth import AuthState

__all__ = ["SettingsState", "ServerRow"]


@dataclasses.dataclass
class ServerRow:
    name: str = ""
    description: str = ""
    has_token: bool = False
    hint: str = ""
    updated: str = ""


def _row(server: tool_tokens.ToolServer) -> ServerRow:
    return ServerRow(server.name, server.description, server.has_token, server.hint,
                     when(server.updated_at) if server.updated_at else "")


class SettingsState(AuthState):
    servers: list[ServerRow] = []
    settings_notice: str = ""
    settings_error: str = ""
    settings_loaded: bool = False

    @rx.event
    async def load(self):
        if not await self._restore():
            return rx.redirect("/login")
        self.settings_notice = self.settings_error = ""
        await self._refresh()
        self.settings_loaded = True

    async def _refresh(self) -> None:
        try:
            self.servers = [_row(s) for s in await tool_tokens.list_servers(await self._token())]
        except ApiError as exc:
            self.settings_error = str(exc)

    @rx.event
    async def save(self, form: dict[str, str]):
        server, value = form.get("server", ""), form.get("token", "")
        self.settings_notice = self.settings_error = ""
        if not value.strip():
            self.settings_error = f"Paste your token for {server} first."
            return
        try:
            saved = await tool_tokens.save_token(await self._token(), server, value)
        except ApiError as exc:
            self.settings_error = str(exc)
            return
        self.settings_notice = f"Saved your token for {saved.name} ({saved.hint})."
        await self._refresh()

    @rx.event
    async def clear(self, server: str):
        self.settings_notice = self.settings_error = ""
        try:
            await tool_tokens.clear_token(await self._token(), server)
        except ApiError as exc:
            self.settings_error = str(exc)
            return
        self.settings_notice = f"Removed your token for {server}."
        await self._refresh()
