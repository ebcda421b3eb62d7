"""``Agent``: the base class of every in-process agent.

An agent has a name, a role and a one-line description.  It handles the chat messages that
mention it (``@name``) or start with one of the slash commands it owns, and talks back only
through the ``WebSocketManager`` it is bound to.  The ``AgentManager`` runs each handled
message in its own asyncio task, reports ``working`` / ``completed`` / ``stuck`` around it and
cancels it when a person stops the agent, so a subclass only writes :meth:`Agent.handle`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from agentchat_client.message import ParsedMessage
from agentchat_client.protocol import GENERAL, AgentState
from agentchat_client.runs import Policies, Run, Tool, current_run
from ..store import Message

if TYPE_CHECKING:
    from ..store import Store
    from .ports import AgentDirectory, ChatHost

__all__ = ["Agent", "AgentError", "Status", "UsageError", "snippet", "strip_mention", "current_run"]



class AgentError(Exception):
    """A failure whose message is meant for people: posted in the chat and shown as ``stuck``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UsageError(AgentError):
    """The person asked for something the agent cannot do as written: answered, not ``stuck``."""


@dataclass(frozen=True, slots=True)
class Status:
    """What an agent shows in the members list: state, what it is doing, 0-100 or None."""

    state: AgentState
    task: str | None = None
    progress: float | None = None


