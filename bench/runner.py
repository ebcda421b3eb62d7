"""Run one scenario against one server: start it, drive the client processes, collect figures."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .loadgen import WorkerSpec, worker_main
from .profiling import Profiler
from .scenarios import Scenario
from .servers import JWT_SECRET, ServerProcess, start_server
from .stats import percentiles

__all__ = ["run_scenario"]

MB = 1024 * 1024


class WorkerPool:
    """Client processes for one run, spoken to over pipes, always cleaned up."""

    def __init__(self, specs: list[WorkerSpec]) -> None:
        ctx = mp.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[mp.process.BaseProcess] = []
        for spec in specs:
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(spec, theirs), daemon=True)
            proc.start()
            self.pipes.append(ours)
            self.procs.append(proc)

    def send(self, kind: str, **data: Any) -> None:
        for pipe in self.pipes:
            pipe.send((kind, data))

    def gather(self, expect: str, timeout_s: float, tick: Any = None) -> list[dict[str, Any]]:
        """One ``expect`` reply from every worker; ``tick()`` runs while waiting."""
        replies: list[dict[str, Any] | None] = [None] * len(self.pipes)
        deadline = time.monotonic() + timeout_s
        while any(r is None for r in replies):
            if time.monotonic() > deadline:
                raise TimeoutError(f"client processes did not report {expect!r} within {timeout_s:.0f} s")
            for i, pipe in enumerate(self.pipes):
                if replies[i] is None and pipe.poll(0.05):
                    kind, data = pipe.recv()
                    if kind == "error":
                        raise RuntimeError(f"client process failed: {data['error']}")
                    if kind != expect:
                        raise RuntimeError(f"expected {expect!r} from a client process, got {kind!r}")
                    replies[i] = data
            if tick is not None:
                tick()
        return [r for r in replies if r is not None]

    def close(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send(("close", {}))
            except OSError:
                pass
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
        for pipe in self.pipes:
            pipe.close()


def _specs(scenario: Scenario, server: ServerProcess) -> list[WorkerSpec]:
    """Senders get a process of their own, receivers are spread over ``scenario.procs`` more.

    A sender sharing an event loop with hundreds of receivers would send late whenever a burst
    of deliveries arrives; on its own it keeps to its schedule (``max_send_lag_ms`` shows it).
    """

    def spec(first: int, count: int, senders: bool, slow: bool) -> WorkerSpec:
        return WorkerSpec(
            host="127.0.0.1",
            port=server.port,
            profile=server.name,
            first=first,
            count=count,
            users=scenario.users,
            jwt_secret=JWT_SECRET,
            senders=list(range(first, first + count)) if senders else [],
            rate=scenario.rate,
            window=scenario.window,
            text_bytes=scenario.text_bytes,
            slow_reader=slow,
        )

    specs = []
    first = 0
    if scenario.senders:
        specs.append(spec(0, scenario.senders, True, False))
        first = scenario.senders
    rest = scenario.clients - first
    procs = max(1, min(scenario.procs, rest)) if rest else 0
    for p in range(procs):
        count = rest // procs + (1 if p < rest % procs else 0)
        specs.append(spec(first, count, False, scenario.slow_reader and p == 0))
        first += count
    return specs


def score(scenario: Scenario, row: dict[str, Any]) -> float:
    """Higher is better: the figure a scenario exists to measure (to keep the best round/run)."""
    if row.get("error"):
        return float("-inf")
    if scenario.closed_loop:
        return row.get("deliveries_per_s") or 0.0
    if scenario.senders:
        return -(row.get("p99_ms") or float("inf"))
    return -(row.get("rss_per_conn_kb") or float("inf"))


def _traffic_round(scenario: Scenario, server: ServerProcess, pool: WorkerPool, last: bool) -> dict[str, Any]:
    """One round: send for ``duration_s``, wait for every message to arrive, count."""
    cpu0, wall0 = server.cpu_s(), time.monotonic()
    t0_ns = time.monotonic_ns() + 300_000_000
    pool.send(
        "go",
        t0_ns=t0_ns,
        duration_s=scenario.duration_s,
        rate=scenario.rate,
        window=scenario.window,
        text_bytes=scenario.text_bytes,
    )
    peak = [server.rss()]

    def sample() -> None:
        peak[0] = max(peak[0], server.rss())

    sent = pool.gather("sent", scenario.duration_s + 60, tick=sample)
    total_sent = sum(r["sent"] for r in sent)
    pool.send("drain", expected=total_sent, timeout_s=scenario.drain_s, last=last)
    results = pool.gather("result", scenario.drain_s + 60, tick=sample)
    cpu1, wall1 = server.cpu_s(), time.monotonic()

    received = [n for r in results for n in r["received"]]
    delivered = sum(received)
    in_window = sum(r["in_window"] for r in results)
    server_cpu = cpu1 - cpu0
    return dict(
        senders=scenario.senders,
        rate=scenario.rate if scenario.rate > 0 else f"closed/{scenario.window}",
        sent=total_sent,
        expected=total_sent * len(received),
        delivered=delivered,
        lost=sum(max(0, total_sent - n) for n in received),
        duplicated=sum(max(0, n - total_sent) for n in received),
        out_of_order=sum(r["out_of_order"] for r in results),
        early=sum(r["early"] for r in results),
        closed_by_server=sum(r["closed"] for r in results),
        close_codes=sorted({c for r in results for c in r["close_codes"]}),
        deliveries_per_s=round(in_window / scenario.duration_s, 1) if scenario.senders else None,
        **percentiles([r["latency_us"] for r in results]),
        server_cpu_cores=round(server_cpu / max(1e-9, wall1 - wall0), 3),
        server_cpu_us_per_delivery=round(server_cpu / delivered * 1e6, 2) if delivered else None,
        rss_peak_mb=round(peak[0] / MB, 2),
        client_cpu_max=round(max(r["cpu_s"] / max(1e-9, r["wall_s"]) for r in results), 3),
        client_procs=len(results),
        max_send_lag_ms=round(max(r["max_lag_ms"] for r in sent), 1),
        slow=next((r["slow"] for r in results if r["slow"] is not None), None),
    )


def run_scenario(scenario: Scenario, server_name: str, profile_dir: Path | None = None) -> dict[str, Any]:
    """Every figure of one (scenario, server) cell of the table; ``profile_dir`` runs py-spy."""
    return run_group([scenario], [server_name], profile_dir)[server_name][0]


class Room:
    """One server with its clients connected: what traffic rounds run on.

    Scenarios that share a room (clients, users, senders) run on the same connections, one after
    the other: connecting 1,000 authenticated clients is the slow part of a run.
    """

    def __init__(self, first: Scenario, server_name: str, profile_dir: Path | None) -> None:
        self.first, self.name, self.profile_dir = first, server_name, profile_dir
        # The 1-minute load average when the room opens: above ~2 on this 2-core machine,
        # someone else's work is competing and the figures are noisier.
        self.base: dict[str, Any] = {
            "server": server_name, "clients": first.clients, "load_avg": round(os.getloadavg()[0], 2)
        }
        self.server: ServerProcess | None = None
        self.pool: WorkerPool | None = None
        self.profiler: tuple[dict[str, Any], str, Profiler] | None = None
        self.error: str | None = None

    def profile(self, phase: str | None = None, into: dict[str, Any] | None = None) -> None:
        """Stop the running py-spy (noting its file in its row) and start the next phase's, if any."""
        if self.profiler is not None:
            target, key, running = self.profiler
            done = running.stop()
            if done is not None:
                target[key] = str(done)
            self.profiler = None
        if self.profile_dir is not None and self.server is not None and phase is not None and into is not None:
            out = self.profile_dir / f"profile-{phase}-{self.name}.txt"
            self.profiler = (into, f"profile_{phase.split('-', 1)[0]}", Profiler(self.server.popen.pid, out))

    def fail(self, exc: BaseException) -> None:
        self.error = f"{type(exc).__name__}: {exc}"
        tail = self.server.log_tail(8) if self.server is not None else ""
        if tail:
            self.error += "\n" + tail

    def open(self) -> None:
        try:
            self.server = server = start_server(self.name)
            time.sleep(0.3)
            rss0 = server.rss()
            self.pool = WorkerPool(_specs(self.first, server))
            self.pool.gather("started", 60)
            self.profile(f"connect-{self.first.name}", self.base)
            self.pool.send("connect")
            ready = self.pool.gather("ready", 180)
            connected = sum(r["connected"] for r in ready)
            connect_s = max(r["connect_s"] for r in ready)
            time.sleep(0.5)
            rss_ready = server.rss()
            self.profile()
            self.base.update(
                connected=connected,
                failed=sum(r["failed"] for r in ready),
                connect_errors=[e for r in ready for e in r["errors"]][:5],
                connect_s=round(connect_s, 3),
                connects_per_s=round(connected / connect_s, 1) if connect_s > 0 else None,
                setup_frames=sum(r["setup_frames"] for r in ready),
                rss_idle_mb=round(rss0 / MB, 2),
                rss_ready_mb=round(rss_ready / MB, 2),
                rss_per_conn_kb=round((rss_ready - rss0) / max(1, connected) / 1024, 2),
            )
        except Exception as exc:
            self.fail(exc)

    def round(self, scenario: Scenario, last: bool) -> dict[str, Any] | None:
        if self.error is not None or self.server is None or self.pool is None:
            return None
        try:
            result = _traffic_round(scenario, self.server, self.pool, last=last)
        except Exception as exc:
            self.fail(exc)
            return None
        if not self.server.alive():
            self.error = "server died:\n" + self.server.log_tail()
        return result

    def row(self, scenario: Scenario, rounds: list[dict[str, Any]]) -> dict[str, Any]:
        row: dict[str, Any] = {"scenario": scenario.name, **self.base}
        if not rounds or self.error is not None:
            row["error"] = self.error or "no round completed"
            return row
        row.update(max(rounds, key=lambda r: score(scenario, r)))
        row.update(
            rounds=len(rounds),
            lost_all_rounds=sum(r["lost"] for r in rounds),
            duplicated_all_rounds=sum(r["duplicated"] for r in rounds),
            out_of_order_all_rounds=sum(r["out_of_order"] for r in rounds),
            early=sum(r["early"] for r in rounds),
            held=row["connected"] - max(r["closed_by_server"] for r in rounds),
            rss_peak_mb=max(r["rss_peak_mb"] for r in rounds),
        )
        return row

    def close(self) -> None:
        self.profile()
        if self.pool is not None:
            self.pool.close()
            self.pool = None
        if self.server is not None:
            self.server.stop()
            self.server = None


