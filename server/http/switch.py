"""One port, two protocols: WebSocket upgrades stay with ``websockets``, plain HTTP goes to ASGI.

``websockets.asyncio.server.serve`` accepts a ``create_connection`` factory.  The
:class:`SwitchingConnection` it builds buffers the first request head (usually one
``data_received`` call) and decides once per TCP connection:

- a WebSocket upgrade: the buffered bytes go to ``ServerConnection`` exactly as before, and the
  connection never looks at another byte (the WebSocket path costs one header scan per connect,
  nothing per frame);
- anything else: the transport is handed to uvicorn's ``H11Protocol`` serving the Starlette app
  (keep-alive, streaming bodies, back-pressure and client disconnects are uvicorn's, not ours),
  and the abandoned WebSocket handshake is finished as if the peer had gone away, against a
  detached stand-in transport, so ``websockets`` never aborts the socket it no longer owns.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState
from websockets.asyncio.server import ServerConnection

__all__ = ["HttpLayer", "SwitchingConnection", "is_websocket_upgrade"]

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024
"""A request head longer than this is left to ``websockets``, which rejects it."""


def is_websocket_upgrade(head: bytes) -> bool:
    """Whether a request head (up to the blank line) asks for a WebSocket upgrade."""
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"GET "):
        return False
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() == b"upgrade" and b"websocket" in value.lower():
            return True
    return False


class _DetachedTransport(asyncio.Transport):
    """What the abandoned ``ServerConnection`` holds after the hand-over: closing it is a no-op."""

    def __init__(self, extra: dict[str, Any]) -> None:
        super().__init__(extra)
        self._closing = True

    def is_closing(self) -> bool:
        return True

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def write(self, data: Any) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class HttpLayer:
    """The ASGI side: one loaded uvicorn config and the state shared by its connections."""

    def __init__(self, app: Any, *, trusted_proxies: list[str] | str = "127.0.0.1,::1",
                 keep_alive_seconds: float = 5.0) -> None:
        self.config = Config(
            app,
            log_config=None,  # the server's own logging stays as configured
            access_log=False,
            proxy_headers=True,
            forwarded_allow_ips=trusted_proxies,
            timeout_keep_alive=int(keep_alive_seconds),
            lifespan="off",
        )
        self.config.load()
        self.state = ServerState()
        self.app_state: dict[str, Any] = {}

    def adopt(self, transport: asyncio.Transport, buffered: bytes) -> H11Protocol:
        """Serve ``transport`` over HTTP/1.1 from now on, starting with ``buffered``."""
        protocol = H11Protocol(self.config, self.state, self.app_state)
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        if buffered:
            protocol.data_received(buffered)
        return protocol

    @property
    def open_connections(self) -> int:
        return len(self.state.connections)

    async def shutdown(self, timeout: float = 5.0) -> None:
        """Close idle keep-alive connections, let responses in flight finish, then cut the rest."""
        for connection in list(self.state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.state.connections and loop.time() < deadline:
            await asyncio.sleep(0.05)
        for task in list(self.state.tasks):
            task.cancel()
        for connection in list(self.state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()


class SwitchingConnection(ServerConnection):
    """A ``ServerConnection`` that hands non-upgrade requests to an :class:`HttpLayer`."""

    http_layer: HttpLayer | None = None
    """Set on the subclass made by :func:`connection_factory`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head: bytearray | None = bytearray()

    def data_received(self, data: bytes) -> None:
        head = self._head
        if head is None:  # decided: a WebSocket
            super().data_received(data)
            return
        head += data
        end = head.find(b"\r\n\r\n")
        if end < 0 and len(head) < MAX_HEAD_BYTES:
            return  # wait for the rest of the head
        self._head = None
        buffered = bytes(head)
        if self.http_layer is None or end < 0 or is_websocket_upgrade(buffered[:end]):
            super().data_received(buffered)
            return
        self._hand_over(buffered)

    def eof_received(self) -> None:
        if self._head is not None:
            self._head = None
        super().eof_received()

    def _hand_over(self, buffered: bytes) -> None:
        assert self.http_layer is not None
        transport = self.transport
        self.http_layer.adopt(transport, buffered)
        # Finish the WebSocket side as if the peer had left before sending a request: the
        # handshake returns, sees a connection that is not OPEN and aborts -- the stand-in.
        self.transport = _DetachedTransport({"peername": transport.get_extra_info("peername")})
        super().connection_lost(None)


def connection_factory(layer: HttpLayer) -> type[SwitchingConnection]:
    """A ``SwitchingConnection`` subclass bound to ``layer``, for ``serve(create_connection=...)``."""
    return type("HttpSwitchingConnection", (SwitchingConnection,), {"http_layer": layer})
