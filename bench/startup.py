"""From a fresh clone to the first page with ``./scripts/run``: cold, then warm.  ``python -m bench.startup``

Clones the repository (the current branch of this checkout) into a temporary directory, then:

- **cold**: no ``.venv``, ``.web`` or ``.tools`` in the clone — ``scripts/run`` creates the
  virtualenv, installs the requirements, installs Bun, builds the frontend and starts the app.
  Package caches (pip's, npm's, Bun's) are whatever this machine has: the report says whether
  pip's cache directory was there;
- **warm**: the same command again in the same clone, everything already installed and built.

Each run ends when ``GET /`` on the app's port answers 200 with HTML and ``/login`` renders in
Chromium (the first page a person sees); the time of each step ``scripts/run`` prints is kept.
Prints a table and writes ``bench/results/startup.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from .servers import REPO, free_port

RESULTS = Path(__file__).resolve().parent / "results"
MARKERS = {
    "== creating virtualenv": "venv",
    "== installing Python requirements": "pip install",
    "frontend_env: installing bun": "bun install",
    "Installing base frontend packages": "frontend packages",
    "Compiling": "compile",
    "Creating Production Build": "production build",
    "App running at": "app running",
    "The frontend is unchanged": "build skipped",
}


def _page_ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
            return answer.status == 200 and b"<html" in answer.read(4096).lower()
    except Exception:
        return False


def _login_renders(port: int) -> bool:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("AGENTCHAT_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/login", timeout=120_000)
            page.get_by_label("Username").wait_for(timeout=120_000)
            return True
        finally:
            browser.close()


def run_once(clone: Path, label: str, timeout_s: float, ports: tuple[int, int]) -> dict[str, Any]:
    """One ``./scripts/run`` on ``ports`` (the app's, the companion server's): the same for cold
    and warm, as a person's second start uses the same port as the first."""
    app_port, server_port = ports
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTCHAT_", "REFLEX_", "VIRTUAL_ENV"))}
    env["PATH"] = ":".join(p for p in env.get("PATH", "").split(":") if "/.venv/" not in p and "/.tools/" not in p)
    env.update(AGENTCHAT_APP_PORT=str(app_port), AGENTCHAT_PORT=str(server_port),
               AGENTCHAT_DATA_DIR=str(clone / "data"), REFLEX_TELEMETRY_ENABLED="false", PYTHONUNBUFFERED="1")
    log_path = clone / f"run-{label}.log"
    steps: dict[str, float] = {}
    started = time.monotonic()
    proc = subprocess.Popen(["./scripts/run"], cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)

    def read() -> None:
        assert proc.stdout is not None
        with open(log_path, "wb") as log:
            for line in proc.stdout:
                log.write(line)
                text = line.decode(errors="replace")
                for marker, step in MARKERS.items():
                    if marker in text and step not in steps:
                        steps[step] = round(time.monotonic() - started, 1)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    first_page = login = None
    try:
        while time.monotonic() - started < timeout_s:
            if proc.poll() is not None:
                break
            if _page_ready(app_port):
                first_page = time.monotonic() - started
                break
            time.sleep(0.25)
        if first_page is not None:
            _login_renders(app_port)
            login = time.monotonic() - started
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return {"run": label, "first_page_s": first_page, "login_rendered_s": login, "steps": steps,
            "exit": proc.returncode, "load": os.getloadavg()[0], "log": str(log_path)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=REPO)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--keep", action="store_true", help="keep the clone")
    args = parser.parse_args(argv)
    branch = subprocess.run(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=args.repo, capture_output=True,
                            text=True, check=True).stdout.strip()
    work = Path(tempfile.mkdtemp(prefix="agentchat-startup-"))
    clone = work / "agentchat"
    subprocess.run(["git", "clone", "-q", "--branch", branch, str(args.repo), str(clone)], check=True)
    pip_cache = Path.home() / ".cache" / "pip"
    caches = {"pip cache present": pip_cache.is_dir(),
              "bun cache present": (Path.home() / ".bun" / "install" / "cache").is_dir(),
              "npm cache present": (Path.home() / ".npm").is_dir()}
    ports = (free_port(), free_port())
    rows = [run_once(clone, "cold", args.timeout, ports), run_once(clone, "warm", args.timeout, ports)]
    print(f"caches: {caches}")
    print("| run | first page (s) | /login rendered (s) | steps (s from start) | load |\n| --- | ---: | ---: | --- | ---: |")
    for r in rows:
        steps = ", ".join(f"{k} {v}" for k, v in r["steps"].items())
        fp = f"{r['first_page_s']:.1f}" if r["first_page_s"] is not None else "never"
        lg = f"{r['login_rendered_s']:.1f}" if r["login_rendered_s"] is not None else "–"
        print(f"| {r['run']} | {fp} | {lg} | {steps} | {r['load']:.1f} |")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps({"caches": caches, "rows": rows}, indent=2))
    if not args.keep:
        subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    main()
