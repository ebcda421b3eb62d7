"""The load generator: one process holding many clients, driven step by step by the runner.

A worker connects and authenticates its clients, reports ``ready``, then on ``go`` makes its
senders send (at a fixed rate, or closed-loop with a window of messages in flight), records
the send-to-receipt latency of every benchmark message at every client, and reports what
arrived once the runner says how many messages each client should have received.

Latency uses ``time.monotonic_ns()`` (CLOCK_MONOTONIC, shared by all processes on Linux), so
the send time written into the text by one process is comparable with the receipt time
read by another.
"""

from __future__ import annotations

import asyncio
import resource
import time
from array import array
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import orjson

from .profiles import MARK, PROFILES, Profile, auth_frame, message_frame
from .wsclient import WsClient, connect

__all__ = ["WorkerSpec", "worker_main"]

SLOW_INDEX = 10**6  # the slow reader's sender id: never a real client index


@dataclass
class WorkerSpec:
    host: str
    port: int
    profile: str
    first: int  # global index of this worker's first client
    count: int
    users: int = 0  # distinct user ids shared round-robin; 0 means one per client
    jwt_secret: str = ""
    senders: list[int] = field(default_factory=list)  # global indices of this worker's senders
    rate: float = 0.0  # messages/s per sender; 0 means closed loop
    window: int = 4  # closed loop: messages each sender keeps in flight
    text_bytes: int = 100
    slow_reader: bool = False
    concurrency: int = 200
    auth_timeout: float = 60.0


def user_for(spec: WorkerSpec, index: int) -> str:
    return f"bench{index % spec.users if spec.users else index}"


