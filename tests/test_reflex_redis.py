"""Several Reflex backend workers: the app's state in Redis, and the bridge rebuilt on another worker.

Two subprocesses play two Reflex workers with ``REFLEX_REDIS_URL`` and
``REFLEX_STATE_MANAGER_MODE=redis`` (what docs/deploy.md prescribes).  Worker 1 fills a chat
session's state and opens its bridge to the companion server, then exits (it died, or nginx sent
the browser elsewhere).  Worker 2 has no bridge for the session: it finds the session's state in
Redis and rebuilds the bridge from it, as ``ChatState.load`` does on the ``hydrate_and_load``
event Reflex sends on every socket (re)connect; the new bridge resumes after the messages on
screen and receives exactly what was posted meanwhile (a ``recovery``, not a fresh page).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.support import ROOT, ServerProcess, connect_as, token

pytestmark = pytest.mark.redis

REFLEX_REDIS_URL = os.environ.get("AGENTCHAT_TEST_REFLEX_REDIS", "redis://127.0.0.1:6379/1")

WORKER = r'''
import asyncio, inspect, json, sys
import agentchat_app.agentchat_app  # noqa: F401  (the app object and its states)
from reflex.istate.manager import StateManager
from reflex.istate.manager.token import BaseStateToken
from reflex.state import State
from agentchat_app.bridge import close_bridge, get_bridge, open_bridge
from agentchat_app.chat.models import ChatMessage
from agentchat_app.state.chat import ChatState
from agentchat_app.state.composer import ComposerState
from agentchat_app.state.log import LogState

phase, key, url, jwt = sys.argv[1:5]

async def catch_up(bridge):
    # The frames right after auth: ("history", ids) or ("recovery", ids replayed).
    kind, ids, expected = None, [], None
    for _ in range(100):
        for frame in await bridge.next_batch(timeout=5.0):
            t, data = frame["type"], frame.get("data") or {}
            if t == "auth_response" and not data.get("success"):
                raise SystemExit(f"auth refused: {frame}")
            if t == "history":
                return "history", [m["data"]["id"] for m in data["messages"]]
            if t == "recovery":
                kind, expected = "recovery", data["count"]
            elif kind == "recovery" and t in ("message", "agent_response"):
                ids.append(data["id"])
            if kind == "recovery" and len(ids) >= expected:
                return kind, ids
    raise SystemExit("no catch-up frames")

async def main():
    manager = StateManager.create()
    token = BaseStateToken(ident=key, cls=State)
    out = {"manager": type(manager).__name__}
    if phase == "first":
        bridge = open_bridge(key, url, "mover", "developer", jwt)
        out["catch_up"] = await catch_up(bridge)
        async with manager.modify_state(token) as root:
            chat = await root.get_state(ChatState)
            chat.user, chat.role, chat._access_token = "mover", "developer", jwt
            (await root.get_state(ComposerState)).draft = "half a sentence"
            log = await root.get_state(LogState)
            log.older = [ChatMessage(key=f"m{i}", id=i, sender="x", text="shown") for i in out["catch_up"][1]]
        await close_bridge(key)
    else:
        root = await manager.get_state(token)
        chat = await root.get_state(ChatState)
        out["had_bridge"] = get_bridge(key) is not None
        log = await root.get_state(LogState)
        draft = (await root.get_state(ComposerState)).draft
        out.update(user=chat.user, role=chat.role, draft=draft, shown=[m.id for m in log.older])
        # What ChatState.load does on the worker that receives the reconnect.
        extra = {}
        if "shown" in inspect.signature(open_bridge).parameters:
            extra = {"shown": [*log.older, *log.recent], "has_more": chat.has_more}
        bridge = open_bridge(key, url, chat.user, chat.role, chat._access_token, **extra)
        out["catch_up"] = await catch_up(bridge)
        await close_bridge(key)
    await manager.close()
    print("RESULT " + json.dumps(out), flush=True)

asyncio.run(main())
'''


@pytest.fixture()
def reflex_redis() -> Iterator[str]:
    """A Redis for Reflex state; the keys of this test and the server setting Reflex changes are restored."""
    client = redis.Redis.from_url(REFLEX_REDIS_URL, socket_connect_timeout=2)
    try:
        original = client.config_get("notify-keyspace-events").get("notify-keyspace-events", "")
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REFLEX_REDIS_URL} ({exc})")
    key = "scaleout-" + uuid.uuid4().hex
    yield key
    for name in client.scan_iter(match=f"*{key}*", count=500):
        client.delete(name)
    client.config_set("notify-keyspace-events", original)  # Reflex turns keyspace events on
    client.close()


def run_worker(phase: str, key: str, url: str, jwt: str, data_dir: Path) -> dict[str, object]:
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "REFLEX_REDIS_URL": REFLEX_REDIS_URL,
        "REFLEX_STATE_MANAGER_MODE": "redis", "AGENTCHAT_DATA_DIR": str(data_dir),
        "AGENTCHAT_SERVER_URL": url,
    }
    done = subprocess.run([sys.executable, "-c", WORKER, phase, key, url, jwt], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=90)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, f"worker {phase} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return json.loads(lines[-1][len("RESULT "):])


async def test_session_moves_between_reflex_workers(reflex_redis: str, tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "server", AGENTCHAT_AGENTS_ENABLED="false").start()
    try:
        other = await connect_as(server.url, "other")
        before = await other.say("on screen before the move")

        first = run_worker("first", reflex_redis, server.url, token("mover"), tmp_path / "w1")
        assert first["manager"] == "StateManagerRedis"
        assert first["catch_up"] == ["history", [before["id"]]]

        posted = await other.say("while you were moving")  # the session is between workers
        await other.close()

        second = run_worker("second", reflex_redis, server.url, token("mover"), tmp_path / "w2")
        assert second["had_bridge"] is False, "a new worker starts without the bridge"
        assert (second["user"], second["role"], second["draft"], second["shown"]) == (
            "mover", "developer", "half a sentence", [before["id"]]
        ), "the session's state came through Redis"
        # The rebuilt bridge resumes after what is on screen: exactly the message it missed.
        assert second["catch_up"] == ["recovery", [posted["id"]]]
    finally:
        server.stop()
