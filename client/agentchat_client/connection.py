"""The asyncio layer around the client core: a socket that connects, authenticates, resumes
and reconnects; every decision is the core's (``session.py``).

    connection = Connection(url, ClientSession("alice", token), on_frame=frames.append)
    connection.start()
    await connection.wait_connected(10)
    await connection.send(MessageType.MESSAGE, {"text": "hi"})
    await connection.close()

Every frame received, the ``auth_response`` included, is handed decoded to ``on_frame`` in
order; ``on_state`` hears each change of :class:`LinkState` (a UI shows "Reconnecting…").
Both callbacks are plain functions called on the event loop: keep them quick (put the frame
in a queue); an exception in one is logged and the connection carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidProxy, InvalidURI, WebSocketException

from .protocol import ClientPayload, CloseCode, MessageType, client_frame
from .session import AuthOutcome, ClientSession, FrameError, LinkState, decode_server_frame

__all__ = ["Connection", "AuthError", "NotConnected", "FrameHandler", "StateHandler"]

log = logging.getLogger(__name__)

FrameHandler = Callable[[dict[str, Any]], None]
StateHandler = Callable[[LinkState], None]

CLOSE_GRACE_SECONDS = 5.0
"""How long ``close()`` lets the running loop finish on its own before cancelling it."""


class AuthError(RuntimeError):
    """The server refused the token; reconnecting would not help."""


class NotConnected(ConnectionError):
    """The link is not live: the frame was not sent (nothing is queued behind your back)."""


class Connection:
    """One client connection that keeps itself up until :meth:`close` or a refused token."""

    def __init__(
        self,
        url: str,
        session: ClientSession,
        on_frame: FrameHandler,
        *,
        on_state: StateHandler | None = None,
        reconnect: bool = True,
        open_timeout: float = 10.0,
        auth_timeout: float = 10.0,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
    ) -> None:
        self.url = url
        self.session = session
        self.on_frame = on_frame
        self.on_state = on_state
        self.reconnect = reconnect
        self.open_timeout = open_timeout
        self.auth_timeout = auth_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.connected = asyncio.Event()
        """Set while the link is live (authenticated)."""
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._done = asyncio.Event()
        self._error: BaseException | None = None
        self._reported = session.state

    @property
    def state(self) -> LinkState:
        return self.session.state

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> asyncio.Task[None]:
        """Run in a background task (started once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run_quietly(), name=f"agentchat-{self.session.user_id}")
        return self._task

    async def _run_quietly(self) -> None:
        try:
            await self.run()
        except AuthError as exc:
            log.warning("%s", exc)
        except Exception as exc:  # noqa: BLE001 - reported through wait_connected / the log
            log.warning("%s: connection to %s ended: %s", self.session.user_id, self.url, exc)

    async def run(self) -> None:
        """Connect and serve until :meth:`close`, reconnecting with the core's back-off.

        Raises :class:`AuthError` when the token is refused; with ``reconnect=False``, returns
        (or raises the reason) when the first link ends.
        """
        self._done.clear()
        self._error = None
        try:
            while not self.session.finished:
                error = await self._attempt()
                delay = self.session.connection_lost()
                self._report()
                if delay is None:
                    break
                if not self.reconnect:
                    if error is not None:
                        raise error
                    break
                log.info("%s: connection to %s lost (%s); next attempt in %.1f s", self.session.user_id,
                         self.url, type(error).__name__ if error else "closed", delay)
                self._wake.clear()
                if self.session.finished:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
        except BaseException as exc:
            self._error = exc
            raise
        finally:
            self._ws = None
            self.connected.clear()
            self._done.set()

    async def _attempt(self) -> Exception | None:
        """One link, from opening the socket until it ends; the reason it ended, if any."""
        self.session.connecting()
        self._report()
        try:
            async with connect(
                self.url, open_timeout=self.open_timeout, max_size=None,
                ping_interval=self.ping_interval, ping_timeout=self.ping_timeout,
            ) as ws:
                if self.session.finished:  # closed while the handshake ran
                    return None
                self._ws = ws
                await ws.send(self.session.auth_frame(), text=True)
                self._report()
                await self._serve(ws)
            return None
        except (InvalidURI, InvalidProxy, AuthError):
            raise  # a wrong address or a refused token does not get better with time
        except ConnectionClosed as exc:
            if exc.rcvd is not None and exc.rcvd.code in CloseCode.FINAL:
                # The server ended this session (signed out, key revoked, account disabled).
                self.session.ended_by_server(exc.rcvd.code, exc.rcvd.reason)
                self._report()
                raise AuthError(f"{self.session.user_id}: {exc.rcvd.reason or 'session ended'}") from None
            return exc
        except (OSError, WebSocketException, TimeoutError) as exc:
            return exc
        except Exception as exc:  # a bug somewhere: say so loudly, and keep the client alive
            log.exception("%s: the connection to %s failed", self.session.user_id, self.url)
            return exc
        finally:
            self._ws = None
            self.connected.clear()

    async def _serve(self, ws: ClientConnection) -> None:
        loop = asyncio.get_running_loop()
        auth_deadline = loop.time() + self.auth_timeout
        while True:
            if self.session.state is LinkState.AUTHENTICATING:
                remaining = auth_deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(f"no auth_response within {self.auth_timeout} s")
                raw = await asyncio.wait_for(ws.recv(), remaining)  # cancelling recv() loses nothing
            else:
                raw = await ws.recv()
            try:
                frame = decode_server_frame(raw)
            except FrameError as exc:
                log.warning("%s: %s; skipped", self.session.user_id, exc)
                continue
            outcome = self.session.receive(frame)
            self._deliver(frame)
            if outcome is AuthOutcome.ACCEPTED:
                self.connected.set()
                self._report()
                log.info("%s connected to %s", self.session.user_id, self.url)
            elif outcome is AuthOutcome.REJECTED:
                self._report()
                message = self.session.rejection.get("message")
                raise AuthError(f"{self.session.user_id}: authentication failed: {message}")
            elif outcome is AuthOutcome.RETRY:
                log.warning("%s: the server could not authenticate now: %s", self.session.user_id, frame.get("data"))
                return

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Return once the link is live; raise why it never will be (the refused token's
        :class:`AuthError`, :class:`NotConnected` when closed or after ``timeout`` seconds)."""
        if self.connected.is_set():
            return
        waiters = {asyncio.ensure_future(self.connected.wait()), asyncio.ensure_future(self._done.wait())}
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        if self.connected.is_set():
            return
        if self._done.is_set() or self.session.finished:
            if isinstance(self._error, Exception):
                raise self._error
            raise NotConnected(f"{self.session.user_id}: the connection to {self.url} is closed")
        raise NotConnected(f"{self.session.user_id}: not connected to {self.url} within {timeout} s")

    async def close(self) -> None:
        """Stop for good: close the socket, end the loop (waiting briefly for it)."""
        self.session.close()
        self._report()
        self._wake.set()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        task = self._task
        if task is not None and task is not asyncio.current_task() and not task.done():
            done, _ = await asyncio.wait({task}, timeout=CLOSE_GRACE_SECONDS)
            if not done:  # still opening a socket: stop waiting for it
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # --- sending ------------------------------------------------------------------------------
    async def send(self, kind: MessageType, data: ClientPayload | Mapping[str, Any] | None = None) -> None:
        """Send one frame now, or raise :class:`NotConnected` (the caller decides: wait, tell the user)."""
        ws = self._ws
        if ws is None or not self.session.is_live:
            raise NotConnected(f"{self.session.user_id}: not connected to {self.url}")
        try:
            await ws.send(client_frame(kind, data), text=True)
        except ConnectionClosed:
            raise NotConnected(f"{self.session.user_id}: the connection to {self.url} dropped") from None

    # --- callbacks ----------------------------------------------------------------------------
    def _deliver(self, frame: dict[str, Any]) -> None:
        try:
            self.on_frame(frame)
        except Exception:  # one odd frame must not cut the link
            log.exception("%s: the frame handler failed on a %r frame", self.session.user_id, frame.get("type"))

    def _report(self) -> None:
        state = self.session.state
        if state is self._reported:
            return
        self._reported = state
        if self.on_state is not None:
            try:
                self.on_state(state)
            except Exception:
                log.exception("%s: the state handler failed on %s", self.session.user_id, state.name)
