"""``python -m bench.scaleout``: delivery throughput and latency for 1 and 2 server processes.

Three set-ups side by side, each on a fresh PostgreSQL database, loopback only:

- ``1 proc, local``  one process, in-process fan-out (no Redis) - the reference;
- ``1 proc, redis``  one process through Redis (what Redis costs by itself);
- ``2 procs, redis`` two processes through Redis, clients and senders split between them.

Each set-up runs two phases with the same clients:

- *steady*: senders offer a fixed rate for a few seconds; we report the send -> receive latency
  of every delivery (p50/p95/p99/max) and the deliveries per second;
- *burst*: senders send a fixed number of messages as fast as the server accepts them; we report
  the time until every receiver has every message, i.e. the delivery throughput.

Every receiver also checks what scale-out must keep: each message exactly once, in id order.
A 2-core machine shares its cores between the servers, Redis, PostgreSQL and this client, so
the 2-process figures show the cost of the Redis hop, not a speed-up; on separate machines
(or more cores) each process adds its own core.

Needs Redis (``AGENTCHAT_BENCH_REDIS``, default redis://127.0.0.1:6379/0) and PostgreSQL
(``psql -h 127.0.0.1 -U postgres``); every run uses its own database and key prefix and removes
them afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import redis

from server.auth import issue_token

from .wsclient import WsClient, connect

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
REDIS_URL = os.environ.get("AGENTCHAT_BENCH_REDIS", "redis://127.0.0.1:6379/0")
PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc"]
SECRET = "bench-scaleout-secret-0123456789abcdef0123"
START_TIMEOUT = 60.0
PHASE_TIMEOUT = 30.0


# servers --------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One ``python -m server`` child process."""

    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(workdir: Path, env: dict[str, str]) -> Server:
    port = free_port()
    data = workdir / f"server-{port}"
    data.mkdir(parents=True)
    log = data / "server.log"
    full_env = {
        **os.environ, "PYTHONPATH": str(ROOT), "AGENTCHAT_HOST": "127.0.0.1", "AGENTCHAT_PORT": str(port),
        "AGENTCHAT_DATA_DIR": str(data), "AGENTCHAT_JWT_SECRET": SECRET, "AGENTCHAT_LOG_LEVEL": "WARNING",
        "AGENTCHAT_AGENTS_ENABLED": "false", "AGENTCHAT_RESPONSE_DELAY_SECONDS": "0",
        "AGENTCHAT_MAX_MESSAGES_PER_HOUR": "10000000", **env,
    }
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "server"], cwd=ROOT, env=full_env, stdout=out, stderr=out)
    server = Server(port, proc, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not start:\n{log.read_text()[-2000:]}")


def create_database() -> tuple[str, str]:
    name = "agentchat_scale_bench_" + uuid.uuid4().hex[:8]
    subprocess.run([*PSQL, f"CREATE DATABASE {name}"], check=True, capture_output=True, timeout=30)
    return name, f"postgresql://postgres@127.0.0.1:5432/{name}"


def drop_database(name: str) -> None:
    subprocess.run([*PSQL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True, timeout=30)


def drop_keys(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


# clients ----------------------------------------------------------------------------------------------
@dataclass
class Receiver:
    """Records, for every message of the run, when it arrived; checks order and duplicates."""

    sent_at: dict[str, float]
    latencies: list[float] = field(default_factory=list)
    got: int = 0
    last_id: int = 0
    out_of_order: int = 0
    duplicates: int = 0
    seen: set[int] = field(default_factory=set)
    welcome: asyncio.Future[dict[str, Any]] | None = None

    def on_text(self, _client: WsClient, payload: bytes) -> None:
        frame = orjson.loads(payload)
        kind = frame.get("type")
        if kind == "auth_response" and self.welcome is not None and not self.welcome.done():
            self.welcome.set_result(frame["data"])
            return
        if kind != "message":
            return
        data = frame["data"]
        sent = self.sent_at.get(str(data.get("clientId")))
        if sent is None:
            return  # history or another run's message
        now = time.perf_counter()
        mid = data["id"]
        if mid in self.seen:
            self.duplicates += 1
            return
        self.seen.add(mid)
        if mid < self.last_id:
            self.out_of_order += 1
        self.last_id = max(self.last_id, mid)
        self.got += 1
        self.latencies.append(now - sent)


async def open_client(port: int, user: str, receiver: Receiver, role: str = "developer") -> WsClient:
    receiver.welcome = asyncio.get_running_loop().create_future()
    client = await connect("127.0.0.1", port, "/ws", receiver.on_text)
    token = issue_token(SECRET, user, role)
    client.send_text(orjson.dumps({"type": "auth", "data": {"userId": user, "token": token}}))
    welcome = await asyncio.wait_for(receiver.welcome, 10)
    if not welcome.get("success"):
        raise RuntimeError(f"auth failed for {user}: {welcome}")
    return client


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def wait_all(receivers: list[Receiver], expected: int, timeout: float) -> float:
    """Seconds until every receiver has ``expected`` messages (or the timeout)."""
    start = time.perf_counter()
    deadline = start + timeout
    while time.perf_counter() < deadline:
        if all(r.got >= expected for r in receivers):
            break
        await asyncio.sleep(0.005)
    return time.perf_counter() - start


async def run_setup(name: str, ports: list[int], args: argparse.Namespace) -> dict[str, Any]:
    """Clients spread round-robin over ``ports``; the steady phase, then the burst phase."""
    sent_at: dict[str, float] = {}
    receivers = [Receiver(sent_at) for _ in range(args.receivers)]
    clients = [await open_client(ports[i % len(ports)], f"r{i}", r) for i, r in enumerate(receivers)]
    sender_sinks = [Receiver({}) for _ in range(args.senders)]
    senders = [await open_client(ports[i % len(ports)], f"s{i}", s) for i, s in enumerate(sender_sinks)]
    await asyncio.sleep(0.5)  # catch-up frames out of the way
    result: dict[str, Any] = {"setup": name, "processes": len(ports)}
    seq = 0

    def send(sender: WsClient, text: str) -> None:
        nonlocal seq
        seq += 1
        client_id = f"{name}-{seq}"
        sent_at[client_id] = time.perf_counter()
        sender.send_text(orjson.dumps({"type": "message", "data": {"id": client_id, "text": text}}))

    # steady: a fixed offered rate, latency of every delivery
    interval = 1.0 / args.rate
    count = int(args.rate * args.seconds)
    start = time.perf_counter()
    for n in range(count):
        target = start + n * interval
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        send(senders[n % len(senders)], f"steady {n}")
    drain = await wait_all(receivers, count, PHASE_TIMEOUT)
    elapsed = time.perf_counter() - start
    latencies = [x for r in receivers for x in r.latencies]
    result["steady"] = {
        "offered_msgs_per_s": args.rate,
        "deliveries": sum(r.got for r in receivers),
        "expected_deliveries": count * len(receivers),
        "deliveries_per_s": round(sum(r.got for r in receivers) / elapsed),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies, default=float("nan")) * 1000, 2),
        "drain_s": round(drain, 3),
    }

    # burst: as fast as accepted, time until everyone has everything
    for r in receivers:
        r.got, r.latencies = 0, []
    start = time.perf_counter()
    for n in range(args.burst):
        send(senders[n % len(senders)], f"burst {n}")
        if n % 50 == 49:
            await asyncio.sleep(0)  # let the transports write
    took = await wait_all(receivers, args.burst, PHASE_TIMEOUT)
    total = sum(r.got for r in receivers)
    latencies = [x for r in receivers for x in r.latencies]
    result["burst"] = {
        "messages": args.burst,
        "deliveries": total,
        "expected_deliveries": args.burst * len(receivers),
        "seconds": round(took, 3),
        "msgs_per_s": round(args.burst / took) if took else None,
        "deliveries_per_s": round(total / took) if took else None,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }
    result["out_of_order"] = sum(r.out_of_order for r in receivers)
    result["duplicates"] = sum(r.duplicates for r in receivers)
    for client in [*clients, *senders]:
        client.close()
    await asyncio.sleep(0.2)
    return result


async def bench_one(name: str, processes: int, use_redis: bool, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    db_name, db_url = create_database()
    prefix = "agentchat_bench_" + uuid.uuid4().hex[:8]
    env = {"AGENTCHAT_DATABASE_URL": db_url}
    if use_redis:
        env |= {"AGENTCHAT_REDIS_URL": REDIS_URL, "AGENTCHAT_REDIS_PREFIX": prefix}
    servers: list[Server] = []
    try:
        for i in range(processes):
            servers.append(start_server(work, {**env, "AGENTCHAT_AGENT_HOST": "true" if i == 0 else "false"}))
        return await run_setup(name, [s.port for s in servers], args)
    finally:
        for server in servers:
            server.stop()
        drop_database(db_name)
        if use_redis:
            drop_keys(prefix)


def print_table(results: list[dict[str, Any]]) -> None:
    head = (f"{'setup':<16}{'steady p50':>11}{'p95':>9}{'p99':>9}{'max':>9}{'deliv/s':>10}"
            f"{'burst msg/s':>13}{'deliv/s':>10}{'b-p99':>9}{'ok':>6}{'load':>7}")
    print(head)
    print("-" * len(head))
    for r in results:
        s, b = r["steady"], r["burst"]
        ok = (s["deliveries"] == s["expected_deliveries"] and b["deliveries"] == b["expected_deliveries"]
              and not r["out_of_order"] and not r["duplicates"])
        print(f"{r['setup']:<16}{s['p50_ms']:>9.1f}ms{s['p95_ms']:>7.1f}ms{s['p99_ms']:>7.1f}ms{s['max_ms']:>7.1f}ms"
              f"{s['deliveries_per_s']:>10}{b['msgs_per_s'] or 0:>13}{b['deliveries_per_s'] or 0:>10}"
              f"{b['p99_ms']:>7.1f}ms{'yes' if ok else 'NO':>6}{r['load_avg_1m']:>7.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout", description=__doc__.splitlines()[0])
    parser.add_argument("--receivers", type=int, default=40, help="receiving clients (default 40)")
    parser.add_argument("--senders", type=int, default=4, help="sending clients (default 4)")
    parser.add_argument("--rate", type=float, default=100.0, help="steady offered messages/s (default 100)")
    parser.add_argument("--seconds", type=float, default=4.0, help="steady phase length (default 4)")
    parser.add_argument("--burst", type=int, default=1000, help="messages in the burst phase (default 1000)")
    parser.add_argument("--json", type=Path, default=RESULTS / "scaleout.json", help="where to save the results")
    args = parser.parse_args(argv)
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        print(f"error: Redis is not reachable at {REDIS_URL} (AGENTCHAT_BENCH_REDIS): {exc}", file=sys.stderr)
        return 2
    setups = [("1 proc, local", 1, False), ("1 proc, redis", 1, True), ("2 procs, redis", 2, True)]
    results = []
    with tempfile.TemporaryDirectory(prefix="agentchat-scaleout-") as tmp:
        for name, processes, use_redis in setups:
            print(f"running {name} ...", flush=True)
            result = asyncio.run(bench_one(name, processes, use_redis, args, Path(tmp)))
            # Other work on a shared machine skews latency: record how busy it was.
            result["load_avg_1m"] = round(os.getloadavg()[0], 2)
            results.append(result)
    print()
    print(f"{args.receivers} receivers, {args.senders} senders; steady {args.rate:g} msg/s for {args.seconds:g} s; "
          f"burst {args.burst} messages")
    print_table(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": results},
                                    indent=2))
    print(f"\nsaved {args.json}")
    bad = [r["setup"] for r in results if r["out_of_order"] or r["duplicates"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