def _profiled(name: str, profile_dir: Path | None) -> Path | None:
    """Only AgentChat is profiled: the baselines are what they are."""
    return profile_dir if name.startswith("agentchat") else None


def run_group(
    group: list[Scenario], servers: list[str], profile_dir: Path | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Rows for every scenario of one room on every server, the servers interleaved.

    With traffic, all the servers' rooms are opened first (one after the other, so connect
    rates and RSS are measured alone), then each round runs on each server in turn, the order
    rotating: a burst of someone else's work on this shared machine then hits all three alike
    instead of whichever server happened to be measured at the time.  Rooms without traffic
    (the 10,000 idle connections) and rooms with a slow reader are opened and closed one server
    at a time.
    """
    # A slow reader's room is never left open beside another server's: the megabytes queued in
    # kernel buffers for the stalled client (the original never lets go of its own) would push
    # the kernel's TCP memory accounting and slow down whichever server is measured next.
    interleave = any(s.senders for s in group) and not any(s.slow_reader for s in group)
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in servers}
    rooms: dict[str, Room] = {}
    try:
        if not interleave:
            for name in servers:
                room = rooms[name] = Room(group[0], name, _profiled(name, profile_dir))
                room.open()
                for i, scenario in enumerate(group):
                    done = [r for r in (room.round(scenario, last=i == len(group) - 1),) if r is not None]
                    rows[name].append(room.row(scenario, done))
                room.close()
            return rows
        for name in servers:
            rooms[name] = Room(group[0], name, _profiled(name, profile_dir))
            rooms[name].open()
        for i, scenario in enumerate(group):
            per: dict[str, list[dict[str, Any]]] = {name: [] for name in servers}
            holders = {name: {"scenario": scenario.name} for name in servers}  # profile file names
            for name in servers:
                rooms[name].profile(f"traffic-{scenario.name}", holders[name])
            for round_no in range(scenario.rounds):
                last = i == len(group) - 1 and round_no == scenario.rounds - 1
                shift = round_no % len(servers)
                for name in servers[shift:] + servers[:shift]:
                    result = rooms[name].round(scenario, last)
                    if result is not None:
                        per[name].append(result)
            for name in servers:
                rooms[name].profile()
                row = rooms[name].row(scenario, per[name])
                row.update({k: v for k, v in holders[name].items() if k.startswith("profile_")})
                rows[name].append(row)
        return rows
    finally:
        for room in rooms.values():
            room.close()
