"""Fan-out through Redis pub/sub: several server processes act as one chat.

Why pub/sub and not Streams: the database is already the durable, ordered log of messages
(ids, history, recovery), so Redis only has to carry notifications fast.  Pub/sub costs no
memory per message and nothing to trim; when it drops something (a reconnect, a slow reader cut
off by Redis) the receiver repairs from the database, which Streams would only duplicate.

- ``publish`` delivers the event to this process at once (through the reorder buffer) and queues
  it for Redis; a sender task pipelines the queue, keeping the order of calls, and retries after
  Redis drops.  Each process ignores its own events coming back from Redis.
- The reader feeds every other process's events to a ``Reorder``: messages are released in id
  order.  A message whose predecessor is missing waits ``reorder_wait`` seconds, then the gap is
  read from the database (ids absent there never committed, and are skipped).
- Every (re)subscription reads what was committed meanwhile from the database, so a Redis
  outage delays messages but loses none.

The database must give ids in commit order for the repair to be exact: ``SqlStore`` takes a
PostgreSQL advisory lock around each insert batch (SQLite's write lock does the same).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from itertools import islice
from typing import Any, Protocol

from redis.exceptions import RedisError

from ..redis_client import Keys, RedisUnavailableError, connect, redact
from ...core.events import Event
from .base import Deliver, Fanout
from .reorder import Reorder

__all__ = ["RedisFanout", "MessageSource"]

log = logging.getLogger(__name__)

PIPELINE_MAX = 256
OUTBOX_MAX = 50_000
REPAIR_MAX = 2_000
"""At most this many missing ids are replayed after an outage; clients page history for older ones."""
RETRY_MAX = 5.0
TAIL_CHECK_SECONDS = 2.0
"""How often the newest committed id is compared with the newest delivered one: a publisher
killed between its commit and its publish leaves a gap that no later message may reveal."""
KIND_EVENT = b"E"
KIND_SYNC = b"S"


class MessageSource(Protocol):
    """What the repair needs from the database: the events of committed ids, and the newest id."""

    async def events(self, ids: list[int]) -> list[Event]: ...

    async def latest_id(self) -> int: ...


class RedisFanout(Fanout):
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "agentchat",
        store: MessageSource | None = None,
        reorder_wait: float = 0.2,
    ) -> None:
        self.url = url
        self.keys = Keys(prefix)
        self.channel = self.keys("events")
        self.store = store
        self.reorder_wait = reorder_wait
        self.origin = secrets.token_hex(8).encode()
        self._deliver: Deliver | None = None
        self._reorder: Reorder | None = None
        self._client: Any = None
        self._sub_client: Any = None
        self._pubsub: Any = None
        self._outbox: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self._sync_upto = 0
        self._dropped = 0
        self._published_max = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._repair: asyncio.Task[None] | None = None
        self._side: set[asyncio.Task[None]] = set()
        self.repairs = 0
        """How many gaps were read from the database (a health signal: should stay rare)."""

    # Fanout interface ----------------------------------------------------------------------
    async def start(self, deliver: Deliver) -> None:
        self._client = await connect(self.url, name=self.keys("fanout-publish"))
        self._sub_client = await connect(self.url, for_pubsub=True, name=self.keys("fanout-subscribe"))
        try:
            self._pubsub = await self._subscribe()
        except (RedisError, OSError) as exc:
            raise RedisUnavailableError(
                f"cannot subscribe to {self.channel} at {redact(self.url)} (AGENTCHAT_REDIS_URL): {exc}"
            ) from None
        # Subscribed first, then read the newest id: anything later arrives through Redis.
        last = await self.store.latest_id() if self.store is not None else 0
        self._reorder = Reorder(last)
        self._deliver = deliver
        self._tasks = [
            asyncio.create_task(self._read_loop(), name="fanout-reader"),
            asyncio.create_task(self._send_loop(), name="fanout-sender"),
            asyncio.create_task(self._tail_loop(), name="fanout-tail-check"),
        ]
        self._wake.set()

    def publish(self, event: Event) -> None:
        if self._deliver is not None:
            self._accept(event)
        if event.message_id is not None:
            self._published_max = max(self._published_max, event.message_id)
        self._outbox.append(self.origin + b"\n" + KIND_EVENT + event.to_bytes())
        if len(self._outbox) > OUTBOX_MAX:
            dropped = self._outbox.popleft()
            self._dropped += 1
            # Peers repair dropped messages from the database once we can publish again.
            self._sync_upto = max(self._sync_upto, self._published_max)
            log.warning("Redis fan-out backlog is full; dropped %d bytes of events", len(dropped))
        self._wake.set()

    async def close(self) -> None:
        deadline = time.monotonic() + 2.0
        while self._outbox and self._tasks and time.monotonic() < deadline:  # let the last events out
            await asyncio.sleep(0.01)
        tasks = [*self._tasks, *self._side, *([self._repair] if self._repair else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks, self._repair = [], None
        self._deliver = None
        if self._pubsub is not None:
            await self._quietly(self._pubsub.aclose())
        for client in (self._client, self._sub_client):
            if client is not None:
                await self._quietly(client.aclose())

    def delivered_id(self) -> int | None:
        return self._reorder.last if self._reorder is not None else None

    async def wait_delivered(self, message_id: int, timeout: float = 2.0) -> None:
        """Return once messages up to ``message_id`` went through the reorder buffer (bounded)."""
        reorder = self._reorder
        if reorder is None or message_id <= reorder.last:
            return
        if self.store is not None:
            message_id = min(message_id, await self.store.latest_id())  # a client may claim any id
        if message_id <= reorder.last:
            return
        reorder.sync(message_id)
        self._schedule_repair(self.reorder_wait)
        deadline = time.monotonic() + timeout
        while reorder.last < message_id and time.monotonic() < deadline:
            await asyncio.sleep(0.005)

    # receiving -----------------------------------------------------------------------------------
    def _accept(self, event: Event) -> None:
        reorder = self._reorder
        assert reorder is not None
        self._hand_over(reorder.push(event))
        if reorder.needs_repair:
            if log.isEnabledFor(logging.DEBUG):
                log.debug("Redis fan-out: id %s waits for id %d", event.message_id, reorder.last + 1)
            self._schedule_repair(self.reorder_wait)

    def _hand_over(self, events: list[Event]) -> None:
        deliver = self._deliver
        if deliver is None:
            return
        for event in events:
            try:
                deliver(event)
            except Exception:
                log.exception("delivering a %s event failed", event.kind.value)

    def _on_raw(self, raw: bytes) -> None:
        origin, _, rest = raw.partition(b"\n")
        if origin == self.origin:
            return  # delivered locally when it was published
        kind, body = rest[:1], rest[1:]
        if kind == KIND_EVENT:
            try:
                event = Event.from_bytes(body)
            except Exception:
                log.warning("ignored a malformed event on %s", self.channel)
                return
            self._accept(event)
        elif kind == KIND_SYNC and self._reorder is not None:
            self._reorder.sync(int(body))
            self._schedule_repair(0)

    async def _subscribe(self) -> Any:
        pubsub = self._sub_client.pubsub()
        await pubsub.subscribe(self.channel)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:  # wait for the confirmation: from now on nothing is missed
            message = await pubsub.get_message(timeout=1.0)
            if message is not None and message["type"] == "subscribe":
                return pubsub
        raise RedisError(f"no subscription confirmation for {self.channel}")

    async def _read_loop(self) -> None:
        backoff = 0.1
        while True:
            try:
                if self._pubsub is None:
                    self._pubsub = await self._subscribe()
                    backoff = 0.1
                    self._resync()
                    log.info("Redis fan-out: subscribed again to %s", self.channel)
                message = await self._pubsub.get_message(timeout=1.0)
                backoff = 0.1
                if message is None:
                    continue
                if message["type"] == "message":
                    self._on_raw(message["data"])
                elif message["type"] == "subscribe":
                    self._resync()  # redis-py reconnected and subscribed again by itself
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("Redis fan-out: lost the subscription (%s); retrying in %.1f s", exc, backoff)
                if self._pubsub is not None:
                    await self._quietly(self._pubsub.aclose())
                    self._pubsub = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, RETRY_MAX)
            except Exception:
                log.exception("Redis fan-out: unexpected error in the reader")
                await asyncio.sleep(backoff)

    def _resync(self) -> None:
        """Events may have been missed while unsubscribed: read committed messages from the database."""
        if self._reorder is None or self.store is None:
            return
        task = asyncio.get_running_loop().create_task(self._resync_from_store())
        self._side.add(task)  # keep a reference until it is done
        task.add_done_callback(self._side.discard)

    async def _resync_from_store(self) -> None:
        assert self.store is not None and self._reorder is not None
        try:
            latest = await self.store.latest_id()
        except Exception:
            log.exception("Redis fan-out: could not read the newest message id after a reconnect")
            return
        self._reorder.sync(latest)
        self._schedule_repair(0)

    async def _tail_loop(self) -> None:
        if self.store is None:
            return
        while True:
            await asyncio.sleep(TAIL_CHECK_SECONDS)
            reorder = self._reorder
            if reorder is None:
                continue
            try:
                latest = await self.store.latest_id()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("Redis fan-out: could not read the newest message id (%s)", exc)
                continue
            if latest > reorder.last:
                # Usually still on its way through Redis: the reorder wait lets it arrive first.
                reorder.sync(latest)
                self._schedule_repair(self.reorder_wait)

    # repairing gaps ---------------------------------------------------------------------------------
    def _schedule_repair(self, delay: float) -> None:
        if self._repair is not None and not self._repair.done():
            return
        self._repair = asyncio.get_running_loop().create_task(self._repair_gaps(delay), name="fanout-repair")

    async def _repair_gaps(self, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        reorder = self._reorder
        assert reorder is not None
        failures = 0
        while reorder.needs_repair:
            upto = reorder.repair_target
            floor = max(reorder.last, upto - REPAIR_MAX)
            missing = [i for i in range(floor + 1, upto + 1) if i not in reorder.held]
            found: dict[int, Event] = {}
            if missing and self.store is not None:
                try:
                    events = await self.store.events(missing)
                except Exception:
                    failures += 1
                    log.exception("Redis fan-out: could not read messages %d..%d to fill a gap", floor + 1, upto)
                    if failures < 5:
                        await asyncio.sleep(0.2 * failures)
                        continue
                    events = []  # the database is unwell: deliver what we hold; clients can recover later
                found = {e.message_id: e for e in events if e.message_id is not None}
                self.repairs += 1
                log.debug("Redis fan-out: filled ids %d..%d from the database (%d found)", floor + 1, upto, len(found))
            if upto - reorder.last > REPAIR_MAX:
                log.warning("Redis fan-out: %d messages missed; replaying the newest %d", upto - reorder.last,
                            REPAIR_MAX)
            self._hand_over(reorder.fill(upto, found))

    # sending ----------------------------------------------------------------------------------------
    async def _send_loop(self) -> None:
        backoff = 0.1
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._outbox or self._sync_upto:
                batch = list(islice(self._outbox, 0, PIPELINE_MAX))
                sync_upto, dropped_before = self._sync_upto, self._dropped
                try:
                    async with self._client.pipeline(transaction=False) as pipe:
                        for payload in batch:
                            pipe.publish(self.channel, payload)
                        if sync_upto:
                            pipe.publish(self.channel, self.origin + b"\n" + KIND_SYNC + str(sync_upto).encode())
                        await pipe.execute()
                except asyncio.CancelledError:
                    raise
                except (RedisError, OSError) as exc:
                    log.warning("Redis fan-out: publish failed (%s); retrying in %.1f s", exc, backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, RETRY_MAX)
                    continue
                backoff = 0.1
                # Overflow may have dropped some of this batch from the left meanwhile.
                for _ in range(max(0, len(batch) - (self._dropped - dropped_before))):
                    self._outbox.popleft()
                if self._sync_upto == sync_upto:
                    self._sync_upto = 0

    @staticmethod
    async def _quietly(awaitable: Any) -> None:
        try:
            await awaitable
        except Exception:
            pass
