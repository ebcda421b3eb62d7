"""A lean WebSocket client protocol for the load generator.

The measuring instrument must cost far less per frame than the servers it measures, or a
2-core machine ends up benchmarking the client.  So this is a plain ``asyncio.Protocol``
with a hand-written HTTP/1.1 upgrade and frame parser: one callback per frame, no task,
queue or future per message.  It offers no extensions (no permessage-deflate), answers
pings, and can stop reading on demand (the slow-reader scenario).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import socket
import struct
from collections.abc import Callable

from websockets.utils import apply_mask

__all__ = ["WsClient", "connect"]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def _frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (RFC 6455 requires clients to mask)."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + mask + apply_mask(payload, mask)


class WsClient(asyncio.Protocol):
    """One connection; ``on_text(client, payload)`` runs for every text frame received."""

    def __init__(self, host: str, port: int, path: str, on_text: Callable[["WsClient", bytes], None]) -> None:
        self.host, self.port, self.path = host, port, path
        self.on_text = on_text
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = False
        self.close_code: int | None = None
        self._key = base64.b64encode(os.urandom(16))
        self._buf = bytearray()
        self._open = False
        self._fragments: list[bytes] | None = None
        # Free slots for the load generator, so it needs no side table per connection.
        self.index = -1
        self.user_id = ""
        self.auth_waiter: asyncio.Future[bytes] | None = None
        self.received = 0
        self.last_seq: dict[int, int] = {}
        self.out_of_order = 0
        self.sender_slot = -1

    # asyncio.Protocol ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(
            b"GET " + self.path.encode() + b" HTTP/1.1\r\nHost: " + f"{self.host}:{self.port}".encode()
            + b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + self._key
            + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        if not self._open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).decode("latin-1")
            del buf[: end + 4]
            accept = base64.b64encode(hashlib.sha1(self._key + _GUID).digest()).decode()
            if " 101 " not in head.split("\r\n", 1)[0] or accept not in head:
                self._fail(ConnectionError(f"handshake refused: {head.splitlines()[0] if head else '?'}"))
                return
            self._open = True
            if not self.opened.done():
                self.opened.set_result(None)
        self._parse(buf)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during handshake"))
        if self.auth_waiter is not None and not self.auth_waiter.done():
            self.auth_waiter.set_exception(ConnectionError("closed before auth_response"))

    # frames -------------------------------------------------------------------------------
    def _parse(self, buf: bytearray) -> None:
        pos, n = 0, len(buf)
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if n - pos < 4:
                    break
                length, head = (buf[pos + 2] << 8) | buf[pos + 3], 4
            elif length == 127:
                if n - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            end = pos + head + length
            if end > n:
                break
            payload = bytes(buf[pos + head : end])
            pos = end
            opcode = b0 & 0x0F
            if opcode == OP_TEXT and b0 & 0x80:
                self.on_text(self, payload)
            elif opcode in (OP_TEXT, OP_BINARY):
                self._fragments = [payload]
            elif opcode == OP_CONT and self._fragments is not None:
                self._fragments.append(payload)
                if b0 & 0x80:
                    whole, self._fragments = b"".join(self._fragments), None
                    self.on_text(self, whole)
            elif opcode == OP_PING:
                self._write(_frame(OP_PONG, payload))
            elif opcode == OP_CLOSE:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                self._write(_frame(OP_CLOSE, payload[:2]))
                if self.transport is not None:
                    self.transport.close()
        if pos:
            del buf[:pos]

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _fail(self, exc: Exception) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    # API ----------------------------------------------------------------------------------
    def send_text(self, payload: bytes) -> None:
        self._write(_frame(OP_TEXT, payload))

    def pause_reading(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._write(_frame(OP_CLOSE, struct.pack("!H", 1000)))
            self.transport.close()


async def connect(
    host: str, port: int, path: str, on_text: Callable[[WsClient, bytes], None], rcvbuf: int | None = None
) -> WsClient:
    """Open a connection and finish the upgrade; ``rcvbuf`` shrinks the socket's receive buffer."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    try:
        await loop.sock_connect(sock, (host, port))
        _, client = await loop.create_connection(lambda: WsClient(host, port, path, on_text), sock=sock)
    except BaseException:
        sock.close()
        raise
    await client.opened
    return client
