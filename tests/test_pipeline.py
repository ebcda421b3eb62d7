"""A connection reads on while its messages are stored: bounded, in order, every one settled."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

from server.hub.connections import Conn
from server.hub.pipeline import MAX_IN_FLIGHT, read_on


def _conn() -> Conn:
    return cast(Conn, SimpleNamespace(in_flight=None))


async def test_reading_goes_on_until_the_limit_then_waits_for_the_oldest() -> None:
    conn, loop = _conn(), asyncio.get_running_loop()
    writes = [loop.create_future() for _ in range(MAX_IN_FLIGHT + 1)]
    settled: list[int] = []
    for n, write in enumerate(writes[:-1]):
        await asyncio.wait_for(read_on(conn, write, lambda f, n=n: settled.append(n)), 5)  # no wait
    last = asyncio.ensure_future(read_on(conn, writes[-1], lambda f: settled.append(MAX_IN_FLIGHT)))
    await asyncio.sleep(0)
    assert not last.done()  # one too many: the connection stops reading
    writes[0].set_result("committed")
    await asyncio.wait_for(last, 5)
    assert settled == [0]
    for write in writes[1:]:
        write.set_result("committed")
    await asyncio.sleep(0)
    assert settled == list(range(MAX_IN_FLIGHT + 1))
    assert conn.in_flight is None  # an idle connection holds no queue


async def test_a_failed_write_is_settled_too() -> None:
    conn, loop = _conn(), asyncio.get_running_loop()
    write: asyncio.Future[Any] = loop.create_future()
    outcomes: list[BaseException | None] = []
    await read_on(conn, write, lambda f: outcomes.append(f.exception()))
    write.set_exception(RuntimeError("disk full"))
    await asyncio.sleep(0)
    assert [str(e) for e in outcomes] == ["disk full"] and conn.in_flight is None


async def test_a_write_already_done_is_settled_at_once() -> None:
    conn, loop = _conn(), asyncio.get_running_loop()
    write: asyncio.Future[Any] = loop.create_future()
    write.set_result("stored")
    seen: list[str] = []
    await read_on(conn, write, lambda f: seen.append(f.result()))
    assert seen == ["stored"] and conn.in_flight is None
