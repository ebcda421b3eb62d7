"""``helper``: answers ``/help`` and ``@helper`` with who is here and how the chat works."""

from __future__ import annotations

from typing import ClassVar

from agentchat_client.message import ParsedMessage
from agentchat_client.protocol import AgentState
from ...settings import Settings
from ..base import Agent, Status, snippet, strip_mention
from ..text import inert

__all__ = ["HelperAgent"]

HOW_TO = [
    "**How it works**",
    (
        "- Mention an agent or a person with `@name` to get their attention; agents answer only when mentioned "
        "or when you use one of their commands."
    ),
    "- Reply to a message to keep a thread: the answer points back to it.",
    (
        "- Attach files to a message; mention `@files` (or send them without mentioning another agent) "
        "to get a summary of what they contain."
    ),
    (
        "- A working agent can be stopped with its Stop button; an agent may ask you a question with choices "
        "and waits for your answer."
    ),
    "- `/help <agent>` shows one agent's commands.",
]


class HelperAgent(Agent):
    name = "helper"
    role = "guide"
    description = "Explains the chat: the agents present, their commands, mentions, replies and files."
    commands: ClassVar[dict[str, str]] = {"help": "`/help` or `@helper`: this overview; `/help <agent>` for one agent"}

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()

    async def working_status(self, msg: ParsedMessage) -> Status:
        return Status(AgentState.WORKING, f"Helping {msg.sender}")

    async def done_status(self, msg: ParsedMessage) -> Status:
        return Status(AgentState.IDLE, "Ready: type /help")

    async def ready_status(self) -> Status:
        return Status(AgentState.IDLE, "Ready: type /help")

    async def handle(self, msg: ParsedMessage) -> None:
        if msg.command == "help":
            words = msg.args.split()
            topic = words[0].lstrip("@") if words else ""
        else:  # "@helper what does @tasks do?": the first other agent named, if any
            known = {a["name"].lower() for a in self.agents.directory()} - {self.name}
            named = [m for m in msg.mentions if m.lower() in known]
            words = [w.strip("?!.,").lower() for w in strip_mention(msg.text, self.name).split()]
            topic = named[0] if named else next((w for w in words if w in known), "")
        if topic:
            lines = self.agents.help_lines(topic)
            if lines is None:
                names = ", ".join(f"@{a['name']}" for a in self.agents.directory())
                await self.reply(msg, f"There is no agent named {inert(snippet(topic, 40))} here. Agents: {names or 'none'}.")
                return
            await self.reply(msg, "\n".join(lines))
            return
        await self.reply(msg, self.overview())

    def overview(self) -> str:
        lines = ["**Agents here**"]
        for info in self.agents.directory():
            desc = info["description"] or "(no description)"
            lines.append(f"- @{info['name']} ({info['role']}): {desc}")
        commands = []
        for agent in self.agents.agents.values():
            commands += [f"- {line}" for line in agent.commands.values()]
        if commands:
            lines += ["", "**Commands**", *commands]
        lines += ["", *HOW_TO]
        return "\n".join(lines)
