"""Does a message cost in proportion to the people who receive it?  ``python -m bench.rooms``

One AgentChat server (SQLite, rooms seeded through the store before it starts), one room of
1,000 members and 50 rooms of 10, everybody connected with the lean benchmark client (the
senders in a process of their own).  Three phases on the same connections: the big room talking
alone, the 50 small rooms alone, then all of them at once.  Each phase reports deliveries/s,
latency (send -> receipt, every delivery) per kind of room, messages lost, and the server's CPU
per delivery: if routing costs in proportion to recipients, CPU per delivery is about the same in
every phase, and the small rooms' latency does not grow when the big room talks beside them.
Prints a table and writes ``bench/results/rooms.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import time
from array import array
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

from .servers import JWT_SECRET, start_server
from .stats import percentiles
from .wsclient import WsClient, connect

RESULTS = Path(__file__).resolve().parent / "results"
BIG = "r-bench-big"


@dataclass
class Layout:
    big: int = 1000
    small_rooms: int = 50
    small_size: int = 10
    big_senders: int = 10
    big_rate: float = 2.0  # messages/s per big-room sender
    small_rate: float = 2.0  # messages/s per small room (one sender each)
    seconds: float = 6.0

    def members(self) -> dict[str, list[str]]:
        rooms = {BIG: [f"big{i}" for i in range(self.big)]}
        for r in range(self.small_rooms):
            rooms[f"r-bench-s{r}"] = [f"small{r}x{i}" for i in range(self.small_size)]
        return rooms

    def senders(self) -> dict[str, tuple[str, float]]:
        """Sender user -> (room, rate)."""
        out = {f"big{i}": (BIG, self.big_rate) for i in range(self.big_senders)}
        out.update({f"small{r}x0": (f"r-bench-s{r}", self.small_rate) for r in range(self.small_rooms)})
        return out


@dataclass
class Part:
    """The clients one process holds."""

    port: int
    users: dict[str, str]  # user -> room
    senders: dict[str, tuple[str, float]] = field(default_factory=dict)


async def _seed(url: str, layout: Layout) -> None:
    from server.store import RoomRecord, open_store

    store = open_store(url)
    await store.start()
    try:
        for room_id, members in layout.members().items():
            for user in members:
                await store.ensure_user(user, "developer")
            kind = "public" if room_id == BIG else "private"
            await store.save_room(RoomRecord(room_id, room_id, kind, members[0], members=list(members)))
    finally:
        await store.close()


class Clients:
    def __init__(self, part: Part, pipe: Connection) -> None:
        self.part, self.pipe = part, pipe
        self.lat: dict[str, array[int]] = {"big": array("q"), "small": array("q")}
        self.received: dict[str, int] = {}
        self.sent: dict[str, int] = {}
        self.measuring = False
        self.last_frame = time.monotonic_ns()
        self.pad = "x" * 60

    def on_text(self, client: WsClient, payload: bytes) -> None:
        self.last_frame = now = time.monotonic_ns()
        waiter = client.auth_waiter
        if waiter is not None and not waiter.done() and b"auth_response" in payload:
            waiter.set_result(payload)
            return
        i = payload.find(b'"bench|')
        if i < 0 or not self.measuring:
            return
        room, sent_ns = payload[i + 7: i + 80].split(b"|", 2)[:2]
        name = room.decode()
        self.received[name] = self.received.get(name, 0) + 1
        self.lat["big" if name == BIG else "small"].append((now - int(sent_ns)) // 1000)

    async def open(self, user: str) -> WsClient:
        from server.auth import issue_token

        client = await connect("127.0.0.1", self.part.port, "/ws", self.on_text)
        client.user_id = user
        client.auth_waiter = asyncio.get_running_loop().create_future()
        token = issue_token(JWT_SECRET, user, "developer")
        client.send_text(orjson.dumps({"type": "auth", "data": {"userId": user, "token": token}}))
        await asyncio.wait_for(client.auth_waiter, 120)
        return client

    async def send_at(self, client: WsClient, room: str, rate: float, t0: int, end: int, phase: float) -> None:
        interval = 1e9 / rate
        due = t0 + phase * interval
        while due < end:
            delay = (due - time.monotonic_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            text = f"bench|{room}|{time.monotonic_ns()}|{self.pad}"
            client.send_text(orjson.dumps({"type": "message", "data": {"text": text, "roomId": room}}))
            self.sent[room] = self.sent.get(room, 0) + 1
            due += interval

    async def run(self) -> None:
        gate = asyncio.Semaphore(50)

        async def one(user: str) -> WsClient:
            async with gate:
                for attempt in range(5):  # a busy machine may let an auth time out: try again
                    try:
                        return await self.open(user)
                    except (ConnectionError, asyncio.TimeoutError, OSError):
                        if attempt == 4:
                            raise
                        await asyncio.sleep(1 + attempt)
                raise AssertionError("unreachable")

        clients = dict(zip(self.part.users, await asyncio.gather(*(one(u) for u in self.part.users))))
        while time.monotonic_ns() - self.last_frame < 0.5e9:  # setup chatter (presence) settles
            await asyncio.sleep(0.1)
        self.pipe.send(("ready", len(clients)))
        loop = asyncio.get_running_loop()
        while True:
            command, args = await loop.run_in_executor(None, self.pipe.recv)
            if command == "stop":
                break
            kinds, t0, seconds = args
            self.lat = {"big": array("q"), "small": array("q")}
            self.received, self.sent = {}, {}
            self.measuring = True
            end = t0 + int(seconds * 1e9)
            active = [(user, room, rate) for user, (room, rate) in self.part.senders.items()
                      if ("big" if room == BIG else "small") in kinds]
            await asyncio.gather(*(self.send_at(clients[u], room, rate, t0, end, i / max(1, len(active)))
                                   for i, (u, room, rate) in enumerate(active)))
            self.pipe.send(("sent", self.sent))
            await loop.run_in_executor(None, self.pipe.recv)  # "drain": wait until told
            quiet_since = time.monotonic()
            seen = sum(self.received.values())
            while time.monotonic() - quiet_since < 1.0:
                await asyncio.sleep(0.1)
                if sum(self.received.values()) != seen:
                    seen, quiet_since = sum(self.received.values()), time.monotonic()
            self.measuring = False
            self.pipe.send(("result", {"received": self.received, "lat": {k: list(v) for k, v in self.lat.items()}}))
        for client in clients.values():
            client.close()


def _clients_main(part: Part, pipe: Connection) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(Clients(part, pipe).run())


def _idle_rate(server: Any, seconds: float = 2.0) -> float:
    """The server's CPU per second with everyone connected and nobody talking (pings, sweeps)."""
    cpu0, t0 = server.cpu_s(), time.monotonic()
    time.sleep(seconds)
    return (server.cpu_s() - cpu0) / (time.monotonic() - t0)


