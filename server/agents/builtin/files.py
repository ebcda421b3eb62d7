"""``files``: says what a shared file is — the worked example of an agent receiving files.

It answers messages with attachments that mention ``@files`` or no other agent, and ``@files``
in a reply to a message that carries files.  Files travel as metadata; the agent reads the
bytes from ``settings.upload_dir / stored_name``.  The room can watch it work: one step per file,
with its reading (``read_file``) and analysing (``analyse_file``) as tool calls.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

from agentchat_client.message import ParsedMessage
from agentchat_client.protocol import AgentState
from agentchat_client.runs import Tool
from ...settings import Settings
from ...store import Attachment
from ..base import Agent, Status, UsageError
from ..text import inert
from .fileinfo import describe_file

__all__ = ["FilesAgent"]

MAX_FILES = 10


class FilesAgent(Agent):
    name = "files"
    role = "file inspector"
    description = "Says what a shared file holds: type, size, CSV rows and columns, image size, a text preview."
    usage = (
        "Attach files to a message (mention `@files`, or no other agent) to get a summary of each.",
        "Reply to a message that has files with `@files` to inspect them later.",
    )
    tools: ClassVar[tuple[Tool, ...]] = (
        Tool("read_file", description="Find a shared file and check it can be read.", changes=False),
        Tool("analyse_file", description="Say what a file holds: type, size, rows and columns, a preview.",
             changes=False),
    )

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.upload_dir = Path(settings.upload_dir if settings else "data/uploads")

    def wants(self, msg: ParsedMessage) -> bool:
        if msg.sender == self.name:
            return False
        if msg.mentions_name(self.name):
            return True
        if not msg.attachments or msg.is_command:
            return False
        others = {a["name"].lower() for a in self.agents.directory()} - {self.name}
        return not any(m.lower() in others for m in msg.mentions)

    async def working_status(self, msg: ParsedMessage) -> Status:
        return Status(AgentState.WORKING, f"Reading files from {msg.sender}", 0)

    async def handle(self, msg: ParsedMessage) -> None:
        metas: list[dict[str, Any]] = list(msg.attachments)
        if not metas and msg.reply_to is not None:
            for row in await self.store.get_messages([msg.reply_to]):
                metas = list(row.attachments)
        if not metas:
            raise UsageError(
                "Attach a file to your message (or reply to a message that has files) and mention @files; "
                "I will say what it contains."
            )
        ids = [m["id"] for m in metas if isinstance(m, dict) and "id" in m][:MAX_FILES]
        found = await self.store.get_attachments(ids)
        parts = []
        run = self.run
        for index, attachment in enumerate(found):
            await self.report(AgentState.WORKING, f"Reading {attachment.name}", 100 * index / max(len(found), 1))
            async with run.step(f"Read {attachment.name}"):
                await run.tool_call("read_file", {"file": attachment.name},
                                    lambda file, a=attachment: self._locate(a))
                parts.append(await run.tool_call("analyse_file", {"file": attachment.name, "type": attachment.content_type},
                                                 lambda file, type, a=attachment: asyncio.to_thread(self._describe, a)))
        missing = len(ids) - len(found)
        if missing:
            parts.append(f"{missing} attached file(s) are no longer known to the server.")
        if len(metas) > MAX_FILES:
            parts.append(f"I looked at the first {MAX_FILES} files only.")
        await self.reply(msg, "\n\n".join(parts))

    def _locate(self, attachment: Attachment) -> dict[str, Any]:
        path = (self.upload_dir.resolve() / attachment.stored_name)
        return {"name": attachment.name, "size": attachment.size, "type": attachment.content_type,
                "readable": path.is_file()}

    def _describe(self, attachment: Attachment) -> str:
        base = self.upload_dir.resolve()
        path = (base / attachment.stored_name).resolve()
        if base not in path.parents:  # stored names are generated; never follow one out of the folder
            return f"**{inert(attachment.name)}**: stored outside the upload folder; not read."
        return describe_file(path, attachment.name, attachment.content_type, attachment.size)
