"""Start, watch and stop the servers under test, each as its own process on a free port."""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

__all__ = ["ServerProcess", "free_port", "process_cpu", "start_server", "SERVER_NAMES", "JWT_SECRET", "REPO"]

REPO = Path(__file__).resolve().parent.parent
SERVER_NAMES = ("bare", "original", "agentchat")
"""The default servers; ``agentchat+w1``, ``agentchat+w2``... also run AgentChat with
``AGENTCHAT_WORKERS=N`` through Redis (``--servers bare,agentchat+w1,agentchat+w2``)."""
JWT_SECRET = "bench-secret-not-for-production-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def raise_nofile() -> None:
    """Children inherit the limit: AgentChat's server does not raise it itself."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def process_cpu(procs: list[psutil.Process]) -> float:
    """CPU seconds (user + system) the processes have used so far; gone ones count nothing."""
    total = 0.0
    for p in procs:
        try:
            times = p.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


@dataclass
class ServerProcess:
    name: str
    port: int
    popen: subprocess.Popen[bytes]
    workdir: tempfile.TemporaryDirectory[str]
    log_path: Path
    proc: psutil.Process = field(init=False)

    def __post_init__(self) -> None:
        self.proc = psutil.Process(self.popen.pid)

    def _tree(self) -> list[psutil.Process]:
        try:
            return [self.proc, *self.proc.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss(self) -> int:
        total = 0
        for p in self._tree():
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def cpu_s(self) -> float:
        return process_cpu(self._tree())

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(8)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self.workdir.cleanup()


def _command(name: str, port: int, data_dir: str) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    if name == "bare":
        return [sys.executable, "-m", "bench.baselines.bare_server", "--port", str(port)], env
    if name == "original":
        return [sys.executable, "-m", "bench.baselines.original_server", "--port", str(port)], env
    if name.startswith("agentchat"):
        for key in [k for k in env if k.startswith("AGENTCHAT_")]:
            del env[key]  # everything else default, whatever the caller's shell says
        env.update(
            AGENTCHAT_HOST="127.0.0.1",
            AGENTCHAT_PORT=str(port),
            AGENTCHAT_DATA_DIR=data_dir,
            AGENTCHAT_UPLOAD_DIR=str(Path(data_dir) / "uploads"),
            AGENTCHAT_JWT_SECRET=JWT_SECRET,
            AGENTCHAT_MAX_MESSAGES_PER_HOUR="1000000000",
            AGENTCHAT_RESPONSE_DELAY_SECONDS="0",
            # Every benchmark client comes from 127.0.0.1, 100 of them per user in idle-10k.
            AGENTCHAT_MAX_CONNECTIONS_PER_ADDRESS="100000",
            AGENTCHAT_MAX_CONNECTIONS_PER_USER="1000",
        )
        if name.startswith("agentchat+w"):
            # AGENTCHAT_WORKERS=N through Redis (its own key prefix), SQLite shared by the workers.
            env.update(AGENTCHAT_WORKERS=name[len("agentchat+w"):],
                       AGENTCHAT_REDIS_URL=os.environ.get("AGENTCHAT_BENCH_REDIS", "redis://127.0.0.1:6379/0"),
                       AGENTCHAT_REDIS_PREFIX=f"bench{port}")
        elif name != "agentchat":
            raise ValueError(f"unknown server {name!r}")
        return [sys.executable, "-m", "server"], env
    raise ValueError(f"unknown server {name!r}")


def _ready(name: str, port: int) -> bool:
    if name.startswith("agentchat"):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                return answer.status == 200
        except OSError:
            return False
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def start_server(name: str, timeout_s: float = 180.0, prepare: Callable[[str], None] | None = None) -> ServerProcess:
    """Start ``name`` on a free port with a fresh data directory; return once it answers.

    ``prepare(data_dir)`` runs first (e.g. to seed AgentChat's database with rooms)."""
    raise_nofile()
    workdir = tempfile.TemporaryDirectory(prefix=f"bench-{name}-")
    if prepare is not None:
        prepare(workdir.name)
    port = free_port()
    argv, env = _command(name, port, workdir.name)
    log_path = Path(workdir.name) / "server.log"
    with open(log_path, "wb") as log:
        popen = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = ServerProcess(name, port, popen, workdir, log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not server.alive():
            tail = server.log_tail()
            server.stop()
            raise RuntimeError(f"{name} server exited on start:\n{tail}")
        if _ready(name, port):
            return server
        time.sleep(0.1)
    tail = server.log_tail()
    server.stop()
    raise RuntimeError(f"{name} server not ready after {timeout_s:.0f} s:\n{tail}")


def agentchat_available() -> bool:
    return (REPO / "server" / "runtime.py").exists() and (REPO / "server" / "__main__.py").exists()