def _phase(pipes: list[Connection], server: Any, layout: Layout, kinds: tuple[str, ...], idle: float) -> dict[str, Any]:
    members = {room: len(users) for room, users in layout.members().items()}
    t0 = time.monotonic_ns() + int(0.3e9)
    cpu0 = server.cpu_s()
    for pipe in pipes:
        pipe.send(("go", (kinds, t0, layout.seconds)))
    sent: dict[str, int] = {}
    for pipe in pipes:
        for room, n in pipe.recv()[1].items():
            sent[room] = sent.get(room, 0) + n
    for pipe in pipes:
        pipe.send(("drain", None))
    received: dict[str, int] = {}
    lat: dict[str, list[int]] = {"big": [], "small": []}
    for pipe in pipes:
        result = pipe.recv()[1]
        for room, n in result["received"].items():
            received[room] = received.get(room, 0) + n
        for k, values in result["lat"].items():
            lat[k] += values
    wall = (time.monotonic_ns() - t0) / 1e9
    cpu = max(0.0, server.cpu_s() - cpu0 - idle * wall)
    expected = sum(n * members[room] for room, n in sent.items())
    delivered = sum(received.values())
    row: dict[str, Any] = {
        "phase": "+".join(kinds), "messages": sum(sent.values()),
        "big_messages": sent.get(BIG, 0), "small_messages": sum(n for r, n in sent.items() if r != BIG), "deliveries": delivered, "lost": expected - delivered,
        "deliv_per_s": delivered / layout.seconds, "srv_cpu_s": cpu, "srv_us_per_delivery": cpu / max(1, delivered) * 1e6,
        "wall_s": wall, "load": os.getloadavg()[0],
    }
    for k, values in lat.items():
        if values:
            row[k] = percentiles([array("q", values)])
    return row


