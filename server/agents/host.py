"""``AgentManager``: hosts the in-process agents on a ``WebSocketManager``.

It talks to the chat only through the manager's public calls: ``add_message_handler`` (the
TelegramManager hook) to hear messages, ``add_stop_handler`` to hear stop requests, and the
agents' own ``post_agent_response`` / ``set_status`` / ``ask``.  Every handled message runs in
its own asyncio task, so a slow agent never blocks the chat or the other agents, and an agent
that raises is reported ``stuck`` while everything else goes on.

Each handled message is a run (``agentchat_client.runs``: steps, tool calls, streamed text the
room can watch).  An agent works on one run at a time: a message that arrives meanwhile waits its
turn, in order, and the room sees it queued (``run_queued``).  Stop cancels the current run
(``RUN_FINISHED`` with the cancelled outcome); the queued ones then go ahead.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentchat_client.message import ParsedMessage
from agentchat_client.protocol import AgentMode, AgentState, is_valid_username
from agentchat_client.runs import Policies, Run, ToolSkipped, new_run_id
from ..core.budgets import Budgets
from ..core.costs import Price
from ..core.rooms import Room
from ..settings import Settings
from .base import Agent, AgentError, UsageError, current_run, snippet
from .errors import ConfigError
from .runs import HubRunSink

if TYPE_CHECKING:
    from .ports import ChatHost

__all__ = ["AgentManager", "TelegramAgent"]

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 5.0
MAX_QUEUED_PER_AGENT = 16
"""Requests that may wait for one agent; one more is answered "busy"."""


@dataclass(slots=True)
class Lane:
    """One agent's requests: the run it works on, then the ones waiting their turn, in order."""

    current: asyncio.Task[None] | None = None
    waiting: deque[tuple[ParsedMessage, str]] = field(default_factory=deque)

    @property
    def busy(self) -> bool:
        return self.current is not None and not self.current.done()


@dataclass(slots=True)
class TelegramAgent:
    """An agent from the TelegramManager set-up: ``factory(manager)`` wires it up itself."""

    name: str
    description: str
    factory: Callable[[Any], Any]
    role: str = "assistant"
    instance: Any = None

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "description": self.description}

    def help_lines(self) -> list[str]:
        return [f"**@{self.name}** ({self.role}): {self.description}"]


