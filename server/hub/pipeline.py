"""A connection reads its next frame while its last message is being stored.

The hub used to read a connection's next frame only once the previous message was committed, so a
client sending faster than that paid one commit per message (its messages could never share a
batch), and its keepalive pings waited behind its own messages: a burst of 10,000 took the
connection past its ping timeout.  Now a message is checked and put on the write queue in the
order it came, and the connection reads on; the sender's confirmation is still the broadcast at
commit, and commits keep queue order.  At most ``MAX_IN_FLIGHT`` per connection: past that it
waits for its oldest, reading pauses and TCP pushes back on the client.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from .connections import Conn

__all__ = ["MAX_IN_FLIGHT", "read_on"]

MAX_IN_FLIGHT = 256
"""Messages of one connection accepted but not yet committed (one write batch's worth)."""

T = TypeVar("T")


async def read_on(conn: Conn, stored: asyncio.Future[T], settled: Callable[[asyncio.Future[T]], None]) -> None:
    """Call ``settled`` when ``stored`` completes; return at once unless ``conn`` already has
    ``MAX_IN_FLIGHT`` writes pending, then once its oldest is done."""
    if stored.done():  # a store that writes at once
        settled(stored)
        return
    pending = conn.in_flight
    if pending is None:
        pending = conn.in_flight = deque()
    pending.append(stored)

    def done(future: asyncio.Future[T]) -> None:
        try:
            pending.remove(future)  # the oldest, nearly always: commits keep queue order
        except ValueError:
            pass
        if not pending and conn.in_flight is pending:
            conn.in_flight = None  # an idle connection keeps no queue
        settled(future)

    stored.add_done_callback(done)
    while len(pending) > MAX_IN_FLIGHT:
        await asyncio.wait([pending[0]])
