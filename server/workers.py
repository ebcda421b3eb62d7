"""``AGENTCHAT_WORKERS=N``: N server processes on one port, acting as one chat.

Every worker binds the same address with ``SO_REUSEPORT``, so the kernel spreads new
connections across them, and they share fan-out, presence and rate limits through Redis
(``AGENTCHAT_REDIS_URL`` is required) and the database.  Worker 0 hosts the in-process agents.
This process only supervises: it starts the workers, restarts one that dies (with a growing
pause), and stops them all on SIGTERM or SIGINT.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from .settings import Settings

__all__ = ["check_workers", "supervise", "WORKER_INDEX_ENV"]

log = logging.getLogger(__name__)
WORKER_INDEX_ENV = "AGENTCHAT_WORKER_INDEX"
RESTART_PAUSES = (0.5, 1.0, 2.0, 5.0, 10.0)
STOP_GRACE_SECONDS = 20.0


def check_workers(settings: Settings) -> str | None:
    """Why these settings cannot run several workers (None when they can)."""
    if settings.workers <= 1:
        return None
    if not settings.redis_url:
        return ("AGENTCHAT_WORKERS > 1 needs AGENTCHAT_REDIS_URL: the workers share fan-out, presence and "
                "rate limits through Redis")
    if settings.port == 0:
        return "AGENTCHAT_WORKERS > 1 needs a fixed AGENTCHAT_PORT (the workers bind the same one)"
    return None


@dataclass
class _Worker:
    index: int
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started: float = field(default=0.0)


def supervise(settings: Settings, argv: list[str]) -> int:
    """Run ``settings.workers`` copies of ``python -m server <argv>`` until told to stop."""
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    workers = [_Worker(i) for i in range(settings.workers)]
    for worker in workers:
        _start(worker, argv)
    print(f"AgentChat: {len(workers)} workers on {settings.host}:{settings.port}", flush=True)
    try:
        while not stopping:
            time.sleep(0.2)
            for worker in workers:
                if stopping or worker.process is None or worker.process.poll() is None:
                    continue
                code = worker.process.returncode
                pause = RESTART_PAUSES[min(worker.restarts, len(RESTART_PAUSES) - 1)]
                if time.monotonic() - worker.started > 60:
                    worker.restarts = 0  # it had been running fine: start over from the shortest pause
                log.error("worker %d exited with %s; restarting in %.1f s", worker.index, code, pause)
                time.sleep(pause)
                worker.restarts += 1
                _start(worker, argv)
    finally:
        _stop_all(workers)
    return 0


def _start(worker: _Worker, argv: list[str]) -> None:
    env = {**os.environ, WORKER_INDEX_ENV: str(worker.index)}
    if worker.index > 0:
        env["AGENTCHAT_AGENT_HOST"] = "false"  # one process hosts the agents
    worker.process = subprocess.Popen([sys.executable, "-m", "server", *argv], env=env)
    worker.started = time.monotonic()


def _stop_all(workers: list[_Worker]) -> None:
    for worker in workers:
        if worker.process is not None and worker.process.poll() is None:
            worker.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for worker in workers:
        if worker.process is None:
            continue
        try:
            worker.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
