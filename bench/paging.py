"""Paging cost against table size (issue 3): ``python -m bench.paging``.

Fills the ``messages`` table of a real ``SqlStore`` (the server's own schema, migrations and
FTS triggers) to 10^4 and then 10^6 rows, in bulk with plain SQL ``executemany`` through
``store.engine``, and times ``store.history(before_id, 50)``: the newest page, pages at
random depths, and a walk back page by page.  Index-backed paging costs the same at both
sizes; a scan would cost ~100x more at 10^6.  Runs on SQLite (a temp file) and, when it
answers, PostgreSQL on 127.0.0.1:5432 in a scratch schema that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from server.store.sql import SqlStore

RESULTS = Path(__file__).resolve().parent / "results"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
PAGE = 50
CALLS = 200
CHUNK = 20_000

INSERT = text(
    "INSERT INTO messages (kind, sender, text, mentions, reply_to, is_command, agent_status, attachments,"
    " client_id, stream_id, extra, created_at) VALUES ('message', :sender, :text, '[]', NULL, :cmd, NULL,"
    " '[]', NULL, NULL, '{}', :created_at)"
)
WORDS = "deploy review login build test merge fix ship agent task docs bench".split()


def fill(store: SqlStore, start: int, stop: int) -> float:
    """Insert rows start..stop-1 in chunks; returns seconds taken."""
    began = time.perf_counter()
    epoch = datetime(2025, 1, 1, tzinfo=timezone.utc)
    sqlite = store.dialect == "sqlite"
    rng = random.Random(start)
    with store.engine.begin() as conn:
        for lo in range(start, stop, CHUNK):
            rows = []
            for i in range(lo, min(stop, lo + CHUNK)):
                moment = epoch + timedelta(seconds=i)
                rows.append(
                    {
                        "sender": f"user{i % 50}",
                        "text": f"message {i}: {rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(WORDS)}",
                        "cmd": False,
                        "created_at": moment.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else moment,
                    }
                )
            conn.execute(INSERT, rows)
    return time.perf_counter() - began


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 3),
    }


async def measure(store: SqlStore, rows: int) -> dict[str, Any]:
    rng = random.Random(rows)
    for _ in range(20):  # warm the pools, caches and statement cache
        await store.history(None, PAGE)

    async def timed(before: int | None) -> tuple[float, list[Any]]:
        t = time.perf_counter()
        page, _ = await store.history(before, PAGE)
        return time.perf_counter() - t, page

    newest = [(await timed(None))[0] for _ in range(CALLS)]
    deep = [(await timed(rng.randint(PAGE + 1, rows)))[0] for _ in range(CALLS)]
    walk, before, seen = [], None, 0
    for _ in range(CALLS):
        took, page = await timed(before)
        walk.append(took)
        seen += len(page)
        before = page[0].id
    assert seen == CALLS * PAGE, "a page came back short"
    return {"newest": _ms(newest), "random_depth": _ms(deep), "walk_back": _ms(walk)}


def plan(store: SqlStore) -> str:
    """The database's own plan for the history query: it must use the primary key."""
    with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            rows = conn.execute(text("EXPLAIN QUERY PLAN SELECT * FROM messages WHERE id < 500000 ORDER BY id DESC LIMIT 51"))
            return "; ".join(str(r[-1]) for r in rows)
        rows = conn.execute(text("EXPLAIN SELECT * FROM messages WHERE id < 500000 ORDER BY id DESC LIMIT 51"))
        return "; ".join(str(r[0]).strip() for r in rows)


async def run_backend(name: str, url: str, sizes: list[int]) -> list[dict[str, Any]]:
    store = SqlStore(url)
    await store.start()
    out = []
    try:
        have = 0
        for size in sizes:
            took = await asyncio.get_running_loop().run_in_executor(None, fill, store, have, size)
            have = size
            if store.dialect == "postgresql":
                with store.engine.begin() as conn:
                    conn.execute(text("ANALYZE messages"))
            figures = await measure(store, size)
            out.append({"backend": name, "rows": size, "fill_s": round(took, 1), **figures, "plan": plan(store)})
            print(f"  {name:10} {size:>9,} rows (filled in {took:5.1f} s): "
                  + ", ".join(f"{k} {v['median_ms']:.2f} ms" for k, v in figures.items()), flush=True)
    finally:
        await store.close()
    return out


def pg_scratch() -> tuple[str, Any] | None:
    """A scratch schema on the local PostgreSQL, or None when it does not answer."""
    schema = f"bench_paging_{os.getpid()}"
    try:
        admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"), connect_args={"connect_timeout": 3})
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # no server here: SQLite only
        print(f"  postgresql skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return None

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    return f"{PG_URL}?options=-csearch_path%3D{schema}", drop


def table(results: list[dict[str, Any]]) -> str:
    head = "| backend | rows | newest page ms (median / p95) | random depth ms | walk back ms | fill s |"
    lines = [head, "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        cells = [f"{r[k]['median_ms']:.2f} / {r[k]['p95_ms']:.2f}" for k in ("newest", "random_depth", "walk_back")]
        lines.append(f"| {r['backend']} | {r['rows']:,} | " + " | ".join(cells) + f" | {r['fill_s']} |")
    by = {(r["backend"], r["rows"]): r for r in results}
    ratios = []
    for backend in dict.fromkeys(r["backend"] for r in results):
        sizes = sorted(n for b, n in by if b == backend)
        if len(sizes) >= 2:
            small, big = by[(backend, sizes[0])], by[(backend, sizes[-1])]
            parts = [f"{k} {big[k]['median_ms'] / small[k]['median_ms']:.2f}x" for k in ("newest", "random_depth", "walk_back")]
            ratios.append(f"- {backend}: median cost at {sizes[-1]:,} / {sizes[0]:,} rows: " + ", ".join(parts))
            ratios.append(f"  plan: `{big['plan']}`")
    return "\n".join(lines + [""] + ratios)


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    sizes = [int(s) for s in args.rows.split(",")]
    results: list[dict[str, Any]] = []
    if "sqlite" in args.backends:
        with tempfile.TemporaryDirectory(prefix="bench-paging-") as tmp:
            results += await run_backend("sqlite", f"sqlite:///{tmp}/paging.db", sizes)
    if "postgresql" in args.backends:
        scratch = pg_scratch()
        if scratch is not None:
            url, drop = scratch
            try:
                results += await run_backend("postgresql", url, sizes)
            finally:
                drop()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.paging", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000,1000000", help="table sizes, ascending (default 10^4,10^6)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    print(f"paging: history(before_id, {PAGE}) x {CALLS} calls per kind, sizes {args.rows}", flush=True)
    results = asyncio.run(main_async(args))
    md = table(results)
    print()
    print(md)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "paging.json").write_text(json.dumps(results, indent=2))
    (args.out / "paging.md").write_text(md + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
