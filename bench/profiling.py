"""Sample a server under load with py-spy and say where its time goes.

``python -m bench --profile`` attaches ``py-spy record`` to the AgentChat server for each
scenario, writes the raw collapsed stacks next to the results, and prints the functions with
the most samples (inclusive and self), which is what a miss is explained with.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

__all__ = ["Profiler", "summarize"]


def _py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


class Profiler:
    """``py-spy record`` on one pid, GIL-holding samples only, stopped with SIGINT."""

    def __init__(self, pid: int, out: Path, rate: int = 250) -> None:
        self.out = out
        exe = _py_spy()
        self.proc: subprocess.Popen[bytes] | None = None
        if exe is None:
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [exe, "record", "--pid", str(pid), "--format", "raw", "--output", str(out), "--rate", str(rate),
             "--gil", "--nonblocking", "--function"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> Path | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.out if self.out.exists() else None


def summarize(path: Path, top: int = 25) -> str:
    """Top frames by inclusive and self samples from a py-spy raw (collapsed) file."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack or not count_s.isdigit():
            continue
        count = int(count_s)
        total += count
        frames = [f for f in stack.split(";") if f]
        for frame in set(frames):
            inclusive[frame] += count
        if frames:
            own[frames[-1]] += count
    if not total:
        return f"{path.name}: no samples"
    lines = [f"{path.name}: {total} samples (GIL held)", "  inclusive:"]
    lines += [f"    {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    lines.append("  self:")
    lines += [f"    {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines)
