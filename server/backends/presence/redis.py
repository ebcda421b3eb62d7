"""Presence shared by every server process through Redis.

A user is online while any of their connections, on any live process, is open.  Each process
heart-beats a key with an expiry; every process also sweeps: when a process's heartbeat key has
expired (it was killed), the connections it held are removed in one Lua script, and the sweeper
that removed a user's last connection reports them offline (exactly one process does).

Keys (``P`` = ``AGENTCHAT_REDIS_PREFIX``):

- ``P:presence:online``         set of online users (``online()``)
- ``P:presence:user:<user>``    set of ``<process>/<connection>`` for the user
- ``P:presence:proc:<process>`` hash ``<process>/<connection>`` -> user: what to remove if it dies
- ``P:presence:alive:<process>`` heartbeat, expires after ``ttl`` seconds
- ``P:presence:procs``          set of process ids to check
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from redis.exceptions import RedisError

from .base import Presence, PresenceChange
from ..redis_client import Keys, connect

__all__ = ["RedisPresence"]

log = logging.getLogger(__name__)

# KEYS: online, user set, process hash, process list   ARGV: member, user, process id
_CONNECT = """
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[4], ARGV[3])
return redis.call('SADD', KEYS[1], ARGV[2])
"""

# KEYS: online, user set, process hash   ARGV: member, user
_DISCONNECT = """
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('SREM', KEYS[2], ARGV[1]) == 1 and redis.call('SCARD', KEYS[2]) == 0 then
  return redis.call('SREM', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS: online, process list   ARGV: prefix, process id, force ("1": sweep even if alive)
_SWEEP = """
local alive = ARGV[1] .. ':presence:alive:' .. ARGV[2]
if ARGV[3] ~= '1' and redis.call('EXISTS', alive) == 1 then return {} end
local procs = ARGV[1] .. ':presence:proc:' .. ARGV[2]
local entries = redis.call('HGETALL', procs)
local gone = {}
for i = 1, #entries, 2 do
  local key = ARGV[1] .. ':presence:user:' .. entries[i + 1]
  if redis.call('SREM', key, entries[i]) == 1 and redis.call('SCARD', key) == 0 then
    if redis.call('SREM', KEYS[1], entries[i + 1]) == 1 then table.insert(gone, entries[i + 1]) end
  end
end
redis.call('DEL', procs)
redis.call('SREM', KEYS[2], ARGV[2])
return gone
"""


class RedisPresence(Presence):
    def __init__(self, url: str, *, prefix: str = "agentchat", ttl: float = 15.0) -> None:
        self.url = url
        self.keys = Keys(prefix)
        self.ttl = ttl
        self.process_id = secrets.token_hex(8)
        self._client: Any = None
        self._local: dict[str, str] = {}
        """This process's members -> user, to re-register them if we were wrongly swept."""
        self._on_change: PresenceChange | None = None
        self._task: asyncio.Task[None] | None = None
        self._scripts: dict[str, Any] = {}
        self._connecting = asyncio.Lock()

    # lifecycle ---------------------------------------------------------------------------------
    async def _redis(self) -> Any:
        if self._client is None:
            async with self._connecting:
                if self._client is None:
                    client = await connect(self.url, name=self.keys("presence"))
                    for name, source in (("connect", _CONNECT), ("disconnect", _DISCONNECT), ("sweep", _SWEEP)):
                        self._scripts[name] = client.register_script(source)
                    self._client = client
        return self._client

    async def start(self, on_change: PresenceChange) -> None:
        self._on_change = on_change
        await self._redis()
        await self._heartbeat()
        self._task = asyncio.create_task(self._loop(), name="presence-heartbeat")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._client is not None:
            try:
                # Surviving processes sweep us on their next round and report who went offline.
                await self._client.delete(self.keys("presence", "alive", self.process_id))
            except (RedisError, OSError):
                pass
            await self._client.aclose()
            self._client = None

    # Presence interface ---------------------------------------------------------------------------
    def _member(self, connection_id: str) -> str:
        return f"{self.process_id}/{connection_id}"

    async def connect(self, user_id: str, connection_id: str) -> bool:
        member = self._member(connection_id)
        self._local[member] = user_id
        try:
            return await self._add(member, user_id)
        except (RedisError, OSError) as exc:
            # Never fail a sign-in on Redis: the heartbeat registers the connection once it is back.
            log.warning("presence: could not register %s (%s); will retry", user_id, exc)
            return False

    async def disconnect(self, user_id: str, connection_id: str) -> bool:
        member = self._member(connection_id)
        self._local.pop(member, None)
        try:
            return await self._remove(member, user_id)
        except (RedisError, OSError) as exc:
            log.warning("presence: could not unregister %s (%s); will retry", user_id, exc)
            return False  # the heartbeat's reconciliation removes it and reports the user offline

    async def _add(self, member: str, user_id: str) -> bool:
        await self._redis()
        added = await self._scripts["connect"](
            keys=[self.keys("presence", "online"), self.keys("presence", "user", user_id),
                  self.keys("presence", "proc", self.process_id), self.keys("presence", "procs")],
            args=[member, user_id, self.process_id],
        )
        return bool(added)

    async def _remove(self, member: str, user_id: str) -> bool:
        await self._redis()
        removed = await self._scripts["disconnect"](
            keys=[self.keys("presence", "online"), self.keys("presence", "user", user_id),
                  self.keys("presence", "proc", self.process_id)],
            args=[member, user_id],
        )
        return bool(removed)

    async def online(self) -> set[str]:
        try:
            redis = await self._redis()
            return {m.decode() for m in await redis.smembers(self.keys("presence", "online"))}
        except (RedisError, OSError) as exc:
            log.warning("presence: Redis unavailable (%s); answering with this process's users only", exc)
            return set(self._local.values())

    # heartbeat and sweeping -----------------------------------------------------------------------
    async def _loop(self) -> None:
        interval = self.ttl / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await self._heartbeat()
                await self._sweep()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("presence heartbeat failed (%s); retrying in %.1f s", exc, interval)
            except Exception:
                log.exception("presence heartbeat failed")

    async def _heartbeat(self) -> None:
        redis = await self._redis()
        own = self.keys("presence", "proc", self.process_id)
        async with redis.pipeline(transaction=False) as pipe:
            pipe.set(self.keys("presence", "alive", self.process_id), "1", px=int(self.ttl * 1000))
            pipe.sadd(self.keys("presence", "procs"), self.process_id)
            pipe.hlen(own)
            *_, registered = await pipe.execute()
        if registered != len(self._local):
            await self._reconcile({k.decode(): v.decode() for k, v in (await redis.hgetall(own)).items()})

    async def _reconcile(self, in_redis: dict[str, str]) -> None:
        """Make Redis hold exactly this process's connections (after Redis errors, or a wrongful sweep)."""
        came, went = set(), set()
        for member, user in list(self._local.items()):
            if member not in in_redis and await self._add(member, user):
                came.add(user)
        for member, user in in_redis.items():
            if member not in self._local and await self._remove(member, user):
                went.add(user)
        if came or went:
            log.warning("presence: re-synchronised this process's connections with Redis")
        if self._on_change is not None:
            if came:
                self._on_change(sorted(came), "online")
            if went:
                self._on_change(sorted(went), "offline")

    async def _sweep(self) -> None:
        redis = await self._redis()
        procs = [m.decode() for m in await redis.smembers(self.keys("presence", "procs"))]
        for proc in procs:
            if proc == self.process_id:
                continue
            gone = await self._scripts["sweep"](
                keys=[self.keys("presence", "online"), self.keys("presence", "procs")],
                args=[self.keys.prefix, proc, "0"],
            )
            if gone:
                users = sorted(g.decode() for g in gone)
                log.info("presence: process %s stopped heart-beating; offline: %s", proc, ", ".join(users))
                if self._on_change is not None:
                    self._on_change(users, "offline")