def run(layout: Layout) -> list[dict[str, Any]]:
    async def prepare(data_dir: str) -> None:
        await _seed(f"sqlite:///{Path(data_dir) / 'agentchat.db'}", layout)

    server = start_server("agentchat", prepare=lambda d: asyncio.run(prepare(d)))
    try:
        users = {user: room for room, members in layout.members().items() for user in members}
        senders = layout.senders()
        parts = [Part(server.port, {u: r for u, r in users.items() if u in senders}, senders),
                 Part(server.port, {u: r for u, r in users.items() if u not in senders})]
        ctx = mp.get_context("spawn")
        pipes, procs = [], []
        for part in parts:
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_clients_main, args=(part, theirs), daemon=True)
            proc.start()
            pipes.append(mine)
            procs.append(proc)
        for pipe in pipes:
            kind, n = pipe.recv()
            assert kind == "ready", kind
        idle = _idle_rate(server)
        rows = [_phase(pipes, server, layout, kinds, idle) for kinds in (("big",), ("small",), ("big", "small"))]
        for pipe in pipes:
            pipe.send(("stop", None))
        for proc in procs:
            proc.join(10)
        return rows
    finally:
        server.stop()


def cost_model(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Server CPU = a x messages + b x deliveries, solved from the two rooms talking alone; then
    the prediction for both at once against what was measured.  If routing cost grew with every
    connection rather than with the recipients, a small room's message would not fit this model."""
    big, small, both = rows
    m1, d1, c1 = big["messages"], big["deliveries"], big["srv_cpu_s"]
    m2, d2, c2 = small["messages"], small["deliveries"], small["srv_cpu_s"]
    det = m1 * d2 - m2 * d1
    if not det:
        return {}
    a = (c1 * d2 - c2 * d1) / det
    b = (m1 * c2 - m2 * c1) / det
    predicted = a * both["messages"] + b * both["deliveries"]
    return {"us_per_message": a * 1e6, "us_per_delivery": b * 1e6, "both_predicted_cpu_s": predicted,
            "both_measured_cpu_s": both["srv_cpu_s"]}


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| phase | messages | deliveries/s | lost | big room p50 / p99 ms | small rooms p50 / p99 ms "
            "| server us per delivery | load |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    lines = [head]
    for r in rows:
        def cell(k: str) -> str:
            return f"{r[k]['p50_ms']:.1f} / {r[k]['p99_ms']:.1f}" if k in r else "–"
        lines.append(f"| {r['phase']} | {r['messages']} | {r['deliv_per_s']:,.0f} | {r['lost']} | {cell('big')} "
                     f"| {cell('small')} | {r['srv_us_per_delivery']:.1f} | {r['load']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rooms", description=__doc__.splitlines()[0])
    for name, value in asdict(Layout()).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    args = parser.parse_args(argv)
    layout = Layout(**{k: getattr(args, k) for k in asdict(Layout())})
    rows = run(layout)
    model = cost_model(rows)
    print(table(rows))
    if model:
        print(f"\nserver CPU = {model['us_per_message']:.0f} us per message + {model['us_per_delivery']:.1f} us per "
              f"delivery; both at once: predicted {model['both_predicted_cpu_s']:.2f} s, measured "
              f"{model['both_measured_cpu_s']:.2f} s")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "rooms.json").write_text(json.dumps({"layout": asdict(layout), "rows": rows, "model": model}, indent=2))


if __name__ == "__main__":
    main()
