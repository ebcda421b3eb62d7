"""Frames built once and written once per socket per batch: what each client reads over a real socket.

``text_frame`` must produce exactly what websockets' own parser accepts as one final text frame,
and ``FrameWriter`` must give every socket its frames in the order they were written, whether
they went out at once or joined in a batch with other recipients' frames.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from server.hub.frames_out import FrameWriter, text_frame


def _parse(data: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame: Frame = done.value
        return frame
    raise AssertionError("the frame was not complete")


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_text_frame_is_what_websockets_parses(size: int) -> None:
    payload = b"x" * size
    frame = _parse(text_frame(payload))
    assert frame.opcode is Opcode.TEXT
    assert frame.fin
    assert frame.data == payload


class _Room:
    """A real websockets server with ``n`` connected clients, and its server-side sockets in order."""

    def __init__(self) -> None:
        self.server_side: list[ServerConnection] = []
        self.clients: list[ClientConnection] = []
        self._joined = asyncio.Event()
        self._want = 0

    async def handler(self, ws: ServerConnection) -> None:
        self.server_side.append(ws)
        if len(self.server_side) >= self._want:
            self._joined.set()
        await ws.wait_closed()

    async def open(self, n: int) -> None:
        self._want = n
        self._server = await serve(self.handler, "127.0.0.1", 0, compression=None)
        port = self._server.sockets[0].getsockname()[1]
        for _ in range(n):
            self.clients.append(await connect(f"ws://127.0.0.1:{port}", compression=None))
            await asyncio.wait_for(self._wait_for(len(self.clients)), 30)

    async def _wait_for(self, count: int) -> None:
        while len(self.server_side) < count:
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        for client in self.clients:
            await client.close()
        self._server.close()
        await self._server.wait_closed()


@pytest.fixture
async def room() -> AsyncIterator[_Room]:
    r = _Room()
    await r.open(3)
    yield r
    await r.close()


async def _read(client: ClientConnection, count: int) -> list[Any]:
    return [await asyncio.wait_for(client.recv(), 30) for _ in range(count)]


def _send(writer: FrameWriter, sockets: Any, text: str) -> None:
    payload = text.encode()
    writer.write(sockets, payload, text_frame(payload))


async def test_writes_outside_a_batch_go_out_at_once(room: _Room) -> None:
    writer = FrameWriter()
    _send(writer, room.server_side, "hello")
    for client in room.clients:
        assert await _read(client, 1) == ["hello"]


async def test_a_batch_keeps_each_sockets_order_across_different_recipients(room: _Room) -> None:
    a, b, c = room.server_side
    everyone = [a, b, c]
    writer = FrameWriter()
    with writer.batch():
        _send(writer, everyone, "1 all")
        _send(writer, everyone, "2 all")
        _send(writer, [a, c], "3 a+c")
        with writer.batch():  # nested: still held until the outermost batch ends
            _send(writer, [b], "4 b")
        _send(writer, everyone, "5 all")
        _send(writer, [c], "6 c " + "é" * 200)
    assert await _read(room.clients[0], 4) == ["1 all", "2 all", "3 a+c", "5 all"]
    assert await _read(room.clients[1], 4) == ["1 all", "2 all", "4 b", "5 all"]
    assert await _read(room.clients[2], 5) == ["1 all", "2 all", "3 a+c", "5 all", "6 c " + "é" * 200]


async def test_a_batch_to_one_group_arrives_whole_and_in_order(room: _Room) -> None:
    writer = FrameWriter()
    texts = [f"message {i} " + "y" * (i * 300) for i in range(40)]
    with writer.batch():
        for text in texts:
            _send(writer, room.server_side, text)
    for client in room.clients:
        assert await _read(client, len(texts)) == texts


async def test_a_closed_socket_is_skipped_and_the_others_still_get_theirs(room: _Room) -> None:
    a, b, c = room.server_side
    await room.clients[1].close()
    await asyncio.wait_for(b.wait_closed(), 30)
    writer = FrameWriter()
    with writer.batch():
        _send(writer, [a, b, c], "after b left")
    assert await _read(room.clients[0], 1) == ["after b left"]
    assert await _read(room.clients[2], 1) == ["after b left"]
