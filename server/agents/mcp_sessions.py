"""MCP sessions of one LLM agent, through the official ``mcp`` SDK (``mcp.Client``).

A shared server (stdio, or HTTP without ``per_user``) gets one long-lived session, kept by a
task of its own: it lists the tools at start, lists them again whenever the server says they
changed (``notifications/tools/list_changed``, through ``subscriptions/listen`` on 2026-era
servers), and reconnects after a failure with a growing pause.  A per-user HTTP server gets a
short session per listing and per call, carrying only the asking person's token, so no
connection ever holds two people's credentials.

Every wait is bounded by the server's ``timeout``: a dead or slow server makes the call fail
with :class:`McpCallError` (a message for people), never a stuck agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from typing import Any

import mcp_types
from agentchat_client.runs import Tool
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import ListenNotSupportedError
from mcp.shared._httpx_utils import create_mcp_http_client

from ..accounts.tool_tokens import ToolTokens
from ..core.mcp_servers import McpServerSpec
from .mcp_tools import McpToolInfo, expose, from_listing, missing_token_message, result_text, user_meta

__all__ = ["McpCallError", "McpLink", "McpToolbox", "open_client"]

log = logging.getLogger(__name__)

RETRY_SECONDS = (1.0, 2.0, 5.0, 15.0, 30.0)
"""Pauses before reconnecting a shared server that failed (the last one repeats)."""
MAX_PAGES = 20
CONNECT_MODE = "auto"
"""``mcp.Client``'s negotiation: ``auto`` speaks 2026-07-28 to servers that offer it and falls back to
the initialize handshake (``legacy``) for older ones."""
PING_SECONDS = 30.0
"""A session to an older server (no ``subscriptions/listen``) is pinged this often when quiet, so
one that went away is noticed and reconnected."""
STOP_SECONDS = 10.0
START_WAIT_SECONDS = 10.0
"""The most an agent's start waits for a server's first listing (a slower one is waited for by
the first question instead, up to its ``timeout``), so a hanging server cannot hold up the chat."""


class McpCallError(Exception):
    """An MCP server could not give an answer: the message says why, for people and the model."""


@contextlib.asynccontextmanager
async def open_client(spec: McpServerSpec, token: str | None = None,
                      on_message: Callable[[Any], Any] | None = None) -> AsyncIterator[Client]:
    """A connected ``mcp.Client`` for ``spec`` (HTTP: with ``token`` as ``Authorization``)."""
    async with AsyncExitStack() as stack:
        target: Any
        if spec.command:
            target = StdioServerParameters(command=spec.command, args=list(spec.args), env=dict(spec.env) or None,
                                           cwd=spec.cwd)
        else:
            assert spec.url is not None
            headers = dict(spec.headers)
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            http = await stack.enter_async_context(create_mcp_http_client(headers=headers))
            target = streamable_http_client(spec.url, http_client=http)

        async def handler(message: Any) -> None:
            if on_message is not None:
                on_message(message)

        client = Client(target, message_handler=handler, read_timeout_seconds=spec.timeout, cache=None,
                        mode=CONNECT_MODE, client_info=mcp_types.Implementation(name="agentchat", version="1"))
        yield await stack.enter_async_context(client)


async def list_tools(client: Client, server: str) -> list[McpToolInfo]:
    tools: list[Any] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await client.list_tools(cursor=cursor)
        tools += page.tools
        cursor = page.next_cursor
        if not cursor:
            break
    return from_listing(server, tools)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _describe(exc.exceptions[0])
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class McpLink:
    """One MCP server as one agent uses it: its tools, and calls on behalf of a person."""

    def __init__(self, spec: McpServerSpec, tokens: ToolTokens | None = None) -> None:
        self.spec = spec
        self.tokens = tokens
        self.tools: list[McpToolInfo] = []
        self.error: str | None = None
        self.listed = asyncio.Event()
        """Set once the first listing is known (or failed): the agent's start waits on it."""
        self.refreshes = 0
        self._client: Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._stopping = False

    @property
    def name(self) -> str:
        return self.spec.name

    def __repr__(self) -> str:
        return f"<McpLink {self.name} {self.spec.transport}{' per-user' if self.spec.per_user else ''}>"

    # life -----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect (shared) or list once without a token (per-user); wait for the first listing at
        most ``START_WAIT_SECONDS`` (or the server's ``timeout``, if shorter)."""
        if self.spec.per_user:
            self._task = asyncio.create_task(self._list_once(), name=f"mcp-list-{self.name}")
        else:
            self._task = asyncio.create_task(self._keep(), name=f"mcp-{self.name}")
        await self._wait_listed(min(self.spec.timeout, START_WAIT_SECONDS))

    async def _wait_listed(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.listed.wait()

    async def stop(self) -> None:
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=STOP_SECONDS)
            if not done:
                log.warning("MCP server %s did not close within %g s", self.name, STOP_SECONDS)

    async def _list_once(self) -> None:
        """A per-user server's catalog, if it lists its tools without a person's token."""
        try:
            async with asyncio.timeout(self.spec.timeout), open_client(self.spec) as client:
                self.tools = await list_tools(client, self.name)
        except Exception as exc:  # noqa: BLE001 - listed again with each person's token
            log.info("MCP server %s lists no tools without a person's token (%s)", self.name, _describe(exc))
        finally:
            self.listed.set()

    def _on_message(self, message: Any) -> None:
        if isinstance(message, mcp_types.ToolListChangedNotification):
            self._changed.set()

    async def _keep(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                async with AsyncExitStack() as stack:
                    async with asyncio.timeout(self.spec.timeout):
                        client = await stack.enter_async_context(open_client(self.spec, None, self._on_message))
                        self.tools = await list_tools(client, self.name)
                    self._client, self.error, failures = client, None, 0
                    self.listed.set()
                    log.info("MCP server %s: %d tools (%s)", self.name, len(self.tools),
                             ", ".join(t.name for t in self.tools))
                    await self._follow_changes(client)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # noqa: BLE001 - a broken server must not take the agent down
                if self._stopping:
                    return
                self.error = _describe(exc)
                log.warning("MCP server %s failed: %s", self.name, self.error)
            finally:
                self._client = None
            self.listed.set()
            await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
            failures += 1

    async def _follow_changes(self, client: Client) -> None:
        """List the tools again on each ``list_changed``; returns when the connection ends."""
        try:
            async with client.listen(tools_list_changed=True) as subscription:
                async for _event in subscription:
                    await self._refresh(client)
            return
        except ListenNotSupportedError:  # a server before 2026-07-28: notifications come unasked
            pass
        while True:
            try:
                async with asyncio.timeout(PING_SECONDS):
                    await self._changed.wait()
            except TimeoutError:
                async with asyncio.timeout(self.spec.timeout):
                    await client.send_ping()  # fails (and reconnects) once the server is gone
                continue
            self._changed.clear()
            await self._refresh(client)

    async def _refresh(self, client: Client) -> None:
        async with asyncio.timeout(self.spec.timeout):
            self.tools = await list_tools(client, self.name)
        self.refreshes += 1
        log.info("MCP server %s changed its tools: %s", self.name, ", ".join(t.name for t in self.tools))

    # use --------------------------------------------------------------------------------------
    def token_for(self, user: str | None) -> str | None:
        if not self.spec.per_user or self.tokens is None or not user:
            return None
        return self.tokens.get(user, self.name)

    async def tools_for(self, user: str | None) -> list[McpToolInfo]:
        """The tools to offer for ``user``'s question: a per-user server lists them with their token."""
        token = self.token_for(user)
        if not self.spec.per_user or token is None:
            await self._wait_listed(self.spec.timeout)
            return list(self.tools)
        try:
            async with asyncio.timeout(self.spec.timeout), open_client(self.spec, token) as client:
                self.tools = await list_tools(client, self.name)
        except Exception as exc:  # noqa: BLE001 - offer what was listed before; a call will say what is wrong
            log.warning("MCP server %s: listing the tools for %s failed: %s", self.name, user, _describe(exc))
        return list(self.tools)

    async def call(self, tool: str, args: Mapping[str, Any], user: str | None) -> str:
        """Run ``tool`` for ``user``; its text, or :class:`McpCallError`."""
        meta: Any = user_meta(user)
        seconds = f"{self.spec.timeout:g}"
        try:
            if self.spec.per_user:
                token = self.token_for(user)
                if token is None:
                    raise McpCallError(missing_token_message(user or "you", self.name))
                async with asyncio.timeout(self.spec.timeout), open_client(self.spec, token) as client:
                    result = await client.call_tool(tool, dict(args), meta=meta)
            else:
                shared = self._client
                if shared is None:
                    why = f" ({self.error})" if self.error else ""
                    raise McpCallError(f"The MCP server '{self.name}' is not connected{why}; try again later.")
                async with asyncio.timeout(self.spec.timeout):
                    result = await shared.call_tool(tool, dict(args), meta=meta)
        except McpCallError:
            raise
        except TimeoutError:
            raise McpCallError(f"The MCP server '{self.name}' did not answer {tool} within {seconds} s.") from None
        except Exception as exc:  # noqa: BLE001 - every failure reaches the model and the room as text
            raise McpCallError(f"The MCP server '{self.name}' failed on {tool}: {_describe(exc)}") from None
        text, is_error = result_text(result)
        if is_error:
            raise McpCallError(f"{tool} on '{self.name}' reported an error: {text or 'no details'}")
        return text


class McpToolbox:
    """The MCP servers of one LLM agent, and the tools they give one person's question."""

    def __init__(self, specs: Sequence[McpServerSpec]) -> None:
        self.specs = tuple(specs)
        self.links: list[McpLink] = []

    async def start(self, tokens: ToolTokens) -> None:
        self.links = [McpLink(spec, tokens) for spec in self.specs]
        await asyncio.gather(*(link.start() for link in self.links))

    async def stop(self) -> None:
        links, self.links = self.links, []
        await asyncio.gather(*(link.stop() for link in links))

    async def tools_for(self, user: str | None, taken: Sequence[str] = ()) -> tuple[list[Tool], list[str]]:
        """The tools to offer (each call carries ``user``), and notes for the model about the
        servers it cannot use for this person (no token yet)."""
        listings = await asyncio.gather(*(link.tools_for(user) for link in self.links))
        by_name = {link.name: link for link in self.links}
        infos = expose({link.name: tools for link, tools in zip(self.links, listings)}, taken)
        tools = [_as_tool(by_name[info.server], info, user) for info in infos]
        notes = [missing_token_message(user or "The person", link.name) for link, listed in zip(self.links, listings)
                 if link.spec.per_user and not listed and link.token_for(user) is None]
        return tools, notes


def _as_tool(link: McpLink, info: McpToolInfo, user: str | None) -> Tool:
    async def call(**args: Any) -> str:
        return await link.call(info.name, args, user)

    return Tool(name=info.offered_name, fn=call, description=info.description, parameters=info.input_schema,
                changes=info.destructive)
