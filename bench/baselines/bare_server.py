"""Baseline 1: the smallest websockets server doing the same broadcast — the practical limit.

No auth, no persistence, no parsing: every text frame a client sends is relayed unchanged to
every connected client (the sender included, as AgentChat does) with
``websockets.asyncio.server.broadcast()``.  The ``serve()`` options are the ones
``server/endpoint.py`` uses (compression off, 1 MiB frames, 20 s pings, ``max_queue=64``,
``close_timeout=5``) so that only the application code differs.

    python -m bench.baselines.bare_server --port 8765
"""

from __future__ import annotations

import asyncio

from websockets.asyncio.server import ServerConnection, broadcast, serve

from .common import parse_args, raise_nofile

CLIENTS: set[ServerConnection] = set()


async def handler(ws: ServerConnection) -> None:
    CLIENTS.add(ws)
    try:
        async for message in ws:
            broadcast(CLIENTS, message)
    finally:
        CLIENTS.discard(ws)


async def main(host: str, port: int) -> None:
    async with serve(
        handler,
        host,
        port,
        max_size=1024 * 1024,
        ping_interval=20.0,
        ping_timeout=20.0,
        compression=None,
        close_timeout=5,
        max_queue=64,
    ) as server:
        await server.serve_forever()


if __name__ == "__main__":
    args = parse_args(__doc__.splitlines()[0])
    raise_nofile()
    asyncio.run(main(args.host, args.port))
