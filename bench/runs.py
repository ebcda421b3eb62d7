"""Does storing every run event slow the chat?  ``python -m bench.runs``

A real ``python -m server`` (SQLite in a temp dir, or PostgreSQL with ``--pg``), 20 watchers
connected, and one person measuring the round trip of a chat message (sent every 100 ms, timed
until its own copy comes back).  Measured three ways: no agent running; agents streaming runs
at a steady rate of AG-UI events (each one stored, in batches, before it is broadcast); and
the same with every event's delivery timed (agent sends -> a watcher receives).  Prints a table
and writes ``bench/results/runs.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import psutil
import websockets
from agentchat_client.protocol import MessageType, client_frame

from server.auth import issue_token

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
SECRET = "bench-secret-0123456789abcdef0123456789abcdef"
WATCHERS = 20
SAMPLES = 150


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data: Path, database_url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "AGENTCHAT_PORT": str(port), "AGENTCHAT_DATA_DIR": str(data), "AGENTCHAT_JWT_SECRET": SECRET,
           "AGENTCHAT_AGENTS_ENABLED": "false", "AGENTCHAT_RESPONSE_DELAY_SECONDS": "0",
           "AGENTCHAT_MAX_MESSAGES_PER_HOUR": "1000000", "AGENTCHAT_LOG_LEVEL": "WARNING",
           "AGENTCHAT_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "server"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


async def connect(url: str, user: str, role: str = "developer") -> Any:
    ws = await websockets.connect(url, max_size=None)
    await ws.send(client_frame(MessageType.AUTH, {"userId": user, "token": issue_token(SECRET, user, role)}).decode())
    while True:
        frame = orjson.loads(await ws.recv())
        if frame["type"] == "history":
            return ws


async def drain(ws: Any, on_frame: Any = None) -> None:
    try:
        async for raw in ws:
            if on_frame is not None:
                on_frame(orjson.loads(raw))
    except websockets.ConnectionClosed:
        pass


async def chat_round_trips(url: str) -> list[float]:
    ws = await connect(url, "pinger")
    waiting: dict[str, float] = {}
    times: list[float] = []

    def seen(frame: dict[str, Any]) -> None:
        if frame["type"] == "message":
            sent = waiting.pop(str(frame["data"].get("clientId")), None)
            if sent is not None:
                times.append((time.perf_counter() - sent) * 1000)

    reader = asyncio.create_task(drain(ws, seen))
    for n in range(SAMPLES):
        client_id = f"p{n}"
        waiting[client_id] = time.perf_counter()
        await ws.send(client_frame(MessageType.MESSAGE, {"id": client_id, "text": f"ping {n}"}).decode())
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)
    reader.cancel()
    await ws.close()
    return times


async def agent_load(url: str, name: str, rate: float, stop: asyncio.Event, sent_at: dict[tuple[str, int], float],
                     counter: list[int]) -> None:
    """Runs back to back, each a few steps and tool calls and a streamed answer, at ``rate`` events/s."""
    ws = await connect(url, name, "agent")
    reader = asyncio.create_task(drain(ws))
    interval = 1.0 / rate
    run = 0
    while not stop.is_set():
        run += 1
        run_id = f"run-{name}-{run}"
        events = [{"type": "RUN_STARTED", "threadId": "general", "runId": run_id},
                  {"type": "STEP_STARTED", "stepName": "work"},
                  {"type": "TOOL_CALL_START", "toolCallId": "t", "toolCallName": "read"},
                  {"type": "TOOL_CALL_ARGS", "toolCallId": "t", "delta": '{"file": "a.csv"}'},
                  {"type": "TOOL_CALL_END", "toolCallId": "t"},
                  {"type": "TOOL_CALL_RESULT", "messageId": "r", "toolCallId": "t", "content": "3 rows"},
                  {"type": "STEP_FINISHED", "stepName": "work"},
                  {"type": "TEXT_MESSAGE_START", "messageId": "m", "role": "assistant"}]
        events += [{"type": "TEXT_MESSAGE_CONTENT", "messageId": "m", "delta": f"word {i} "} for i in range(40)]
        events += [{"type": "TEXT_MESSAGE_END", "messageId": "m"},
                   {"type": "RUN_FINISHED", "threadId": "general", "runId": run_id}]
        for seq, event in enumerate(events, start=1):
            sent_at[(run_id, seq)] = time.perf_counter()
            await ws.send(client_frame(MessageType.AGENT_EVENT, {"runId": run_id, "event": event}).decode())
            counter[0] += 1
            await asyncio.sleep(interval)
            if stop.is_set() and seq > 1 and events[-1] is not event:
                continue
    reader.cancel()
    await ws.close()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(url: str, rate: float, agents: int, server: psutil.Process) -> dict[str, Any]:
    watchers = [await connect(url, f"w{i}") for i in range(WATCHERS)]
    delivered: list[float] = []
    sent_at: dict[tuple[str, int], float] = {}

    def timed(frame: dict[str, Any]) -> None:
        if frame["type"] == "agent_event":
            began = sent_at.pop((frame["data"]["runId"], frame["data"]["seq"]), None)
            if began is not None:
                delivered.append((time.perf_counter() - began) * 1000)

    readers = [asyncio.create_task(drain(ws, timed if i == 0 else None)) for i, ws in enumerate(watchers)]
    stop = asyncio.Event()
    counter = [0]
    loads = [asyncio.create_task(agent_load(url, f"agent{i}", rate / agents, stop, sent_at, counter))
             for i in range(agents)] if rate else []
    await asyncio.sleep(1.0 if rate else 0)
    began, count0 = time.perf_counter(), counter[0]
    cpu0 = server.cpu_times()
    trips = await chat_round_trips(url)
    elapsed, events = time.perf_counter() - began, counter[0] - count0
    cpu1 = server.cpu_times()
    server_cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / elapsed * 100
    stop.set()
    await asyncio.gather(*loads, return_exceptions=True)
    for task in readers:
        task.cancel()
    for ws in watchers:
        await ws.close()
    return {
        "eventsPerSecond": round(events / elapsed) if rate else 0,
        "chatP50": round(statistics.median(trips), 2), "chatP95": round(pct(trips, 0.95), 2),
        "chatP99": round(pct(trips, 0.99), 2), "chatSamples": len(trips),
        "eventP50": round(statistics.median(delivered), 2) if delivered else None,
        "eventP95": round(pct(delivered, 0.95), 2) if delivered else None,
        "eventsTimed": len(delivered),
        "serverCpu": round(server_cpu),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.runs", description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default="", help="a PostgreSQL URL to use instead of SQLite")
    parser.add_argument("--rates", default="0,100,400", help="AG-UI events per second from the agents")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(Path(tmp), args.pg)
        url = f"ws://127.0.0.1:{port}/ws"
        try:
            for rate in [float(r) for r in args.rates.split(",")]:
                result = asyncio.run(measure(url, rate, agents=4 if rate else 0, server=psutil.Process(proc.pid)))
                result["rate"] = rate
                rows.append(result)
                print(json.dumps(result), flush=True)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
    backend = "postgresql" if args.pg else "sqlite"
    print(f"\n{backend}, {WATCHERS} watchers, chat round trip (ms) while agents stream runs")
    print("| events/s asked | events/s sent | chat p50 | chat p95 | chat p99 | event delivery p50 | p95 | server CPU % |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['rate']:.0f} | {r['eventsPerSecond']} | {r['chatP50']} | {r['chatP95']} | {r['chatP99']} | "
              f"{r['eventP50'] if r['eventP50'] is not None else '-'} | {r['eventP95'] if r['eventP95'] is not None else '-'} "
              f"| {r['serverCpu']} |")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"runs-{backend}.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
