"""The agent directory shared by every server process through Redis.

Key (``P`` = ``AGENTCHAT_REDIS_PREFIX``): ``P:agents``, a hash agent -> description.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.exceptions import RedisError

from ..redis_client import Keys, connect
from .base import AgentDirectory

__all__ = ["RedisAgentDirectory"]

log = logging.getLogger(__name__)


class RedisAgentDirectory(AgentDirectory):
    def __init__(self, url: str, *, prefix: str = "agentchat") -> None:
        self.url = url
        self.keys = Keys(prefix)
        self._client: Any = None
        self._connecting = asyncio.Lock()
        self._local: dict[str, str] = {}

    async def _redis(self) -> Any:
        if self._client is None:
            async with self._connecting:
                if self._client is None:
                    self._client = await connect(self.url, name=self.keys("agents"))
        return self._client

    async def register(self, agents: dict[str, str]) -> None:
        if not agents:
            return
        self._local.update(agents)
        redis = await self._redis()
        described = {n: d for n, d in agents.items() if d}
        if described:
            await redis.hset(self.keys("agents"), mapping=described)
        for name in set(agents) - set(described):  # do not blank a description another process gave
            await redis.hsetnx(self.keys("agents"), name, "")

    async def all(self) -> dict[str, str]:
        try:
            redis = await self._redis()
            return {k.decode(): v.decode() for k, v in (await redis.hgetall(self.keys("agents"))).items()}
        except (RedisError, OSError) as exc:
            log.warning("agent directory: Redis unavailable (%s); listing this process's agents only", exc)
            return dict(self._local)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
