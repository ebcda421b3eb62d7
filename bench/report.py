"""The table, the ratios against the baselines, and the issue's targets, as text/Markdown/JSON."""

from __future__ import annotations

from typing import Any

__all__ = ["table", "ratios", "markdown"]

COLUMNS: list[tuple[str, str, str]] = [
    # (key, header, format)
    ("scenario", "scenario", "{}"),
    ("server", "server", "{}"),
    ("connected", "conns", "{}"),
    ("connects_per_s", "conn/s", "{:.0f}"),
    ("sent", "sent", "{}"),
    ("deliveries_per_s", "deliv/s", "{:.0f}"),
    ("lost", "lost", "{}"),
    ("p50_ms", "p50 ms", "{:.2f}"),
    ("p95_ms", "p95 ms", "{:.2f}"),
    ("p99_ms", "p99 ms", "{:.2f}"),
    ("max_ms", "max ms", "{:.1f}"),
    ("server_cpu_cores", "srv CPU", "{:.2f}"),
    ("server_cpu_us_per_delivery", "srv us/deliv", "{:.1f}"),
    ("rss_ready_mb", "RSS MB", "{:.1f}"),
    ("rss_per_conn_kb", "KB/conn", "{:.1f}"),
    ("client_cpu_max", "cli CPU", "{:.2f}"),
    ("load_avg", "load", "{:.1f}"),
]


def _cell(row: dict[str, Any], key: str, fmt: str) -> str:
    value = row.get(key)
    if value is None:
        return "-"
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)


def _grid(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    headers = [h for _, h, _ in COLUMNS]
    body = [[_cell(r, k, f) if "error" not in r or k in ("scenario", "server") else "ERR" for k, _, f in COLUMNS] for r in rows]
    return headers, body


def table(rows: list[dict[str, Any]]) -> str:
    headers, body = _grid(rows)
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.rjust(w) for h, w in zip(headers, widths))
    out = [line, "-" * len(line)]
    for b in body:
        out.append("  ".join(c.rjust(w) for c, w in zip(b, widths)))
    return "\n".join(out)


