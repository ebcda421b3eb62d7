"""``AGENTCHAT_WORKERS=2``: two server processes on one port act as one chat."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.support import ServerProcess, connect_as

REDIS_URL = "redis://127.0.0.1:6379/0"


def pid_behind(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
        return int(json.loads(response.read())["pid"])


@pytest.mark.redis
@pytest.mark.postgres
async def test_two_workers_share_one_port_and_one_chat(tmp_path: Path, pg_url: str) -> None:
    server = ServerProcess(
        tmp_path / "workers",
        AGENTCHAT_WORKERS="2",
        AGENTCHAT_REDIS_URL=REDIS_URL,
        AGENTCHAT_REDIS_PREFIX=f"workers-{uuid.uuid4().hex[:8]}",
        AGENTCHAT_DATABASE_URL=pg_url,
        AGENTCHAT_RESPONSE_DELAY_SECONDS="0",
    ).start()
    try:
        pids: set[int] = set()
        deadline = time.monotonic() + 60  # the second worker may still be starting
        while len(pids) < 2 and time.monotonic() < deadline:
            pids.add(pid_behind(server.port))  # a new connection each time: the kernel picks a worker
            await asyncio.sleep(0.05)
        assert len(pids) == 2, "both workers accept connections on the one port"

        clients = [await connect_as(server.url, f"w{i}") for i in range(8)]
        said = await clients[0].say("hello from one worker to all")
        for client in clients[1:]:
            assert (await client.expect("message", id=said["id"], timeout=30))["text"] == said["text"]
        asked = await clients[3].say("@helper who is here?")
        await clients[5].expect("agent_response", sender="helper", replyTo=asked["id"], timeout=30)
        extra = [f for f in await clients[5].quiet(1.0)
                 if f["type"] == "agent_response" and f["data"]["replyTo"] == asked["id"]]
        assert extra == [], "one worker hosts the agents: one answer"
        for client in clients:
            await client.close()
    finally:
        server.stop()
    assert server.proc is not None and server.proc.returncode == 0


def test_several_workers_need_redis(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "noredis", AGENTCHAT_WORKERS="2")
    with pytest.raises(RuntimeError, match="AGENTCHAT_REDIS_URL"):
        server.start(timeout=20)
