"""Percentiles and per-run figures computed from what the client processes report."""

from __future__ import annotations

from array import array
from collections.abc import Sequence

__all__ = ["percentiles"]


def percentiles(samples_us: Sequence[array], points: Sequence[float] = (50, 95, 99)) -> dict[str, float | None]:
    """Nearest-rank percentiles and the max, in milliseconds, over every worker's samples."""
    merged = array("q")
    for part in samples_us:
        merged.extend(part)
    if not merged:
        return {**{f"p{int(p)}_ms": None for p in points}, "max_ms": None, "samples": 0}
    ordered = sorted(merged)
    n = len(ordered)
    out: dict[str, float | None] = {}
    for p in points:
        rank = max(1, min(n, int(round(p / 100 * n + 0.5))))
        out[f"p{int(p)}_ms"] = ordered[rank - 1] / 1000
    out["max_ms"] = ordered[-1] / 1000
    out["samples"] = n
    return out
