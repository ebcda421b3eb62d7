"""The browser path: send -> visible, in other tabs and in your own, and memory per open tab.
``python -m bench.browser [--tabs 5 --samples 60 --memory-tabs 100 --history 100000]``

The whole stack as a person uses it: the companion server (``python -m server``, SQLite with
``--history`` messages seeded straight through the store before it starts), the Reflex app
(``reflex run --env prod --single-port``, built in ``.tools/web-e2e`` like the browser tests)
and Debian's Chromium driven by Playwright.

- **Latency**: ``--tabs`` people, each in a browser context of their own, signed up through the
  app's own form route.  Every page gets a ``MutationObserver`` that notes when a text first
  appears in the DOM, and a capture-phase ``keydown`` listener that notes when Enter was pressed
  in the composer.  People take turns typing a unique text and, ``--pause`` seconds later (as a
  person does: the typing notice goes out while they type, not with the message), pressing
  Enter; the time from that key press to the text appearing is measured in the sender's own tab
  (*own*) and in every other tab (*others*).  All tabs share one clock
  (``performance.timeOrigin + now()``).  The bench waits on a promise in each page rather than
  polling them, so its own calls take no CPU from the pages it measures.
- **CPU per message sent**: CPU seconds of the chat server, the Reflex app and all of
  Chromium's processes over the latency run, and each tab's main-thread task time (Chrome's
  ``TaskDuration``), divided by the messages sent: a change's cost shows even when the
  machine's queueing hides it in the latencies.
- **Memory**: the Reflex backend's RSS (every Python process under ``reflex run``) with no tab
  open, then with ``--memory-tabs`` tabs open and connected (each a different person), then
  again after they closed; per tab = the difference / tabs.

Prints a table and writes ``bench/results/browser.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

from .servers import REPO, free_port, process_cpu
from .stats import percentiles

RESULTS = Path(__file__).resolve().parent / "results"
CHROMIUM = os.environ.get("AGENTCHAT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows"]
SECRET = "browser-bench-secret-" + "x" * 40
PASSWORD = "correct horse battery staple"
PLACEHOLDER = "Type a message... Use @username to mention someone"
WATCH = """() => {
  if (window.__bench) return;
  window.__bench = true; window.__seen = {}; window.__sent = {}; const waiting = {};
  const now = () => performance.timeOrigin + performance.now();
  const note = (text) => {
    if (!text || text.indexOf('pb-') < 0) return;
    const t = now(); const re = /pb-\\d+-\\d+x/g; let m;
    while ((m = re.exec(text))) if (!(m[0] in window.__seen)) {
      window.__seen[m[0]] = t;
      (waiting[m[0]] || []).forEach((done) => done(t));
    }
  };
  // Resolves when the text has appeared (or with null after ms): the bench waits on this
  // instead of polling every page, which took CPU from the pages it measured.
  window.__waitSeen = (token, ms) => new Promise((done) => {
    if (token in window.__seen) return done(window.__seen[token]);
    (waiting[token] = waiting[token] || []).push(done);
    setTimeout(() => done(null), ms);
  });
  // Only text inside a message of the log counts (the composer may mirror what is typed), or
  // the sender's own copy drawn the moment it is sent (.local-echo-item, agentchat_send.js).
  const SHOWN = '.message, .local-echo-item';
  const inMessage = (n) => {
    const el = n.nodeType === 1 ? n : n.parentElement;
    return el && (el.closest(SHOWN) || (el.querySelector && el.querySelector(SHOWN)));
  };
  const messageText = (n) => {
    const el = n.nodeType === 1 ? n : n.parentElement;
    if (!el) return '';
    if (el.closest(SHOWN)) return el.closest(SHOWN).textContent;
    return Array.from(el.querySelectorAll(SHOWN)).map((m) => m.textContent).join(' ');
  };
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'characterData' && inMessage(r.target)) note(messageText(r.target));
      for (const n of r.addedNodes) if (inMessage(n)) note(messageText(n));
    }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
  document.addEventListener('keydown', (e) => {
    const box = e.target;
    if (e.key === 'Enter' && !e.shiftKey && box && box.placeholder && box.placeholder.startsWith('Type a message')) {
      const m = /pb-\\d+-\\d+x/.exec(box.value || '');
      if (m) window.__sent[m[0]] = now();
    }
  }, true);
}"""


WIRE = """(() => {
  // When the page's own socket (Reflex's) sent or received a frame holding a token: splits the
  // time into browser -> app, app -> chat server -> app, and app -> screen.
  window.__wireIn = {}; window.__wireOut = {};
  const now = () => performance.timeOrigin + performance.now();
  const note = (book, data) => {
    if (typeof data !== 'string' || data.indexOf('pb-') < 0) return;
    const t = now(); const re = /pb-\\d+-\\d+x/g; let m;
    while ((m = re.exec(data))) if (!(m[0] in book)) book[m[0]] = t;
  };
  const Native = window.WebSocket;
  const send = Native.prototype.send;
  // Out: the frame of the send event itself (typing earlier sent the draft, token and all).
  Native.prototype.send = function (data) {
    if (typeof data === 'string' && data.indexOf('chat_state.send"') >= 0) note(window.__wireOut, data);
    return send.call(this, data);
  };
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', (e) => note(window.__wireIn, e.data));
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})()"""


def wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited ({proc.returncode}) before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status < 500:
                    return
        except Exception:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


async def seed(url: str, count: int) -> float:
    """``count`` messages in ``general`` through the store's own writer (batched commits)."""
    from server.store import Message, open_store

    store = open_store(url)
    await store.start()
    started = time.monotonic()
    try:
        for first in range(0, count, 2000):
            await asyncio.gather(*(store.append(Message(f"seed{i % 10}", f"history message {i}"))
                                   for i in range(first, min(count, first + 2000))))
    finally:
        await store.close()
    return time.monotonic() - started