class Worker:
    def __init__(self, spec: WorkerSpec, pipe: Connection) -> None:
        self.spec = spec
        self.pipe = pipe
        self.profile: Profile = PROFILES[spec.profile.split("+", 1)[0]]  # "agentchat+x": a variant
        self.clients: list[WsClient] = []
        self.slow: WsClient | None = None
        self.tokens: dict[str, str] = {}
        self.pad = "x" * max(0, spec.text_bytes - 40)
        self.measuring = False
        self.rate, self.window = spec.rate, spec.window
        self.closed_loop = spec.rate <= 0
        self.t_end = 0
        self.lat = array("q")
        self.in_window = 0
        self.last_frame = time.monotonic_ns()
        self.other_frames = 0
        self.early = 0
        self.sent = 0
        self.max_lag_ms = 0.0
        self.seq: dict[int, int] = {}
        self.cpu0 = 0.0
        self.t0 = 0
        self.stopped = False  # set once the send count is reported: nothing may be sent after

    # commands from the runner ---------------------------------------------------------------
    async def command(self) -> tuple[str, dict[str, Any]]:
        return await asyncio.get_running_loop().run_in_executor(None, self.pipe.recv)

    def reply(self, kind: str, **data: Any) -> None:
        self.pipe.send((kind, data))

    async def run(self) -> None:
        self.reply("started", pid=__import__("os").getpid())
        kind, _ = await self.command()
        assert kind == "connect", kind
        ready = await self.connect_all()
        self.reply("ready", **ready)
        kind, go = await self.command()
        while kind == "go":  # one round of traffic; the runner may ask for several
            self.new_round(go)
            await self.traffic(go["t0_ns"], go["duration_s"])
            self.stopped = True
            self.reply("sent", sent=self.sent, max_lag_ms=self.max_lag_ms)
            kind, drain = await self.command()
            assert kind == "drain", kind
            result = await self.drain(drain["expected"], drain["timeout_s"], drain.get("last", True))
            self.reply("result", **result)
            kind, go = await self.command()
        self.close_all()
        await asyncio.sleep(0.2)

    def new_round(self, go: dict[str, Any]) -> None:
        """Take the round's load and zero its counters (sequence numbers carry on, so order checks hold).

        Rate, window and size come with each ``go``: scenarios that share their clients (the
        same room at a fixed rate, then flat out) run as rounds on the same connections.
        """
        self.rate, self.window = go["rate"], go["window"]
        self.closed_loop = self.rate <= 0
        self.pad = "x" * max(0, go["text_bytes"] - 40)
        self.sent, self.max_lag_ms, self.in_window, self.early = 0, 0.0, 0, 0
        self.lat = array("q")
        self.stopped = False
        for client in self.clients:
            client.received = 0

    # connecting ---------------------------------------------------------------------------
    def token(self, user_id: str) -> str | None:
        if self.profile.auth != "jwt":
            return None
        if user_id not in self.tokens:
            from server.auth import issue_token

            self.tokens[user_id] = issue_token(self.spec.jwt_secret, user_id, "developer")
        return self.tokens[user_id]

    async def open_client(self, index: int, user_id: str, rcvbuf: int | None = None) -> WsClient:
        spec = self.spec
        client = await connect(spec.host, spec.port, self.profile.path, self.on_text, rcvbuf=rcvbuf)
        client.index, client.user_id = index, user_id
        frame = auth_frame(self.profile, user_id, self.token(user_id))
        if frame is not None:
            client.auth_waiter = asyncio.get_running_loop().create_future()
            client.send_text(frame)
            answer = await asyncio.wait_for(client.auth_waiter, spec.auth_timeout)
            if b'"success":false' in answer.replace(b" ", b""):
                client.close()
                raise PermissionError(answer[:200].decode(errors="replace"))
        return client

    async def connect_all(self) -> dict[str, Any]:
        spec = self.spec
        gate = asyncio.Semaphore(spec.concurrency)
        errors: list[str] = []

        async def one(index: int) -> WsClient | None:
            async with gate:
                try:
                    return await self.open_client(index, user_for(spec, index))
                except Exception as exc:  # counted and reported, never fatal for the run
                    errors.append(f"{type(exc).__name__}: {exc}")
                    return None

        for index in range(spec.first, spec.first + spec.count):
            self.token(user_for(spec, index))  # sign tokens before the clock starts
        started = time.monotonic()
        opened = await asyncio.gather(*(one(i) for i in range(spec.first, spec.first + spec.count)))
        connect_s = time.monotonic() - started
        self.clients = [c for c in opened if c is not None]
        for client in self.clients:
            if client.index in spec.senders:
                client.sender_slot = spec.senders.index(client.index)
        if spec.slow_reader:
            try:
                self.slow = await self.open_client(SLOW_INDEX, f"slow{spec.first}", rcvbuf=4096)
            except Exception as exc:
                errors.append(f"slow reader: {type(exc).__name__}: {exc}")
        await self.quiet(0.3, 20.0)
        if self.slow is not None:
            self.slow.pause_reading()
        return {
            "connected": len(self.clients),
            "failed": spec.count - len(self.clients),
            "connect_s": connect_s,
            "errors": errors[:5],
            "setup_frames": self.other_frames,
        }

    async def quiet(self, gap_s: float, limit_s: float) -> None:
        """Wait until setup chatter (history, presence...) has stopped arriving."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if time.monotonic_ns() - self.last_frame > gap_s * 1e9:
                return
            await asyncio.sleep(0.05)

    # receiving ----------------------------------------------------------------------------
    def on_text(self, client: WsClient, payload: bytes) -> None:
        now = time.monotonic_ns()
        self.last_frame = now
        i = payload.find(MARK)
        if i < 0:
            waiter = client.auth_waiter
            if waiter is not None and not waiter.done() and b"auth_response" in payload:
                waiter.set_result(payload)
            else:
                self.other_frames += 1
            return
        if not self.measuring:
            self.early += 1
            return
        if client.index == SLOW_INDEX:  # its backlog is read at the end: not a latency sample
            client.received += 1
            return
        sender_s, seq_s, sent_s, _ = payload[i + 7 : i + 80].split(b"|", 3)
        sender, seq = int(sender_s), int(seq_s)
        self.lat.append((now - int(sent_s)) // 1000)
        client.received += 1
        if now <= self.t_end:
            self.in_window += 1
        last = client.last_seq.get(sender, 0)
        if seq != last + 1:
            client.out_of_order += 1
        client.last_seq[sender] = seq
        if self.closed_loop and sender == client.index and not self.stopped and now < self.t_end:
            self.send_one(client)

    # sending ------------------------------------------------------------------------------
    def send_one(self, client: WsClient) -> None:
        seq = self.seq.get(client.index, 0) + 1
        self.seq[client.index] = seq
        client.send_text(message_frame(client.index, seq, time.monotonic_ns(), self.pad))
        self.sent += 1

    async def fixed_rate(self, client: WsClient, t0: int, phase: float) -> None:
        interval = 1e9 / self.rate
        due = t0 + phase * interval
        while due < self.t_end and not client.closed and not self.stopped:
            delay = (due - time.monotonic_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            self.max_lag_ms = max(self.max_lag_ms, (time.monotonic_ns() - due) / 1e6)
            self.send_one(client)
            due += interval

    async def traffic(self, t0_ns: int, duration_s: float) -> None:
        self.t_end = t0_ns + int(duration_s * 1e9)
        # Count from now, not from t0: another process's sender may start a hair before this
        # process's timer fires, and its first messages must not be missed.
        self.measuring = True
        await asyncio.sleep(max(0.0, (t0_ns - time.monotonic_ns()) / 1e9))
        self.cpu0 = time.process_time()
        self.t0 = t0_ns
        senders = sorted((c for c in self.clients if c.sender_slot >= 0), key=lambda c: c.sender_slot)
        total = max(1, len(self.spec.senders))
        if self.closed_loop:
            for client in senders:
                for _ in range(self.window):
                    self.send_one(client)
            await asyncio.sleep(max(0.0, (self.t_end - time.monotonic_ns()) / 1e9))
        else:
            await asyncio.gather(*(self.fixed_rate(c, t0_ns, c.sender_slot / total) for c in senders))
            await asyncio.sleep(max(0.0, (self.t_end - time.monotonic_ns()) / 1e9))

    async def drain(self, expected: int, timeout_s: float, last: bool = True) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(c.received >= expected or c.closed for c in self.clients):
                break
            await asyncio.sleep(0.02)
        drained_at = time.monotonic_ns()
        cpu_s = time.process_time() - self.cpu0
        slow: dict[str, Any] | None = None
        if self.slow is not None and last:
            backlog = self.slow.transport.get_write_buffer_size() if self.slow.transport else 0
            self.slow.resume_reading()
            await asyncio.sleep(0.5)
            slow = {
                "received": self.slow.received,
                "close_code": self.slow.close_code,
                "closed": self.slow.closed,
                "client_backlog": backlog,
            }
        return {
            "received": [c.received for c in self.clients],
            "closed": sum(1 for c in self.clients if c.closed),
            "close_codes": sorted({c.close_code for c in self.clients if c.close_code is not None}),
            "out_of_order": sum(c.out_of_order for c in self.clients),
            "in_window": self.in_window,
            "latency_us": self.lat,
            "cpu_s": cpu_s,
            "wall_s": (drained_at - self.t0) / 1e9,
            "early": self.early,
            "slow": slow,
        }

    def close_all(self) -> None:
        for client in self.clients:
            client.close()
        if self.slow is not None:
            self.slow.close()


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def worker_main(spec: WorkerSpec, pipe: Connection) -> None:
    """Entry point of a client process (started by the runner with multiprocessing)."""
    raise_nofile()
    try:
        asyncio.run(Worker(spec, pipe).run())
    except Exception as exc:  # report instead of leaving the runner waiting
        pipe.send(("error", {"error": f"{type(exc).__name__}: {exc}"}))
        raise
