"""``WebSocketManager``: the drop-in replacement for the agent system's ``TelegramManager``.

Same calls as before (``add_message_handler``, ``send_message``, ``is_connected``...), now
backed by the WebSocket server.  ``send_message`` works from any thread and from inside the
event loop (the design document's version called ``asyncio.create_task`` from sync code,
which fails outside the loop).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from websockets.asyncio.server import Server

from .accounts import AccountService
from .accounts.factory import accounts_for
from .accounts.tool_tokens import ToolTokens
from .endpoint import serve_hub
from .auth import load_secret
from .backends import make_agent_directory, make_fanout, make_limiter, make_presence
from .core.events import Event
from .http import ApiContext, HttpLayer, build_app
from .http.runs import run_routes
from .http.tool_tokens import tool_token_routes
from .http.usage import usage_routes
from .hub import AccountsAuthenticator, Hub, StopCallback
from .mcp_server import McpEndpoint
from agentchat_client.message import MessageParser, ParsedMessage, to_parsed
from agentchat_client.protocol import GENERAL, AgentState, MessageType, ProtocolError
from .serialize import StoredEvents
from .settings import Settings, get_settings
from .store import Message, Store, open_store

__all__ = ["WebSocketManager", "MessageHandler"]

log = logging.getLogger(__name__)
MessageHandler = Callable[[ParsedMessage], Any]
THREAD_CALL_TIMEOUT = 30.0


class WebSocketManager:
    """Hosts the chat server and gives the agent system its familiar interface."""

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        settings: Settings | None = None,
        store: Store | None = None,
    ) -> None:
        settings = settings or get_settings()
        updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
        self.settings = settings.model_copy(update=updates) if updates else settings
        self.message_parser = MessageParser()
        self.message_handlers: list[MessageHandler] = []
        self._all_rooms: set[int] = set()
        """Handlers (by id) that understand rooms; the others hear ``general`` only."""
        self._on_loop: set[int] = set()
        """Plain handlers (by id) called on the event loop, not on the thread pool."""
        self.running = False
        self.server: Server | None = None
        self.hub: Hub | None = None
        self.accounts: AccountService | None = None
        self.http: HttpLayer | None = None
        self.mcp: McpEndpoint | None = None
        self._store = store
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool = ThreadPoolExecutor(16, thread_name_prefix="agent-handler")

    # properties ------------------------------------------------------------------------------
    @property
    def host(self) -> str:
        return self.settings.host

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        if self.server is not None:
            for sock in self.server.sockets:
                return int(sock.getsockname()[1])
        return self.settings.port

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    @property
    def http_url(self) -> str:
        """Base URL of the HTTP API on the same port (``/api/...``, ``/healthz``)."""
        return f"http://{self.host}:{self.port}"

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the server is not started")
        return self._store

    # TelegramManager interface ------------------------------------------------------------------
    def add_message_handler(self, handler: MessageHandler, *, all_rooms: bool = False, on_loop: bool = False) -> None:
        """Call ``handler(ParsedMessage)`` for every chat message; plain or async functions.

        Plain functions run on a thread pool, unless ``on_loop``: then they are called on the
        event loop as each message is delivered, and must return at once (no task, no thread hop
        per message: the built-in agents' router, which only starts work for messages it wants).

        A TelegramManager-era handler answers with ``send_message``, which posts to ``general``:
        it hears ``general`` only, so nothing from a private room can end up there.  Handlers that
        answer in the message's own room (``msg.room_id``) pass ``all_rooms=True``."""
        self.message_handlers.append(handler)
        if all_rooms:
            self._all_rooms.add(id(handler))
        if on_loop:
            self._on_loop.add(id(handler))

    def is_connected(self) -> bool:
        return self.running

    def send_message(self, text: str, sender_name: str = "system", reply_to: int | None = None) -> bool:
        """Post ``text`` as ``sender_name``; True once it is accepted (stored, when called off-loop)."""
        return self._call(
            lambda hub: hub.service.post(sender_name, text, MessageType.AGENT_RESPONSE, reply_to=reply_to),
            what=f"message from {sender_name}",
        )

    def send_status_update(
        self, user_id: str, status: str, current_task: str | None = None, progress: float | None = None
    ) -> bool:
        try:
            state = AgentState(status)
        except ValueError:
            log.error("unknown agent status %r (use idle, working, stuck or completed)", status)
            return False
        if progress is not None:
            progress = max(0.0, min(100.0, float(progress)))
        return self._call(
            lambda hub: hub.service.set_status(user_id, state.value, current_task, progress), what=f"status of {user_id}"
        )

    def _call(self, make: Callable[[Hub], Coroutine[Any, Any, Any]], what: str) -> bool:
        hub, loop = self.hub, self._loop
        if not self.running or hub is None or loop is None:
            log.warning("dropped %s: the server is not running", what)
            return False
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is loop:
            hub.spawn(self._logged(make(hub), what))
            return True
        future = asyncio.run_coroutine_threadsafe(make(hub), loop)
        try:
            future.result(THREAD_CALL_TIMEOUT)
            return True
        except ProtocolError as exc:
            log.warning("%s refused: %s", what, exc.message)
        except Exception:
            log.exception("could not send %s", what)
        return False

    @staticmethod
    async def _logged(awaitable: Awaitable[Any], what: str) -> None:
        try:
            await awaitable
        except ProtocolError as exc:
            log.warning("%s refused: %s", what, exc.message)
        except Exception:
            log.exception("could not send %s", what)

    # richer calls for agents written for AgentChat ---------------------------------------------
    async def post_agent_response(
        self,
        agent: str,
        text: str,
        reply_to: int | None = None,
        agent_status: str | None = None,
        stream_id: str | None = None,
        attachment_ids: list[str] | tuple[str, ...] = (),
        room_id: str = GENERAL,
        thread_id: int | None = None,
        run_id: str | None = None,
    ) -> Message:
        extra: dict[str, Any] = {}
        if run_id is not None:
            await self._hub().runs.flushed(run_id)  # the run's text first, then the answer that replaces it
            extra["runId"] = run_id
            usage = self._hub().usage.answer_usage(run_id)  # what the run's model calls used and cost
            if usage is not None:
                extra["usage"] = usage
        return await self._hub().service.post(
            agent, text, MessageType.AGENT_RESPONSE, reply_to=reply_to, agent_status=agent_status,
            stream_id=stream_id, attachment_ids=attachment_ids, room_id=room_id, thread_id=thread_id,
            extra=extra or None,
        )

    async def set_status(self, agent: str, status: str, current_task: str | None = None,
                         progress: float | None = None) -> None:
        await self._hub().service.set_status(agent, AgentState(status).value, current_task, progress)

    def stream(self, agent: str, stream_id: str, delta: str, reply_to: int | None = None, room_id: str = GENERAL,
               thread_id: int | None = None) -> None:
        self._hub().service.stream(agent, stream_id, delta, reply_to, room_id, thread_id)

    async def ask(
        self, agent: str, to: str, text: str, choices: list[str], timeout: float = 300.0,
        reply_to: int | None = None, room_id: str = GENERAL,
    ) -> str | None:
        """Ask person ``to`` a question; the chosen answer, or None after ``timeout`` seconds."""
        service = self._hub().service
        question_id = await service.ask(agent, to, text, choices, timeout, reply_to, room_id=room_id)
        return await service.wait_answer(question_id)

    def add_stop_handler(self, callback: StopCallback) -> None:
        """``callback(agent, by)`` runs when a person stops an agent's running task."""
        self._hub().stop_callbacks.append(callback)

    def register_agent(self, name: str, description: str = "") -> None:
        self._hub().register_agent(name, description)

    def _hub(self) -> Hub:
        if self.hub is None:
            raise RuntimeError("the server is not started")
        return self.hub

    # lifecycle ----------------------------------------------------------------------------------
    async def prepare(self) -> Hub:
        """Open the store and build the hub without listening yet (agents register here)."""
        if self.hub is not None:
            return self.hub
        settings = self.settings
        self._loop = asyncio.get_running_loop()
        if self._store is None:
            self._store = open_store(settings.resolved_database_url)
        await self._store.start()
        secret = load_secret(settings)
        self.accounts = accounts_for(settings, secret, self._store,
                                     agent_names=lambda: list(self.hub.agents) if self.hub else [])
        self.hub = Hub(
            settings, AccountsAuthenticator(self.accounts), self._store, make_fanout(settings, StoredEvents(self._store)),
            make_presence(settings), make_limiter(settings), make_agent_directory(settings), accounts=self.accounts,
        )
        self.hub.listeners.append(self._on_event)
        return self.hub

    async def start_server(self) -> None:
        if self.running:
            log.warning("WebSocket server already running")
            return
        hub = await self.prepare()
        await hub.start()
        started = time.monotonic()
        assert self.accounts is not None
        context = ApiContext(self.accounts, self.store, self.settings, hub.stats, started)
        self.mcp = McpEndpoint(hub, self.accounts)
        routes = [*run_routes(hub.runs, self.accounts, self.store), *usage_routes(context), *self.mcp.routes(),
                  *self._tool_token_routes()]
        self.http = HttpLayer(build_app(context, routes), trusted_proxies=self.settings.trusted_proxies)
        self.server = await serve_hub(hub, self.settings, started, self.http)
        self.running = True
        log.info("AgentChat server listening on %s (database: %s)", self.url, self.store.describe()["backend"])

    def _tool_token_routes(self) -> list[Any]:
        """``/api/me/mcp-tokens``: people's tokens for the per-user MCP servers of the agents config."""
        from .agents.config import load_mcp_servers  # the agents package imports this module

        assert self.accounts is not None
        config = self.settings.agents_config
        servers = list(load_mcp_servers(config).values()) if config is not None else []
        return tool_token_routes(self.accounts, ToolTokens(self.settings.data_dir), servers)

    async def stop_server(self) -> None:
        """Close every connection with 1001 (going away), after pending messages are stored."""
        if self.hub is None:
            return
        self.running = False
        hub = self.hub
        if self.server is not None:
            self.server.close(close_connections=False)
        if self.http is not None:
            await self.http.shutdown()
        if self.mcp is not None:
            await self.mcp.stop()
        await self.store.flush()  # accepted messages are stored and broadcast before we close
        await hub.close_all(1001, "server shutting down")
        if self.server is not None:
            await self.server.wait_closed()
        await hub.fanout.close()
        await hub.presence.close()
        await hub.limiter.close()
        await hub.directory.close()
        await self.store.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.hub = None
        self.server = None
        self.http = None
        self.mcp = None
        log.info("AgentChat server stopped")

    # handler dispatch -----------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        if event.kind is not MessageType.MESSAGE or not self.message_handlers:
            return
        parsed = to_parsed(event.data, event.kind.value)
        assert self._loop is not None and self.hub is not None
        for handler in list(self.message_handlers):
            if parsed.room_id != GENERAL and id(handler) not in self._all_rooms:
                continue
            if id(handler) in self._on_loop:
                try:
                    handler(parsed)
                except Exception:
                    log.exception("message handler %r failed", handler)
            elif inspect.iscoroutinefunction(handler):
                self.hub.spawn(self._logged(handler(parsed), f"handler {handler!r}"))
            else:
                future = self._loop.run_in_executor(self._pool, handler, parsed)
                future.add_done_callback(_log_handler_error)


def _log_handler_error(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("message handler failed", exc_info=future.exception())
