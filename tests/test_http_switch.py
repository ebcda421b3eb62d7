"""One port, two protocols: plain HTTP served by ASGI (streaming included), WebSocket upgrades by websockets.

Real sockets on 127.0.0.1: ``websockets.serve`` with the switching connection, a Starlette app
behind it, httpx and a raw socket as clients.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import websockets
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route
from websockets.asyncio.server import ServerConnection, serve

from server.http.switch import HttpLayer, connection_factory, is_websocket_upgrade


async def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_upgrade_detection():
    head = b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket"
    assert is_websocket_upgrade(head)
    assert not is_websocket_upgrade(b"GET /ws HTTP/1.1\r\nHost: x")
    assert not is_websocket_upgrade(b"POST /ws HTTP/1.1\r\nUpgrade: websocket")
    assert not is_websocket_upgrade(b"GET / HTTP/1.1\r\nX-Upgrade: websocket-ish")


class Harness:
    def __init__(self) -> None:
        self.release = asyncio.Event()

        async def chunks(request: Request) -> StreamingResponse:
            async def body() -> AsyncIterator[bytes]:
                yield b"event: one\n\n"
                await self.release.wait()  # the first chunk must reach the client before this one exists
                yield b"event: two\n\n"

            return StreamingResponse(body(), media_type="text/event-stream")

        async def echo(request: Request) -> JSONResponse:
            return JSONResponse({"method": request.method, "body": (await request.body()).decode()})

        routes = [Route("/events", chunks), Route("/echo", echo, methods=["GET", "POST"])]
        self.layer = HttpLayer(Starlette(routes=routes))

    @staticmethod
    async def ws_echo(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)


async def test_streams_a_body_in_chunks_while_websockets_share_the_port():
    harness = Harness()
    async with serve(harness.ws_echo, "127.0.0.1", 0, create_connection=connection_factory(harness.layer),
                     open_timeout=0.5) as server:
        port = server.sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            async with client.stream("GET", "/events") as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                parts = response.aiter_raw()
                assert await asyncio.wait_for(parts.__anext__(), 10) == b"event: one\n\n"
                harness.release.set()
                rest = b"".join([part async for part in parts])
                assert rest == b"event: two\n\n"

            async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
                await ws.send("over the same port")
                assert await ws.recv() == "over the same port"

            # Keep-alive: the HTTP connection outlives websockets' opening-handshake timeout, because
            # the abandoned handshake finished at the hand-over instead of aborting the socket later.
            first = await client.post("/echo", content=b"one")
            await wait_for(lambda: not server.handler_tasks)
            await asyncio.sleep(0.6)  # longer than open_timeout: nothing may cut the idle connection
            second = await client.post("/echo", content=b"two")
            assert first.json() == {"method": "POST", "body": "one"} and second.json()["body"] == "two"
            assert harness.layer.open_connections == 1  # the same connection served both
        await harness.layer.shutdown()


async def test_a_request_head_split_across_packets_is_still_served():
    harness = Harness()
    async with serve(harness.ws_echo, "127.0.0.1", 0, create_connection=connection_factory(harness.layer)) as server:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for piece in (b"POST /ec", b"ho HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n", b"\r\nhel", b"lo"):
            writer.write(piece)
            await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 200")
        length = int([line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")][0]
                     .split(b":")[1])
        assert b'"body":"hello"' in await reader.readexactly(length)
        writer.close()
        await harness.layer.shutdown()