def _get(rows: list[dict[str, Any]], scenario: str, server: str, key: str) -> float | None:
    for r in rows:
        if r["scenario"] == scenario and r["server"] == server and "error" not in r:
            value = r.get(key)
            return float(value) if isinstance(value, (int, float)) else None
    return None


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets, each as a ratio measured in this run, plus informative ratios."""
    checks: list[dict[str, Any]] = []
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))

    def add(what: str, value: float | None, op: str, bound: float | None, note: str = "") -> None:
        met = None
        if value is not None and bound is not None:
            met = value >= bound if op == ">=" else value <= bound
        checks.append({"target": what, "value": value, "op": op, "bound": bound, "met": met, "note": note})

    for s in scenarios:
        if s.startswith("throughput"):
            ac = _get(rows, s, "agentchat", "deliveries_per_s")
            add(f"{s}: deliveries/s agentchat / bare", _ratio(ac, _get(rows, s, "bare", "deliveries_per_s")), ">=", 0.9)
            add(f"{s}: deliveries/s agentchat / original", _ratio(ac, _get(rows, s, "original", "deliveries_per_s")), ">=", None)
            add(
                f"{s}: server CPU per delivery agentchat / bare",
                _ratio(_get(rows, s, "agentchat", "server_cpu_us_per_delivery"),
                       _get(rows, s, "bare", "server_cpu_us_per_delivery")),
                "<=",
                1.1,
                "server process CPU time / deliveries: independent of the client's limit",
            )
        if s.startswith("fanout"):
            p99 = _get(rows, s, "agentchat", "p99_ms")
            add(f"{s}: p99 agentchat / bare", _ratio(p99, _get(rows, s, "bare", "p99_ms")), "<=", 1.5)
            add(f"{s}: p99 agentchat / original", _ratio(p99, _get(rows, s, "original", "p99_ms")), "<=", 1.0,
                "below the original design's (which stores nothing)")
            add(
                f"{s}: server CPU per delivery agentchat / bare",
                _ratio(_get(rows, s, "agentchat", "server_cpu_us_per_delivery"),
                       _get(rows, s, "bare", "server_cpu_us_per_delivery")),
                "<=",
                None,
                "at a fixed rate: includes what an idle server spends (pings, sweeps)",
            )
            add(
                f"{s}: connect+auth rate agentchat / bare",
                _ratio(_get(rows, s, "agentchat", "connects_per_s"), _get(rows, s, "bare", "connects_per_s")),
                ">=",
                None,
            )
        if s.startswith("idle"):
            add(
                f"{s}: RSS per idle connection agentchat / bare",
                _ratio(_get(rows, s, "agentchat", "rss_per_conn_kb"), _get(rows, s, "bare", "rss_per_conn_kb")),
                "<=",
                1.1,
            )
            held = _get(rows, s, "agentchat", "held")
            add(f"{s}: connections held by agentchat", held, ">=", float(_get(rows, s, "agentchat", "clients") or 10_000))
            add(
                f"{s}: connect+auth rate agentchat / bare",
                _ratio(_get(rows, s, "agentchat", "connects_per_s"), _get(rows, s, "bare", "connects_per_s")),
                ">=",
                None,
            )
        if s == "slow-reader":
            add(
                "slow-reader: deliveries/s agentchat / original",
                _ratio(_get(rows, s, "agentchat", "deliveries_per_s"), _get(rows, s, "original", "deliveries_per_s")),
                ">=",
                None,
                "fixed offered load: below 1 only if agentchat falls behind; above 1 when the original stalls",
            )
            for server in ("bare", "original", "agentchat"):
                add(
                    f"slow-reader: others' p99 with / without a slow reader, {server}",
                    _ratio(_get(rows, s, server, "p99_ms"), _get(rows, "slow-ref", server, "p99_ms")),
                    "<=",
                    None,
                )
    busy = [f"{r['scenario']}/{r['server']} {r['client_cpu_max']:.2f}" for r in rows if (r.get("client_cpu_max") or 0) > 0.9]
    add(
        "client processes never the bottleneck (max CPU of any client process < 0.9 core)",
        float(not busy),
        ">=",
        1.0,
        "busiest: " + ", ".join(busy) if busy else "",
    )
    for r in rows:
        if r["server"] == "agentchat":
            lost = r.get("lost_all_runs", r.get("lost"))
            add(f"{r['scenario']}: agentchat messages lost (all runs)", float(lost) if lost is not None else None, "<=", 0.0)
    return checks


def _fmt(v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"


def ratio_lines(checks: list[dict[str, Any]]) -> list[str]:
    out = []
    for c in checks:
        mark = {True: "MET ", False: "MISS", None: "info"}[c["met"]]
        bound = f" (target {c['op']} {_fmt(c['bound'])})" if c["bound"] is not None else ""
        note = f"  [{c['note']}]" if c["note"] else ""
        out.append(f"[{mark}] {c['target']}: {_fmt(c['value'])}{bound}{note}")
    return out


def markdown(rows: list[dict[str, Any]], checks: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    headers, body = _grid(rows)
    lines = [
        f"Run {meta.get('started')} of {meta.get('code')} on {meta.get('machine')}; {meta.get('elapsed_s')} s in all; "
        f"load average {meta.get('load_avg_end')} at the end.",
        "",
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join("---" for _ in headers) + " |",
    ]
    lines += ["| " + " | ".join(b) + " |" for b in body]
    lines += ["", "Targets and ratios (same run):", ""]
    lines += [f"- {line}" for line in ratio_lines(checks)]
    notes = [r for r in rows if r.get("slow") or r.get("error") or r.get("failed")]
    if notes:
        lines += ["", "Notes:", ""]
        for r in notes:
            if r.get("slow"):
                lines.append(f"- {r['scenario']} / {r['server']}: slow reader {r['slow']}")
            if r.get("failed"):
                lines.append(f"- {r['scenario']} / {r['server']}: {r['failed']} connections failed {r.get('connect_errors')}")
            if r.get("error"):
                lines.append(f"- {r['scenario']} / {r['server']}: ERROR {r['error'].splitlines()[0]}")
    return "\n".join(lines) + "\n"
