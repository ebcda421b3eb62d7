"""An open connection keeps no copy of its opening handshake, and still works as before.

Every idle connection used to keep the client's request headers (a browser's cookies included)
and the server's response headers for its whole life. ``release_handshake`` swaps them for shared
stand-ins; the connection must go on reading and writing frames, and closing, as websockets
does with the originals — over a real socket.
"""

from __future__ import annotations

import asyncio

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from server.hub.connections import release_handshake

BIG_COOKIE = "session=" + "c" * 6000


async def test_open_connection_drops_the_handshake_headers_and_keeps_working() -> None:
    seen: dict[str, object] = {}

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None and ws.request.headers["Cookie"] == BIG_COOKIE
        release_handshake(ws)
        seen["path"] = ws.request.path
        seen["request_headers"] = len(ws.request.headers)
        seen["response_headers"] = len(ws.response.headers) if ws.response is not None else None
        async for frame in ws:  # frames after the swap are frames, not a second handshake
            await ws.send(f"echo {frame}")

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}/ws?token=x", additional_headers={"Cookie": BIG_COOKIE},
                           compression=None) as client:
            for i in range(3):
                await client.send(f"hello {i}")
                assert await asyncio.wait_for(client.recv(), 30) == f"echo hello {i}"
            assert client.response is not None and client.response.status_code == 101

    assert seen == {"path": "/ws", "request_headers": 0, "response_headers": 0}


async def test_two_connections_share_the_stand_ins() -> None:
    requests: list[object] = []
    done = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        release_handshake(ws)
        requests.append(ws.request)
        if len(requests) == 2:
            done.set()
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}/ws") as first, connect(f"ws://127.0.0.1:{port}/ws") as second:
            await asyncio.wait_for(done.wait(), 30)
            await first.close()
            await second.close()
    assert requests[0] is requests[1]