def snippet(text: str, limit: int = 60) -> str:
    """One line of at most ``limit`` characters, for status lines."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def strip_mention(text: str, name: str) -> str:
    """``"@tasks add Ship v1"`` -> ``"add Ship v1"`` (every ``@name`` of this agent removed)."""
    pattern = re.compile(rf"(?<![\w@])@{re.escape(name)}(?![\w-])[,:]?", re.IGNORECASE)
    return " ".join(pattern.sub(" ", text).split())


class Agent:
    """Subclass, set ``name`` / ``role`` / ``description`` (and ``commands``), write ``handle``."""

    name: str = ""
    role: str = "assistant"
    description: str = ""
    commands: ClassVar[Mapping[str, str]] = {}
    """Slash commands this agent owns: ``{"task": "/task add <title> — add a task"}``."""
    usage: Sequence[str] = ()
    """Extra help lines shown by ``/help <name>``."""
    tools: ClassVar[Sequence[Tool]] = ()
    """What the agent can do, for :meth:`Run.tool_call` (policies) and models (``tools=[...]``)."""

    def __init__(self, name: str | None = None, description: str | None = None, role: str | None = None) -> None:
        if name is not None:
            self.name = name
        if description is not None:
            self.description = description
        if role is not None:
            self.role = role
        if not self.name:
            raise ValueError(f"{type(self).__name__} needs a name")
        self._manager: ChatHost | None = None
        self._agents: AgentDirectory | None = None
        self.policies = Policies()
        """Tool policies from the agents config (``[tool_policies.<name>]``); they override the tools' own."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # wiring -------------------------------------------------------------------------------
    def bind(self, manager: ChatHost, agents: AgentDirectory) -> None:
        """Called by the ``AgentManager`` before :meth:`start`."""
        self._manager = manager
        self._agents = agents

    @property
    def manager(self) -> ChatHost:
        if self._manager is None:
            raise RuntimeError(f"agent {self.name!r} is not added to an AgentManager")
        return self._manager

    @property
    def agents(self) -> AgentDirectory:
        if self._agents is None:
            raise RuntimeError(f"agent {self.name!r} is not added to an AgentManager")
        return self._agents

    @property
    def store(self) -> Store:
        return self.manager.store

    # what to handle ---------------------------------------------------------------------------
    def wants(self, msg: ParsedMessage) -> bool:
        """True for messages that mention this agent or use one of its commands."""
        if msg.sender == self.name:
            return False
        if msg.command is not None and msg.command in self.commands:
            return True
        return msg.mentions_name(self.name)

    async def handle(self, msg: ParsedMessage) -> None:
        """Answer one message; raise :class:`AgentError` for a failure people should read."""
        raise NotImplementedError

    # lifecycle hooks ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Open what the agent needs (HTTP clients, tables); runs before the server listens."""

    async def stop(self) -> None:
        """Release what :meth:`start` opened."""

    async def ready_status(self) -> Status:
        return Status(AgentState.IDLE, "Ready")

    async def working_status(self, msg: ParsedMessage) -> Status:
        return Status(AgentState.WORKING, f"Answering {msg.sender}: {snippet(msg.text, 50)}")

    async def done_status(self, msg: ParsedMessage) -> Status:
        return Status(AgentState.COMPLETED, f"Answered {msg.sender}", 100)

    # the run --------------------------------------------------------------------------------------
    @property
    def run(self) -> Run:
        """The run of the message being handled: steps, tool calls, streamed text, usage.

        The ``AgentManager`` starts one per handled message and ends it when :meth:`handle` returns
        (or fails, or is stopped)."""
        found = current_run.get()
        if found is None or found.agent != self.name:
            raise RuntimeError(f"{self.name}: no run in progress here (runs exist while handle() runs)")
        return found

    def _run_for(self, reply_to: int | None) -> Run | None:
        found = current_run.get()
        if found is None or found.agent != self.name or found.finished or found.reply_to != reply_to:
            return None
        return found

    # talking back -----------------------------------------------------------------------------
    async def reply(
        self,
        msg: ParsedMessage,
        text: str,
        status: AgentState | str | None = AgentState.COMPLETED,
        *,
        stream_id: str | None = None,
        attachment_ids: Sequence[str] = (),
    ) -> Message:
        """Post an ``agent_response`` answering ``msg`` (``replyTo`` = its id), in its room and thread."""
        return await self.say(text, msg.message_id, status, stream_id=stream_id, attachment_ids=attachment_ids,
                              room_id=msg.room_id, thread_id=msg.thread_id)

    async def say(
        self,
        text: str,
        reply_to: int | None = None,
        status: AgentState | str | None = None,
        *,
        stream_id: str | None = None,
        attachment_ids: Sequence[str] = (),
        room_id: str = GENERAL,
        thread_id: int | None = None,
    ) -> Message:
        state = AgentState(status).value if status is not None else None
        limit = self.manager.settings.max_message_chars
        if len(text) > limit:  # a long answer is cut rather than refused
            text = text[: limit - 24] + "\n…(cut at the limit)"
        run = self._run_for(reply_to)
        if run is not None and run.room_id == room_id:
            # The answer is part of the run (AG-UI watchers see it) and names it (``runId``).  The
            # run's text reaches old clients as ``agent_stream`` with the run id as ``streamId``.
            # An agent streaming on its own (``stream()`` with its own id) keeps its stream.
            if run.take_answer_id() is None and stream_id is None:
                await run.text(text, answer=False)
            stream_id = stream_id or run.run_id
        else:
            run = None
        return await self.manager.post_agent_response(
            self.name, text, reply_to=reply_to, agent_status=state, stream_id=stream_id,
            attachment_ids=list(attachment_ids), room_id=room_id, thread_id=thread_id,
            run_id=run.run_id if run is not None else None,
        )

    async def report(self, state: AgentState | str, task: str | None = None, progress: float | None = None) -> None:
        """Publish a ``status_update`` for this agent."""
        if progress is not None:
            progress = max(0.0, min(100.0, float(progress)))
        await self.manager.set_status(self.name, AgentState(state).value, task, progress)

    async def report_status(self, status: Status) -> None:
        await self.report(status.state, status.task, status.progress)

    def stream(self, stream_id: str, delta: str, reply_to: int | None = None, room_id: str = GENERAL,
               thread_id: int | None = None) -> None:
        """Send a piece of an answer being written (an ``agent_stream`` frame)."""
        self.manager.stream(self.name, stream_id, delta, reply_to, room_id, thread_id)

    async def ask(
        self, to: str, text: str, choices: Sequence[str], timeout: float = 300.0, reply_to: int | None = None,
        room_id: str = GENERAL,
    ) -> str | None:
        """Ask person ``to`` a question and wait: the chosen answer, or None on timeout."""
        return await self.manager.ask(self.name, to, text, list(choices), timeout, reply_to, room_id)

    def help_lines(self) -> list[str]:
        """What ``/help <name>`` shows for this agent."""
        lines = [f"**@{self.name}** ({self.role}): {self.description}"]
        lines += [f"- {line}" for line in self.commands.values()]
        lines += [f"- {line}" for line in self.usage]
        return lines

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "description": self.description}