def backend_rss(app: subprocess.Popen[bytes]) -> int:
    """RSS of every Python process under ``reflex run`` (the backend; the frontend is prebuilt)."""
    total = 0
    try:
        procs = [psutil.Process(app.pid), *psutil.Process(app.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in procs:
        try:
            if "python" in p.name() or "reflex" in " ".join(p.cmdline()[:2]):
                total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


class Stack:
    def __init__(self, history: int) -> None:
        self.work = Path(tempfile.mkdtemp(prefix="agentchat-browser-bench-"))
        self.history = history
        self.server: subprocess.Popen[bytes] | None = None
        self.app: subprocess.Popen[bytes] | None = None
        self.seed_s = 0.0

    def start(self) -> None:
        data = self.work / "data"
        data.mkdir()
        self.seed_s = asyncio.run(seed(f"sqlite:///{data / 'agentchat.db'}", self.history))
        server_port, app_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTCHAT_")}
        env.update({
            "AGENTCHAT_DATA_DIR": str(data), "AGENTCHAT_UPLOAD_DIR": str(data / "uploads"),
            "AGENTCHAT_JWT_SECRET": SECRET, "AGENTCHAT_ALLOWED_ORIGINS": "*", "AGENTCHAT_HOST": "127.0.0.1",
            "AGENTCHAT_PORT": str(server_port), "AGENTCHAT_SERVER_URL": f"ws://127.0.0.1:{server_port}/ws",
            "AGENTCHAT_RESPONSE_DELAY_SECONDS": "0", "AGENTCHAT_MAX_MESSAGES_PER_HOUR": "1000000",
            "AGENTCHAT_MAX_CONNECTIONS_PER_ADDRESS": "100000",
            "REFLEX_USE_SYSTEM_BUN": "1", "REFLEX_WEB_WORKDIR": str(REPO / ".tools" / "web-e2e"),
            "REFLEX_TELEMETRY_ENABLED": "false", "PYTHONUNBUFFERED": "1",
        })
        bun_bin = REPO / ".tools" / "bun" / "node_modules" / ".bin"
        env["PATH"] = f"{bun_bin}:{REPO / '.venv' / 'bin'}:{env.get('PATH', '')}"
        self.base_url = f"http://127.0.0.1:{app_port}"
        self.server = subprocess.Popen([sys.executable, "-m", "server", "--port", str(server_port)], cwd=REPO, env=env,
                                       stdout=(self.work / "server.log").open("wb"), stderr=subprocess.STDOUT,
                                       start_new_session=True)
        wait_http(f"http://127.0.0.1:{server_port}/healthz", 120, self.server)
        self.app = subprocess.Popen(
            [str(REPO / ".venv" / "bin" / "reflex"), "run", "--env", "prod", "--single-port", "--frontend-port",
             str(app_port), "--backend-host", "127.0.0.1"],
            cwd=REPO, env=env, stdout=(self.work / "app.log").open("wb"), stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_http(f"{self.base_url}/ping", 900, self.app)
        wait_http(f"{self.base_url}/login", 120, self.app)

    def close(self, keep: bool) -> None:
        stop(self.app)
        stop(self.server)
        if keep:
            print(f"logs kept in {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def open_person(browser: Any, base_url: str, name: str) -> tuple[Any, Any]:
    """A new person: own context, signed up through the app's form route, chat page connected."""
    from playwright.sync_api import expect

    context = browser.new_context(base_url=base_url, viewport={"width": 1100, "height": 800})
    answer = context.request.post("/auth/sign-up", form={"username": name, "password": PASSWORD, "invite": ""},
                                  headers={"Origin": base_url}, max_redirects=0)
    if answer.status not in (302, 303) or "error=" in (answer.headers.get("location") or ""):
        raise RuntimeError(f"sign-up of {name} failed: {answer.status} {answer.headers.get('location')}")
    context.add_init_script(WIRE)
    page = context.new_page()
    page.goto("/")
    expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible(timeout=120_000)
    page.evaluate(WATCH)
    return context, page


def stack_processes(stack: Stack) -> dict[str, list[psutil.Process]]:
    """Who shares the cores: the chat server, the Reflex backend and the browser's processes."""
    def tree(proc: subprocess.Popen[bytes] | None) -> list[psutil.Process]:
        if proc is None:
            return []
        root = psutil.Process(proc.pid)
        return [root, *root.children(recursive=True)]

    # This bench's Chromium only: it runs under Playwright's driver, a child of this process.
    browser = [p for p in psutil.Process().children(recursive=True) if p.name().startswith("chrom")]
    return {"server": tree(stack.server), "app": tree(stack.app), "browser": browser}


def main_thread_s(session: Any) -> float:
    """Seconds the tab's main thread spent in tasks (script, style, layout, paint) so far."""
    metrics = session.send("Performance.getMetrics")["metrics"]
    return next(m["value"] for m in metrics if m["name"] == "TaskDuration")


def latency(browser: Any, stack: Stack, tabs: int, samples: int, run: int, pause: float) -> dict[str, Any]:
    people = [open_person(browser, stack.base_url, f"tab{run}x{i}") for i in range(tabs)]
    pages = [page for _, page in people]
    sessions = [context.new_cdp_session(page) for context, page in people]
    for session in sessions:
        session.send("Performance.enable")
    procs = stack_processes(stack)
    cpu_before = {name: process_cpu(group) for name, group in procs.items()}
    tab_before = [main_thread_s(session) for session in sessions]
    own: list[int] = []
    others: list[int] = []
    stages: dict[str, list[int]] = {"key_to_wire_out": [], "wire_out_to_other_wire_in": [],
                                    "other_wire_in_to_screen": []}
    missing = 0
    for i in range(samples):
        sender = pages[i % tabs]
        token = f"pb-{run}-{i}x"
        box = sender.get_by_placeholder(PLACEHOLDER)
        box.fill(f"{token} hello from tab {i % tabs}")
        if pause:
            time.sleep(pause)  # a person types for a while: the typing notice goes out before Enter
        box.press("Enter")
        deadline = time.monotonic() + 20
        seen: list[float | None] = []
        for page in pages:  # one call per page that returns when the text is there: no polling
            left_ms = max(0, int((deadline - time.monotonic()) * 1000))
            seen.append(page.evaluate("([t, ms]) => window.__waitSeen(t, ms)", [token, left_ms]))
        sent = sender.evaluate("(t) => window.__sent[t] ?? null", token)
        if sent is None:
            missing += tabs
            continue
        wire_out = sender.evaluate("(t) => window.__wireOut[t] ?? null", token)
        for k, when in enumerate(seen):
            if when is None:
                missing += 1
                continue
            us = int((when - sent) * 1000)
            (own if pages[k] is sender else others).append(us)
            wire_in = pages[k].evaluate("(t) => window.__wireIn[t] ?? null", token)
            if pages[k] is not sender and wire_in is not None and wire_out is not None:
                stages["wire_out_to_other_wire_in"].append(int((wire_in - wire_out) * 1000))
                stages["other_wire_in_to_screen"].append(int((when - wire_in) * 1000))
        if wire_out is not None:
            stages["key_to_wire_out"].append(int((wire_out - sent) * 1000))
        time.sleep(0.15)
    # CPU per message sent, so a change's cost shows even when the machine hides it in queueing.
    cpu_ms = {name: (process_cpu(group) - cpu_before[name]) * 1000 / samples for name, group in procs.items()}
    cpu_ms["tab_main_thread"] = sum(main_thread_s(session) - before
                                    for session, before in zip(sessions, tab_before)) * 1000 / samples / tabs
    for context, _ in people:
        context.close()
    from array import array

    return {"tabs": tabs, "samples": samples, "missing": missing, "cpu_ms_per_message": cpu_ms,
            "others": percentiles([array("q", others)]), "own": percentiles([array("q", own)]),
            "stages": {name: percentiles([array("q", values)]) for name, values in stages.items()}}


def memory(browser: Any, stack: Stack, tabs: int, run: int) -> dict[str, Any]:
    assert stack.app is not None
    time.sleep(3)
    before = backend_rss(stack.app)
    people = []
    started = time.monotonic()
    for i in range(tabs):
        people.append(open_person(browser, stack.base_url, f"mem{run}x{i}"))
    open_s = time.monotonic() - started
    time.sleep(5)
    with_tabs = backend_rss(stack.app)
    for context, _ in people:
        context.close()
    time.sleep(10)
    after = backend_rss(stack.app)
    return {"tabs": tabs, "rss_before_mb": before / 2**20, "rss_with_tabs_mb": with_tabs / 2**20,
            "rss_after_close_mb": after / 2**20, "per_tab_mb": (with_tabs - before) / tabs / 2**20,
            "open_s": open_s}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.browser", description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, default=5, help="people (tabs) in the latency test")
    parser.add_argument("--samples", type=int, default=60, help="messages sent in the latency test")
    parser.add_argument("--memory-tabs", type=int, default=100, help="tabs open for the memory figure (0: skip)")
    parser.add_argument("--pause", type=float, default=0.5,
                        help="seconds between typing a text and pressing Enter (0: at once, as passes 1-4 did)")
    parser.add_argument("--history", type=int, default=100_000, help="messages seeded before the start")
    parser.add_argument("--keep", action="store_true", help="keep the logs and data")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    stack = Stack(args.history)
    result: dict[str, Any] = {"load_start": os.getloadavg()[0], "pause_s": args.pause}
    try:
        stack.start()
        result["seed_s"] = stack.seed_s
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            warm = open_person(browser, stack.base_url, "warmup")  # first page load compiles/imports
            warm[0].close()
            result["latency"] = latency(browser, stack, args.tabs, args.samples, 1, args.pause)
            if args.memory_tabs:
                result["memory"] = memory(browser, stack, args.memory_tabs, 2)
            browser.close()
    finally:
        stack.close(args.keep)
    result["load_end"] = os.getloadavg()[0]
    lat = result["latency"]
    print(f"history {args.history} messages (seeded in {result['seed_s']:.1f} s); pause {args.pause} s;"
          f" load {result['load_start']:.1f} -> {result['load_end']:.1f}")
    print("| tabs | samples | seen by | p50 ms | p95 ms | p99 ms | max ms |\n| ---: | ---: | --- | ---: | ---: | ---: | ---: |")
    for who in ("others", "own"):
        p = lat[who]
        print(f"| {lat['tabs']} | {lat['samples']} | {who} | {p['p50_ms']} | {p['p95_ms']} | {p['p99_ms']} | {p['max_ms']} |")
    print(f"missing: {lat['missing']}")
    print("where the others' time goes (p50 / p95 ms): " + "; ".join(
        f"{name.replace('_', ' ')} {p['p50_ms']} / {p['p95_ms']}" for name, p in lat["stages"].items()))
    print("CPU per message sent (ms): " + "; ".join(f"{name.replace('_', ' ')} {ms:.1f}"
                                                     for name, ms in lat["cpu_ms_per_message"].items())
          + " (tab main thread: per tab, the others all processes together)")
    if "memory" in result:
        m = result["memory"]
        print(f"Reflex backend RSS: {m['rss_before_mb']:.0f} MB with no tab, {m['rss_with_tabs_mb']:.0f} MB with "
              f"{m['tabs']} tabs ({m['per_tab_mb']:.2f} MB per tab), {m['rss_after_close_mb']:.0f} MB after they closed")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "browser.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