class AgentManager:
    """Owns the agents: registers them, routes messages to them and runs their work."""

    def __init__(self, manager: ChatHost, settings: Settings, *, load_defaults: bool = True) -> None:
        self.manager = manager
        self.settings = settings
        self.agents: dict[str, Agent] = {}
        self.telegram_agents: dict[str, TelegramAgent] = {}
        self.running: dict[str, set[asyncio.Task[None]]] = {}
        self.lanes: dict[str, Lane] = {}
        self._stopping: dict[asyncio.Task[None], str] = {}
        self._watchers: set[asyncio.Task[None]] = set()
        self._started = False
        self.usage_rules: tuple[dict[str, Price], Budgets] = ({}, Budgets())
        """``[prices]`` and ``[budgets]`` of the config, handed to the hub's ``UsageService`` at start."""
        if load_defaults:
            self._load_defaults()

    def _load_defaults(self) -> None:
        from .builtin import BUILTINS
        from .config import load_agents, load_tool_policies
        from .usage_config import load_usage_rules

        for name in self.settings.builtin_agents:
            make = BUILTINS.get(name)
            if make is None:
                raise ConfigError(f"AGENTCHAT_BUILTIN_AGENTS: unknown agent {name!r} (known: {', '.join(sorted(BUILTINS))})")
            self._put(make(self.settings))
        if self.settings.agents_config is None:
            if self.settings.llm_base_url:
                log.info("AGENTCHAT_LLM_BASE_URL is set but AGENTCHAT_AGENTS_CONFIG is not: no LLM agents (see docs/agents.md)")
            return
        for entry in load_agents(self.settings.agents_config, self.settings):
            if isinstance(entry, TelegramAgent):
                self.add_telegram_agent(entry.name, entry.factory, entry.description, entry.role)
            else:
                self._put(entry)
        self.apply_policies(load_tool_policies(self.settings.agents_config), str(self.settings.agents_config))
        self.usage_rules = load_usage_rules(self.settings.agents_config, self.agents)

    def apply_policies(self, policies: dict[str, Policies], where: str = "tool_policies") -> None:
        """Give each in-process agent its tools' policies; a policy for a tool the agent does not
        have is a mistake (a typo must not leave a dangerous tool on its default)."""
        for name, table in policies.items():
            agent = self.agents.get(name)
            if agent is None:
                log.warning("%s: tool_policies.%s names no agent hosted here; out-of-process agents set "
                            "their own policies (AgentClient(policies=...))", where, name)
                continue
            known = {t.name for t in agent.tools}
            unknown = sorted(set(table.by_tool) - known - {"*"})
            if known and unknown and getattr(agent, "mcp", None) is None:  # MCP tools are known only at run time
                raise ConfigError(f"{where}: tool_policies.{name}: {name} has no tool {', '.join(unknown)} "
                                  f"(its tools: {', '.join(sorted(known))})")
            agent.policies = table

    # adding agents ----------------------------------------------------------------------------
    def _put(self, agent: Agent) -> None:
        if not is_valid_username(agent.name):
            raise ConfigError(f"agent name {agent.name!r} is not a valid user name (letters, digits, _ and -)")
        if agent.name in self.agents or agent.name in self.telegram_agents:
            raise ConfigError(f"two agents are named {agent.name!r}")
        agent.bind(self.manager, self)
        self.agents[agent.name] = agent

    async def add(self, agent: Agent) -> Agent:
        """Add an agent; before :meth:`start` or while running."""
        self._put(agent)
        if self._started:
            await self._start_agent(agent)
        return agent

    def add_telegram_agent(
        self, name: str, factory: Callable[[Any], Any], description: str = "", role: str = "assistant"
    ) -> TelegramAgent:
        """Host an agent written for TelegramManager: ``factory(manager)`` is called unchanged.

        The agent subscribes with ``manager.add_message_handler`` and answers with
        ``manager.send_message`` / ``manager.send_status_update`` exactly as before; this only
        makes its name known to the chat (members list, ``/help``, ``stop_agent``).
        """
        if name in self.agents or name in self.telegram_agents:
            raise ConfigError(f"two agents are named {name!r}")
        entry = TelegramAgent(name, description, factory, role)
        self.telegram_agents[name] = entry
        if self._started:
            self._watch(self._start_telegram_agent(entry))
        return entry

    def get(self, name: str) -> Agent | None:
        return self.agents.get(name)

    def directory(self) -> list[dict[str, Any]]:
        """Every agent the chat knows: ours first, then those connected from other processes."""
        seen = {**{n: a.info() for n, a in self.agents.items()}, **{n: t.info() for n, t in self.telegram_agents.items()}}
        hub = getattr(self.manager, "hub", None)
        for name, info in sorted(getattr(hub, "agents", {}).items()):
            if name not in seen:
                seen[name] = {"name": name, "role": "external agent", "description": info.description or ""}
        return [seen[n] for n in sorted(seen)]

    def help_lines(self, name: str) -> list[str] | None:
        agent = self.agents.get(name) or self.telegram_agents.get(name)
        if agent is not None:
            return agent.help_lines()
        for info in self.directory():
            if info["name"] == name:
                return [f"**@{name}** ({info['role']}): {info['description'] or 'connected from another process'}"]
        return None

    # lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Register every agent and start listening (called before the server accepts clients)."""
        hub = getattr(self.manager, "hub", None)
        if hub is not None:
            hub.usage.configure(*self.usage_rules)
        for agent in list(self.agents.values()):
            await self._start_agent(agent)
        for entry in self.telegram_agents.values():
            await self._start_telegram_agent(entry)
        self.manager.add_message_handler(self._on_message, all_rooms=True, on_loop=True)
        self.manager.add_stop_handler(self._on_stop)
        self._started = True
        log.info("agents ready: %s", ", ".join(sorted([*self.agents, *self.telegram_agents])) or "none")

    async def _register(self, name: str, description: str) -> None:
        self.manager.register_agent(name, description)
        await self.manager.store.ensure_user(name, "agent", is_agent=True)

    async def _start_telegram_agent(self, entry: TelegramAgent) -> None:
        await self._register(entry.name, entry.description)
        entry.instance = entry.factory(self.manager)

    async def _start_agent(self, agent: Agent) -> None:
        await self._register(agent.name, agent.description)
        self.running.setdefault(agent.name, set())
        await agent.start()
        await agent.report_status(await agent.ready_status())

    async def stop(self) -> None:
        """Cancel the running work and let every agent release what it holds."""
        self._started = False
        tasks = [t for group in self.running.values() for t in group] + list(self._watchers)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for agent in self.agents.values():
            try:
                await agent.stop()
            except Exception:
                log.exception("agent %s failed to stop cleanly", agent.name)

    # routing --------------------------------------------------------------------------------------
    def _on_message(self, msg: ParsedMessage) -> None:
        """The ``add_message_handler`` hook, on the loop (no task per message): start one task
        per agent that wants ``msg``."""
        if not self._started:
            return
        hub = getattr(self.manager, "hub", None)
        room = hub.rooms.get(msg.room_id) if hub is not None else None
        for agent in list(self.agents.values()):
            try:
                wanted = self._wants(agent, msg, room)
            except Exception:
                log.exception("%s.wants failed", agent.name)
                continue
            if wanted:
                self.dispatch(agent, msg)

    @staticmethod
    def _wants(agent: Agent, msg: ParsedMessage, room: Room | None) -> bool:
        """An agent hears only the rooms it is in; per room it answers when mentioned (the
        default), every person's message (``all``) or nothing (``off``).  ``@here`` and
        ``@channel`` are for people: they never wake an agent."""
        if room is None or not room.has_member(agent.name) or msg.sender == agent.name:
            return False
        mode = room.mode_of(agent.name)
        if mode is AgentMode.OFF:
            return False
        if mode is AgentMode.ALL and msg.kind == "message":
            return True
        if msg.mentions_everyone and not msg.mentions_name(agent.name):
            return False
        return agent.wants(msg)

    def dispatch(self, agent: Agent, msg: ParsedMessage) -> asyncio.Task[None] | None:
        """Run ``msg`` now, or queue it behind the agent's current run (the room sees it queued)."""
        lane = self.lanes.setdefault(agent.name, Lane())
        run_id = new_run_id()
        if not lane.busy:
            return self._begin(agent, lane, msg, run_id)
        if len(lane.waiting) >= MAX_QUEUED_PER_AGENT:
            self._watch(agent.reply(msg, f"{len(lane.waiting)} requests are already waiting for me; "
                                         "please try again in a moment.", AgentState.WORKING))
            return None
        lane.waiting.append((msg, run_id))
        self._watch(self._announce_queued(agent, msg, run_id, len(lane.waiting)))
        return None

    async def _announce_queued(self, agent: Agent, msg: ParsedMessage, run_id: str, position: int) -> None:
        hub = self.manager.hub
        if hub is not None:
            await self._quietly(hub.runs.queued(agent.name, run_id, msg.message_id, position, msg.room_id,
                                                msg.thread_id), agent)

    def _begin(self, agent: Agent, lane: Lane, msg: ParsedMessage, run_id: str) -> asyncio.Task[None]:
        task = asyncio.create_task(self._run(agent, msg, run_id), name=f"agent-{agent.name}-{msg.message_id}")
        lane.current = task
        group = self.running.setdefault(agent.name, set())
        group.add(task)
        task.add_done_callback(group.discard)
        task.add_done_callback(lambda _: self._next(agent, lane))
        return task

    def _next(self, agent: Agent, lane: Lane) -> None:
        if self._started and lane.waiting and not lane.busy:
            msg, run_id = lane.waiting.popleft()
            self._begin(agent, lane, msg, run_id)

    def _new_run(self, agent: Agent, msg: ParsedMessage, run_id: str) -> Run:
        hub = self.manager.hub
        assert hub is not None
        return Run(HubRunSink(hub), agent.name, run_id=run_id, reply_to=msg.message_id, room_id=msg.room_id,
                   thread_id=msg.thread_id, requester=msg.sender, policies=agent.policies,
                   tools={t.name: t for t in agent.tools})

    async def _run(self, agent: Agent, msg: ParsedMessage, run_id: str) -> None:
        task = asyncio.current_task()
        assert task is not None
        run = self._new_run(agent, msg, run_id)
        token = current_run.set(run)
        begun = False
        try:
            await run.start()
            begun = True
            await agent.report_status(await agent.working_status(msg))
            await agent.handle(msg)
        except asyncio.CancelledError:
            by = self._stopping.pop(task, None)
            if not begun:  # stopped before the server confirmed the run: answer outside it
                current_run.set(None)
            if by is not None:
                await self._quietly(agent.reply(msg, f"Stopped by {by}.", AgentState.IDLE), agent)
            if begun:
                await self._quietly(asyncio.shield(run.cancel()), agent)
            else:
                try:
                    await asyncio.shield(run.cancel())
                except Exception as exc:  # the run may never have reached the server
                    log.info("run %s of %s stopped before it started: %s", run.run_id, agent.name, exc)
            if by is None:
                raise  # the server is shutting down
            return
        except (UsageError, ToolSkipped) as exc:
            await self._quietly(agent.reply(msg, str(exc), AgentState.IDLE), agent)
            await self._quietly(run.finish(), agent)
        except AgentError as exc:
            await self._stuck(agent, msg, exc.reason, exc.reason)
            await self._quietly(run.fail(exc.reason, "AGENT_ERROR"), agent)
            return
        except Exception as exc:
            log.exception("agent %s failed on message %s", agent.name, msg.message_id)
            kind = type(exc).__name__
            await self._stuck(
                agent, msg, f"Failed on message #{msg.message_id} ({kind})",
                f"Sorry, something went wrong while I worked on this ({kind}); the details are in the server log.",
            )
            await self._quietly(run.fail(f"The agent failed ({kind})", kind), agent)
            return
        else:
            await self._quietly(run.finish(), agent)
        finally:
            current_run.reset(token)
        if self.lanes.get(agent.name, Lane()).waiting:
            return  # the next request starts now and reports its own status
        await self._quietly(agent.report_status(await agent.done_status(msg)), agent)

    async def _stuck(self, agent: Agent, msg: ParsedMessage, reason: str, text: str) -> None:
        await self._quietly(agent.report(AgentState.STUCK, snippet(reason, 200)), agent)
        await self._quietly(agent.reply(msg, text, AgentState.STUCK), agent)

    @staticmethod
    async def _quietly(awaitable: Any, agent: Agent) -> None:
        """Reporting must never take the manager down (the reply may be refused, e.g. too long)."""
        try:
            await awaitable
        except Exception:
            log.exception("agent %s could not report", agent.name)

    def _watch(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    # stopping -------------------------------------------------------------------------------------
    def _on_stop(self, agent_name: str, by: str) -> None:
        """``stop_agent`` from a person: cancel the agent's current run, then report ``idle``
        (requests still waiting go ahead)."""
        agent = self.agents.get(agent_name)
        if agent is None:
            return  # an agent in another process, or a Telegram-style one (not cancellable)
        tasks = [t for t in self.running.get(agent_name, ()) if not t.done()]
        for task in tasks:
            self._stopping[task] = by or "someone"
            task.cancel()
        self._watch(self._after_stop(agent, tasks, by or "someone"))

    async def _after_stop(self, agent: Agent, tasks: Iterable[asyncio.Task[None]], by: str) -> None:
        pending = list(tasks)
        if pending:
            await asyncio.wait(pending, timeout=STOP_GRACE_SECONDS)
        if self.lanes.get(agent.name, Lane()).busy:
            return  # the next request is running and shows its own status
        note = f"Stopped by {by}" if pending else f"Stopped by {by} (nothing was running)"
        await self._quietly(agent.report(AgentState.IDLE, note), agent)
